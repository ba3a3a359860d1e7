import { describe, expect, test } from 'bun:test'
import { SlotTable } from '../../src/limits/slot-table.ts'

describe('a slot table', () => {
  test('should hand out zeroed slots and double its array when full', () => {
    const table = new SlotTable(3, 2)
    const slots = [table.allocate(), table.allocate()]
    expect(table.capacity).toBe(2)
    table.data[slots[1] * 3 + 2] = 7
    slots.push(table.allocate())
    expect(slots).toEqual([0, 1, 2])
    expect(table.capacity).toBe(4)
    expect(table.data.length).toBe(12)
    expect(table.data[1 * 3 + 2]).toBe(7)
    expect(table.live).toBe(3)
  })

  test('should reuse released slots, last released first, zeroed again', () => {
    const table = new SlotTable(2, 4)
    for (let i = 0; i < 4; i++) {
      table.data[table.allocate() * 2 + 1] = 9
    }
    table.release(1)
    table.release(3)
    expect(table.live).toBe(2)
    expect([table.allocate(), table.allocate()]).toEqual([3, 1])
    expect(table.data[3 * 2 + 1]).toBe(0)
    expect(table.data[1 * 2]).toBe(0)
    expect(table.capacity).toBe(4)
  })

  test('should shrink on compact and move every live slot with its fields', () => {
    const table = new SlotTable(2, 64)
    const kept = new Map<string, number>()
    for (let i = 0; i < 1000; i++) {
      const slot = table.allocate()
      table.data[slot * 2] = i * 10
    }
    const grown = table.capacity
    for (let slot = 0; slot < 1000; slot++) {
      if (slot % 100 === 0) {
        kept.set(`k${slot * 10}`, slot)
      } else {
        table.release(slot)
      }
    }
    expect(table.isSparse(64)).toBe(true)
    table.compact((move) => {
      for (const [key, slot] of kept) {
        kept.set(key, move(slot))
      }
    })
    expect(grown).toBe(1024)
    expect(table.capacity).toBe(64)
    expect(table.live).toBe(10)
    expect([...kept].map(([key, slot]) => [key, table.data[slot * 2]])).toEqual(
      [...kept.keys()].map((key) => [key, Number(key.slice(1))]),
    )
    expect(table.allocate()).toBe(10)
  })
})
