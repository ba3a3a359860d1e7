/**
 * Leaf certificates by host: an LRU of at most `tls.cert_cache_size` entries, each kept
 * 24 h (or until its certificate expires, if sooner). The first requests for a new host
 * share one mint (an in-flight map), so a burst of tunnels to one host signs once.
 *
 * No TLS session cache is kept per host: it would cost memory per entry, and a fresh
 * handshake with the cached leaf costs well under a millisecond (docs/tls.md).
 */
import type LRUCacheClass from 'mnemonist/lru-cache.js'
import type { LeafCredentials } from './leaf-issuer.ts'

// mnemonist 0.40 maps its sub-paths for `require` only, so an ESM import of
// 'mnemonist/lru-cache.js' fails in Bun 1.4.5, and the root ESM index loads every
// structure it has (about 8 MB RSS). Bun resolves this require statically when bundling.
const LRUCache: typeof LRUCacheClass = require('mnemonist/lru-cache.js')

/** The part of `LeafIssuer` the cache needs; tests pass a counting fake. */
export interface LeafMinter {
  issueAsync(host: string): Promise<LeafCredentials>
}

export interface CertCacheOptions {
  /** `tls.cert_cache_size`: most entries kept; 0 keeps none (every tunnel mints). @default 1000 */
  capacity: number
  /** How long a leaf is reused. @default 86_400_000 (24 h) */
  ttlMs?: number
  /** Injectable clock, ms since the epoch. */
  now?: () => number
}

interface CacheEntry {
  credentials: LeafCredentials
  expiresAt: number
}

export const CERT_CACHE_TTL_MS = 86_400_000

export class CertCache {
  #minter: LeafMinter
  #lru: LRUCacheClass<string, CacheEntry> | undefined
  #inFlight = new Map<string, Promise<LeafCredentials>>()
  #ttlMs: number
  #now: () => number

  constructor(minter: LeafMinter, options: CertCacheOptions) {
    this.#minter = minter
    this.#lru = options.capacity > 0 ? new LRUCache(options.capacity) : undefined
    this.#ttlMs = options.ttlMs ?? CERT_CACHE_TTL_MS
    this.#now = options.now ?? Date.now
  }

  /** Entries held, expired ones included until evicted or replaced (for metrics). */
  get size(): number {
    return this.#lru?.size ?? 0
  }

  /** The fast path: a fresh cached leaf for `host`, or undefined. */
  getCached(host: string): LeafCredentials | undefined {
    const entry = this.#lru?.get(host)
    if (!entry || entry.expiresAt <= this.#now()) {
      return undefined
    }
    return entry.credentials
  }

  /** A leaf for `host`: cached, already being minted, or minted now. Rejects with the mint error. */
  issue(host: string): Promise<LeafCredentials> {
    const cached = this.getCached(host)
    if (cached) {
      return Promise.resolve(cached)
    }
    const pending = this.#inFlight.get(host)
    if (pending) {
      return pending
    }
    const minted = this.#mint(host)
    this.#inFlight.set(host, minted)
    return minted
  }

  async #mint(host: string): Promise<LeafCredentials> {
    try {
      const credentials = await this.#minter.issueAsync(host)
      const expiresAt = Math.min(this.#now() + this.#ttlMs, credentials.notAfter)
      this.#lru?.set(host, { credentials, expiresAt })
      return credentials
    } finally {
      this.#inFlight.delete(host)
    }
  }
}
