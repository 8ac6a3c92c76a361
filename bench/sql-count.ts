/**
 * Counts the SQL statements a bench server sends (BENCH_COUNT_SQL=1; run.ts sets it): every
 * `query` of a `pg` client (pool queries and Kassa's prepared reads go through it; BEGIN and COMMIT
 * too) and every `query`/`exec` of a PGlite instance. One call is one statement: neither server sends
 * multi-statement strings on the visit. Installed before the database is opened; the count is read
 * from the server's `GET /__bench/sql` (see load.ts), so run.ts can take it over the measured run only.
 */
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'

export const SQL_COUNT_PATH = '/__bench/sql'
let statements = 0
export const sqlStatements = () => statements

export function installSqlCounter(): void {
  if (process.env.BENCH_COUNT_SQL !== '1') return
  const wrap = (proto: Record<string, unknown>, name: string) => {
    const original = proto[name] as (...args: unknown[]) => unknown
    proto[name] = function (this: unknown, ...args: unknown[]) {
      statements++
      return original.apply(this, args)
    }
  }
  wrap(pg.Client.prototype as unknown as Record<string, unknown>, 'query')
  wrap(PGlite.prototype as unknown as Record<string, unknown>, 'query')
  wrap(PGlite.prototype as unknown as Record<string, unknown>, 'exec')
}
