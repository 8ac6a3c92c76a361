/**
 * The baseline: a bare `node:http` server doing the visit's work with no framework and no query
 * builder: the same one read (the very SQL text of Kassa's `findLinkForVisit`), the same choices, one
 * insert into `checkouts` with the same columns (see visit-sql.ts), a 307 to the checkout page. On
 * `pg` (a pool of 10, as Kassa's `openPostgres`) or on a PGlite instance.
 * The read is a named (prepared) statement on PostgreSQL, as in Kassa; BENCH_BASELINE_PREPARE=0 turns that off.
 * Env: BENCH_DB (`postgres://…` or `pglite:<dir>`), BENCH_COUNT_SQL=1 (see sql-count.ts). Prints `READY port=<n>`; SIGTERM stops it.
 */
import { createServer } from 'node:http'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { LINK_PATH } from './common'
import { INSERT_SQL, sessionValues, visitRead, type LinkForVisit } from './visit-sql'
import { startProfiler, stopProfiler } from './profiler'
import { installSqlCounter, SQL_COUNT_PATH, sqlStatements } from './sql-count'
import './watchdog'

type Query = (text: string, params: unknown[]) => Promise<{ rows: any[] }>

const target = process.env.BENCH_DB
if (!target) throw new Error('BENCH_DB is not set')
installSqlCounter()
let query: Query
let close: () => Promise<void>
if (target.startsWith('pglite:')) {
  const db = await PGlite.create(target.slice('pglite:'.length))
  query = (text, params) => db.query(text, params)
  close = () => db.close()
} else {
  const pool = new pg.Pool({ connectionString: target, max: 10 })
  // Like Kassa, the read runs as a named (prepared) statement, parsed and planned once per connection
  // (BENCH_BASELINE_PREPARE=0 turns it off, to see what preparing is worth).
  const prepare = process.env.BENCH_BASELINE_PREPARE !== '0'
  query = (text, params) => (prepare && text === READ.sql ? pool.query({ name: 'visit_read', text, values: params }) : pool.query(text, params))
  close = () => pool.end()
}
const READ = await visitRead()
const prefix = `${LINK_PATH}/`

async function visit(secret: string, rawQuery: string, ip: string | undefined): Promise<string | null> {
  const link = (await query(READ.sql, READ.params(secret))).rows[0] as LinkForVisit | undefined
  const session = link ? sessionValues(link, rawQuery, ip) : null
  if (!session) return null
  await query(INSERT_SQL, session.values)
  return session.location
}

const server = createServer((req, res) => {
  const url = req.url ?? '/'
  const qi = url.indexOf('?')
  const path = qi < 0 ? url : url.slice(0, qi)
  if (path === SQL_COUNT_PATH && process.env.BENCH_COUNT_SQL === '1') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ statements: sqlStatements() }))
    return
  }
  if (req.method !== 'GET' || !path.startsWith(prefix)) {
    res.writeHead(404).end()
    return
  }
  visit(decodeURIComponent(path.slice(prefix.length)), qi < 0 ? '' : url.slice(qi + 1), req.socket.remoteAddress).then(
    (location) => {
      if (location === null) res.writeHead(404, { 'content-type': 'text/plain' }).end('This link is not available.')
      else res.writeHead(307, { location, 'cache-control': 'no-store', 'content-length': '0' }).end()
    },
    (err: unknown) => {
      process.stderr.write(`visit failed: ${String(err)}\n`)
      res.writeHead(500).end()
    },
  )
})
server.keepAliveTimeout = 72_000
await startProfiler()
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('no TCP address')
  process.stdout.write(`READY port=${address.port}\n`)
})

let closing = false
process.on('SIGTERM', () => {
  if (closing) return
  closing = true
  server.close()
  server.closeAllConnections()
  void stopProfiler()
    .then(close)
    .finally(() => process.exit(0))
})
