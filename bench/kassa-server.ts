/**
 * Kassa as `npm start` runs it (buildApp on the configured database, no job worker, no demo data),
 * in its own process. Env: BENCH_DB (`postgres://…` or `pglite:<dir>`), LOG_LEVEL (default silent),
 * LINK_VISIT_RATE_LIMIT (default 0 here: the bench's 50 connections from one IP would be over Kassa's
 * default 60 a minute per link within seconds, and 429s are not what the new-session runs measure),
 * BENCH_COUNT_SQL=1 (count statements, served on `GET /__bench/sql`; see sql-count.ts). Prints `READY port=<n>` once listening on 127.0.0.1; SIGTERM closes the server and the database.
 */
import { buildApp } from '../src/app'
import { loadConfig } from '../src/config'
import { openPGlite, openPostgres } from '../src/db/index'
import { PUBLIC_URL } from './common'
import { startProfiler, stopProfiler } from './profiler'
import { installSqlCounter, SQL_COUNT_PATH, sqlStatements } from './sql-count'
import './watchdog'

const target = process.env.BENCH_DB
if (!target) throw new Error('BENCH_DB is not set')

const pglite = target.startsWith('pglite:')
const config = loadConfig({
  PORT: '0',
  HOST: '127.0.0.1',
  PUBLIC_URL,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
  ...(pglite ? {} : { DATABASE_URL: target }),
  DEMO_DATA: '0',
  LINK_VISIT_RATE_LIMIT: process.env.LINK_VISIT_RATE_LIMIT ?? '0',
})
installSqlCounter()
const database = pglite ? await openPGlite(target.slice('pglite:'.length)) : await openPostgres(target)
const app = await buildApp({ config, database })
if (process.env.BENCH_COUNT_SQL === '1') app.get(SQL_COUNT_PATH, async () => ({ statements: sqlStatements() }))
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
if (!address || typeof address === 'string') throw new Error('no TCP address')
await startProfiler()
process.stdout.write(`READY port=${address.port}\n`)

let closing = false
process.on('SIGTERM', () => {
  if (closing) return
  closing = true
  void (async () => {
    try {
      await stopProfiler()
      await app.close()
      await database.close()
    } finally {
      process.exit(0)
    }
  })()
})
