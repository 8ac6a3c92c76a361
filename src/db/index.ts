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
  /**
   * Subscribes to a NOTIFY channel. `onReady` is called once the subscription is in place (again after
   * each reconnect), `onLost` when it drops: messages sent in between are lost, so a cache fed by them
   * must stop trusting itself from `onLost` until the next `onReady`. Resolves even when the database
   * cannot be reached yet (the subscription keeps trying).
   */
  listen(channel: string, handlers: ListenHandlers): Promise<Listener>
  close(): Promise<void>
}

export interface ListenHandlers {
  onMessage(payload: string): void
  onReady?(): void
  onLost?(err?: Error): void
}

export interface Listener {
  close(): Promise<void>
}

// int8 (counts, sums) as numbers; every value we store fits well within 2^53.
pg.types.setTypeParser(20, (v) => {
  const n = Number(v)
  if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${v} exceeds the safe integer range`)
  return n
})

export interface PostgresOptions {
  max?: number
  onError?: (err: Error) => void
  /** The wait before the n-th attempt (from 0) to restore a dropped LISTEN; by default 100 ms doubling up to 10 s, jittered. */
  listenRetryDelayMs?: (attempt: number) => number
}

const defaultRetryDelay = (attempt: number) => Math.min(10_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2)

export async function openPostgres(url: string, opts: PostgresOptions = {}): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 })
  // An idle connection that dies (server restart, admin termination) must not crash the process:
  // the pool drops it and the next query opens a fresh one.
  pool.on('error', (err) => opts.onError?.(err))
  pool.on('connect', preparesMarkedStatements)
  const ownWrites = hearsOwnNotifications(pool)
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
  return {
    db,
    kind: 'postgres',
    async listen(channel, handlers) {
      const unsubscribe = ownWrites.subscribe(channel, handlers.onMessage)
      const listener = await listenPostgres(url, channel, handlers, opts.listenRetryDelayMs ?? defaultRetryDelay)
      return {
        async close() {
          unsubscribe()
          await listener.close()
        },
      }
    },
    close: () => db.destroy(),
  }
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`

/**
 * A dedicated connection (never one of the pool's) that LISTENs, and on any drop (server restart, admin
 * termination, network) reconnects after `retryDelay(attempt)`.
 */
async function listenPostgres(url: string, channel: string, h: ListenHandlers, retryDelay: (attempt: number) => number): Promise<Listener> {
  let closed = false
  let attempt = 0
  let ready = false
  let timer: NodeJS.Timeout | undefined
  let current: pg.Client | undefined

  const connect = async (): Promise<void> => {
    timer = undefined
    if (closed) return
    const client = new pg.Client({ connectionString: url })
    current = client
    let dropped = false
    const drop = (err?: Error) => {
      if (dropped) return
      dropped = true
      client.removeAllListeners('notification')
      client.end().catch(() => {})
      if (closed) return
      if (ready) h.onLost?.(err)
      ready = false
      timer = setTimeout(() => void connect(), retryDelay(attempt++))
      timer.unref()
    }
    client.on('error', drop)
    client.on('end', () => drop(new Error('LISTEN connection ended')))
    client.on('notification', (n) => {
      if (n.channel === channel) h.onMessage(n.payload ?? '')
    })
    try {
      await client.connect()
      await client.query(`LISTEN ${quoteIdent(channel)}`)
    } catch (err) {
      drop(err as Error)
      return
    }
    if (closed || dropped) return
    attempt = 0
    ready = true
    h.onReady?.()
  }

  await connect()
  return {
    async close() {
      closed = true
      if (timer) clearTimeout(timer)
      await current?.end().catch(() => {})
    },
  }
}

/**
 * A write's own NOTIFY, heard on the connection that made it: every pooled connection LISTENs to the
 * channels this process subscribes to (once, queued ahead of the first query it runs after subscribing),
 * and PostgreSQL delivers a session's own notifications before the COMMIT's answer. So this process
 * forgets what it just changed before that change's request even returns, instead of a moment later when
 * the dedicated listener hears it. Nothing is held: the pool lends and closes its connections as before.
 */
function hearsOwnNotifications(pool: pg.Pool) {
  const subscribers = new Map<string, Set<(payload: string) => void>>()
  const listening = new WeakMap<pg.PoolClient, Set<string>>()
  pool.on('acquire', (client) => {
    if (subscribers.size === 0) return
    let heard = listening.get(client)
    if (!heard) {
      heard = new Set()
      listening.set(client, heard)
      client.on('notification', (n) => {
        for (const fn of subscribers.get(n.channel) ?? []) fn(n.payload ?? '')
      })
    }
    for (const channel of subscribers.keys()) {
      if (heard.has(channel)) continue
      heard.add(channel)
      // Queued before the caller's query; a failure there fails the caller's query too.
      client.query(`LISTEN ${quoteIdent(channel)}`).catch(() => {})
    }
  })
  return {
    subscribe(channel: string, fn: (payload: string) => void) {
      const set = subscribers.get(channel) ?? new Set()
      subscribers.set(channel, set)
      set.add(fn)
      return () => {
        set.delete(fn)
        if (set.size === 0) subscribers.delete(channel)
      }
    },
  }
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
  return {
    db,
    kind: 'pglite',
    // In process: a commit's notifications are handed over before the commit's own query returns. LISTEN
    // goes through the dialect's queue, so it never lands inside another caller's open transaction.
    async listen(channel, h) {
      const unlisten = await db.connection().execute(() => pglite.listen(channel, h.onMessage))
      h.onReady?.()
      return {
        close: () => db.connection().execute(() => unlisten()).catch(() => {}),
      }
    },
    close: () => db.destroy(),
  }
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
