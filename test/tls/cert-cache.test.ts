import { describe, expect, test } from 'bun:test'
import { CERT_CACHE_TTL_MS, CertCache } from '../../src/tls/cert-cache.ts'
import type { LeafMinter } from '../../src/tls/cert-cache.ts'
import type { LeafCredentials } from '../../src/tls/leaf-issuer.ts'

const FAR_FUTURE = Date.UTC(2100, 0, 1)

/** A minter that counts calls; `hold()` keeps mints pending until `release()`. */
function makeMinter(notAfter = FAR_FUTURE) {
  const minted: string[] = []
  let gate: Promise<void> | undefined
  let open: (() => void) | undefined
  const minter: LeafMinter = {
    async issueAsync(host: string): Promise<LeafCredentials> {
      minted.push(host)
      await gate
      if (host === 'broken.test') {
        throw new Error('mint failed')
      }
      return { host, cert: `cert for ${host} #${minted.length}`, key: 'shared key', notAfter }
    },
  }
  const hold = () => {
    gate = new Promise((resolve) => (open = resolve))
  }
  const release = () => {
    gate = undefined
    open?.()
  }
  return { minter, minted, hold, release }
}

function makeClock(start = Date.UTC(2027, 0, 1)) {
  const clock = { ms: start, now: () => clock.ms }
  return clock
}

describe('CertCache', () => {
  test('should mint once for concurrent first requests to one host', async () => {
    const { minter, minted, hold, release } = makeMinter()
    const cache = new CertCache(minter, { capacity: 10 })
    hold()
    const pending = [cache.issue('a.test'), cache.issue('a.test'), cache.issue('a.test')]
    expect(cache.getCached('a.test')).toBeUndefined()
    release()
    const results = await Promise.all(pending)
    expect(minted).toEqual(['a.test'])
    expect(new Set(results).size).toBe(1)
    expect(cache.getCached('a.test')).toBe(results[0])
    expect(await cache.issue('a.test')).toBe(results[0])
    expect(minted).toHaveLength(1)
  })

  test('should expire entries after the TTL, on the injected clock', async () => {
    const clock = makeClock()
    const { minter, minted } = makeMinter()
    const cache = new CertCache(minter, { capacity: 10, now: clock.now })
    const first = await cache.issue('a.test')
    clock.ms += CERT_CACHE_TTL_MS - 1
    expect(cache.getCached('a.test')).toBe(first)
    clock.ms += 1
    expect(cache.getCached('a.test')).toBeUndefined()
    const second = await cache.issue('a.test')
    expect(second).not.toBe(first)
    expect(minted).toEqual(['a.test', 'a.test'])
    expect(cache.size).toBe(1)
  })

  test('should drop an entry when its certificate expires before the TTL', async () => {
    const clock = makeClock()
    const { minter } = makeMinter(clock.ms + 1000)
    const cache = new CertCache(minter, { capacity: 10, now: clock.now })
    await cache.issue('a.test')
    clock.ms += 1000
    expect(cache.getCached('a.test')).toBeUndefined()
  })

  test('should evict the least recently used host beyond capacity', async () => {
    const { minter } = makeMinter()
    const cache = new CertCache(minter, { capacity: 2 })
    await cache.issue('a.test')
    await cache.issue('b.test')
    cache.getCached('a.test') // a is now the most recent
    await cache.issue('c.test')
    expect(cache.size).toBe(2)
    expect(cache.getCached('a.test')).toBeDefined()
    expect(cache.getCached('b.test')).toBeUndefined()
    expect(cache.getCached('c.test')).toBeDefined()
  })

  test('should keep nothing with capacity 0 and mint every time', async () => {
    const { minter, minted } = makeMinter()
    const cache = new CertCache(minter, { capacity: 0 })
    await cache.issue('a.test')
    await cache.issue('a.test')
    expect(cache.size).toBe(0)
    expect(cache.getCached('a.test')).toBeUndefined()
    expect(minted).toEqual(['a.test', 'a.test'])
  })

  test('should not cache a failed mint, so the next request tries again', async () => {
    const { minter, minted } = makeMinter()
    const cache = new CertCache(minter, { capacity: 10 })
    await expect(cache.issue('broken.test')).rejects.toThrow('mint failed')
    await expect(cache.issue('broken.test')).rejects.toThrow('mint failed')
    expect(minted).toEqual(['broken.test', 'broken.test'])
    expect(cache.size).toBe(0)
  })
})
