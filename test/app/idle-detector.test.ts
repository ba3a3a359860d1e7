import { describe, expect, test } from 'bun:test'
import { IdleDetector } from '../../src/app/idle-detector.ts'

/**
 * Drives a detector tick by tick. `counts` is the counter's value at each tick
 * (the first value is read at construction); returns the ticks after which
 * onIdle had been called.
 */
function runTicks(counts: number[], idleMs: number, tickMs: number): number[] {
  let i = 0
  const fired: number[] = []
  const detector = new IdleDetector({
    readCount: () => counts[Math.min(i, counts.length - 1)] ?? 0,
    idleMs,
    tickMs,
    onIdle: () => fired.push(i),
    startTimer: () => () => {},
  })
  for (i = 1; i < counts.length; i++) {
    detector.tick()
  }
  return fired
}

describe('an idle detector sampling a request counter', () => {
  test.each([
    ['a proxy quiet from start-up', [0, 0, 0, 0, 0, 0], 3000, [3]],
    ['traffic that never pauses long enough', [0, 1, 1, 2, 2, 3, 3, 4], 3000, []],
    ['traffic, then a quiet spell', [0, 1, 2, 3, 3, 3, 3, 3, 3], 3000, [6]],
    ['two quiet spells', [0, 0, 0, 0, 5, 5, 5, 5, 5], 3000, [3, 7]],
    ['a counter that moves by any amount, even down', [9, 9, 2, 2, 2, 2], 3000, [5]],
    ['an idle time shorter than a tick', [0, 0, 1, 1], 500, [1, 3]],
  ])('should call onIdle once per quiet spell: %s', (_name, counts, idleMs, expected) => {
    expect(runTicks(counts, idleMs, 1000)).toEqual(expected)
  })

  test('should start one timer at the tick period and stop it', () => {
    const started: number[] = []
    let stopped = 0
    const detector = new IdleDetector({
      readCount: () => 0,
      tickMs: 250,
      onIdle: () => {},
      startTimer: (_tick, ms) => {
        started.push(ms)
        return () => stopped++
      },
    })
    detector.start()
    detector.start()
    detector.stop()
    detector.stop()
    expect(started).toEqual([250])
    expect(stopped).toBe(1)
  })

  test('should read the counter from its timer', () => {
    let tick: () => void = () => {}
    let idle = 0
    const detector = new IdleDetector({
      readCount: () => 0,
      idleMs: 2000,
      onIdle: () => idle++,
      startTimer: (fn) => {
        tick = fn
        return () => {}
      },
    })
    detector.start()
    tick()
    expect(idle).toBe(0)
    tick()
    expect(idle).toBe(1)
  })
})
