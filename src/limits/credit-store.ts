import { Database } from 'bun:sqlite'
import type { Statement } from 'bun:sqlite'
import { RoxyError } from '../errors.ts'
import type { CreditKey, CreditRecord, CreditSink } from './credit-ledger.ts'

/**
 * Where credit balances survive a restart (`state.path`, SPEC §2 and §6).
 * The engine writes behind: balances change in memory on every request and
 * reach the store on `flush` (the owner's one-second timer, and shutdown).
 * A crash loses at most the changes since the last flush.
 */
export interface CreditStore extends CreditSink {
  /** Call `visit` for every stored balance (start-up restore). */
  load(visit: (record: CreditRecord) => void): void
  close(): void
}

const SCHEMA_VERSION = 1

/**
 * Credit balances in an embedded SQLite file, one row per (rule, key):
 *
 *   credits(rule, key, used, period_start, period_end, last_access)  -- times in ms, UTC
 *
 * WAL journal with synchronous=NORMAL: a flush is one short transaction, and
 * a power cut may lose the last flushes but never corrupts the file.
 */
export class SqliteCreditStore implements CreditStore {
  readonly path: string
  #db: Database
  #upsert: ReturnType<Database['prepare']>
  #delete: ReturnType<Database['prepare']>
  #selectAll: Statement<CreditRow, []>
  #saveAll: (upserts: CreditRecord[], deletes: CreditKey[]) => void

  constructor(path: string) {
    this.path = path
    this.#db = openDatabase(path)
    this.#upsert = this.#db.prepare(
      `INSERT INTO credits (rule, key, used, period_start, period_end, last_access)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6)
       ON CONFLICT (rule, key) DO UPDATE SET used = ?3, period_start = ?4,
         period_end = ?5, last_access = ?6`,
    )
    this.#delete = this.#db.prepare('DELETE FROM credits WHERE rule = ?1 AND key = ?2')
    this.#selectAll = this.#db.query<CreditRow, []>(
      'SELECT rule, key, used, period_start, period_end, last_access FROM credits',
    )
    this.#saveAll = this.#db.transaction((upserts: CreditRecord[], deletes: CreditKey[]) => {
      for (const d of deletes) {
        this.#delete.run(d.rule, d.key)
      }
      for (const r of upserts) {
        this.#upsert.run(r.rule, r.key, r.used, r.periodStart, r.periodEnd, r.lastAccess)
      }
    })
  }

  load(visit: (record: CreditRecord) => void): void {
    try {
      for (const row of this.#selectAll.iterate()) {
        visit({
          rule: row.rule,
          key: row.key,
          used: row.used,
          periodStart: row.period_start,
          periodEnd: row.period_end,
          lastAccess: row.last_access,
        })
      }
    } catch (err) {
      throw new RoxyError('ROXY_E_STATE_STORE', `cannot read credits from ${this.path}`, {
        cause: err,
      })
    }
  }

  save(upserts: CreditRecord[], deletes: CreditKey[]): void {
    try {
      this.#saveAll(upserts, deletes)
    } catch (err) {
      throw new RoxyError('ROXY_E_STATE_STORE', `cannot write credits to ${this.path}`, {
        cause: err,
      })
    }
  }

  close(): void {
    this.#db.close()
  }
}

interface CreditRow {
  rule: string
  key: string
  used: number
  period_start: number
  period_end: number
  last_access: number
}

/**
 * The store for `state.path`: SQLite at that path, or undefined (memory only)
 * for an empty path or `:memory:`. Throws `ROXY_E_STATE_STORE` naming the path
 * when the file cannot be opened or was written by a newer roxy.
 */
export function openCreditStore(path: string | undefined): CreditStore | undefined {
  if (!path || path === ':memory:') {
    return undefined
  }
  return new SqliteCreditStore(path)
}

function openDatabase(path: string): Database {
  let db: Database | undefined
  try {
    db = new Database(path, { create: true, strict: true })
    db.run('PRAGMA journal_mode = WAL')
    db.run('PRAGMA synchronous = NORMAL')
    db.run('PRAGMA busy_timeout = 1000')
    migrate(db, path)
    return db
  } catch (err) {
    db?.close()
    if (err instanceof RoxyError) {
      throw err
    }
    throw new RoxyError('ROXY_E_STATE_STORE', `cannot open the state store ${path}`, {
      cause: err,
    })
  }
}

function migrate(db: Database, path: string): void {
  const row = db.query<{ user_version: number }, []>('PRAGMA user_version').get()
  const version = row?.user_version ?? 0
  if (version > SCHEMA_VERSION) {
    throw new RoxyError(
      'ROXY_E_STATE_STORE',
      `state store ${path} has schema ${version}, newer than this roxy (${SCHEMA_VERSION})`,
    )
  }
  db.run(
    `CREATE TABLE IF NOT EXISTS credits (
       rule TEXT NOT NULL, key TEXT NOT NULL, used INTEGER NOT NULL,
       period_start INTEGER NOT NULL, period_end INTEGER NOT NULL, last_access INTEGER NOT NULL,
       PRIMARY KEY (rule, key)
     ) WITHOUT ROWID`,
  )
  db.run(`PRAGMA user_version = ${SCHEMA_VERSION}`)
}
