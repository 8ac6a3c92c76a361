import { mkdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { ensurePrivateDir } from '../lib/data-dir'
import { Kysely, Migrator, PostgresDialect, sql, type Transaction } from 'kysely'
import pg from 'pg'
import { PGliteDialect } from './pglite-dialect'
import { migrations } from './migrations/index'
import type { DB } from './types'

export type { DB } from './types'
export type Db = Kysely<DB>
/** A handle that runs queries: the database itself or an open transaction. */
export type Executor = Kysely<DB> | Transaction<DB>

export interface Database {
  db: Kysely<DB>
  kind: 'pglite' | 'postgres'
  close(): Promise<void>
}

// int8 (counts, sums) as numbers; every value we store fits well within 2^53.
pg.types.setTypeParser(20, (v) => {
  const n = Number(v)
  if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${v} exceeds the safe integer range`)
  return n
})

export async function openPostgres(url: string, opts: { max?: number; onError?: (err: Error) => void } = {}): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 })
  // An idle connection that dies (server restart, admin termination) must not crash the process:
  // the pool drops it and the next query opens a fresh one.
  pool.on('error', (err) => opts.onError?.(err))
  pool.on('connect', preparesMarkedStatements)
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
  return { db, kind: 'postgres', close: () => db.destroy() }
}

/** SQL that starts with this marker runs as a named prepared statement on PostgreSQL. */
export const preparedMarker = (name: string) => `/* prepare:${name} */`
const MARKER = '/* prepare:'

/**
 * The hot path's read is a large query whose planning costs several times its execution (~0.3 ms
 * against ~0.1 ms): on PostgreSQL, statements marked with `preparedMarker(name)` are prepared once per
 * connection and only executed afterwards. Kysely sends `client.query(text, values)`; the marked ones
 * become `client.query({ name, text, values })`, pg's named prepared statements.
 */
function preparesMarkedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (text: unknown, ...rest: unknown[]) => {
    if (typeof text === 'string' && text.startsWith(MARKER)) {
      const name = text.slice(MARKER.length, text.indexOf(' */'))
      const [values, callback] = rest
      return callback === undefined ? query({ name, text, values }) : query({ name, text, values }, callback)
    }
    return query(text, ...rest)
  }
}

/** The embedded database. `dataDir` undefined means in memory (tests). */
export async function openPGlite(dataDir?: string): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const pglite = await PGlite.create(dataDir)
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) })
  return { db, kind: 'pglite', close: () => db.destroy() }
}

export async function openDatabase(
  config: { databaseUrl: string | undefined; dataDir: string },
  opts: { onError?: (err: Error) => void } = {},
): Promise<Database> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl, opts)
  ensurePrivateDir(config.dataDir)
  return openPGlite(`${config.dataDir}/pglite`)
}

const MIGRATION_LOCK_ID = 72_617_001

/**
 * Brings the schema up to date. On PostgreSQL several processes may start at once: a session-level
 * advisory lock on a dedicated connection lets one migrate while the others wait, then find nothing to do.
 */
export async function migrate(database: Database): Promise<string[]> {
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'kysely_migration',
    migrationLockTableName: 'kysely_migration_lock',
  })
  const run = async () => {
    const { error, results } = await migrator.migrateToLatest()
    if (error) throw error
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
  }
  if (database.kind === 'pglite') return run()
  return database.db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`.execute(conn)
    try {
      return await run()
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.execute(conn)
    }
  })
}
