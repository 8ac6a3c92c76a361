/**
 * `npx tsx bench/renewals.ts` (also a section of `npm run bench`, `BENCH_SKIP=renewals` leaves it out): a renewal
 * run over BENCH_RENEWALS (10,000) subscriptions due at once, on PostgreSQL (a database of its own,
 * kassa_bench_renewals, created and dropped), beside a bare baseline in the same run.
 *
 * - Kassa: `scheduleRenewals` queues one cycle job per subscription (batched inserts), then the queue runs as a
 *   worker's payments lane does (claims of 10): each cycle moves the period and makes a pending order in one
 *   transaction and queues its charge; each charge (sandbox) is recorded in a second. Webhook events are off
 *   (no endpoint), as for a shop without one.
 * - Baseline: the least a renewal needs, by hand with `pg`: per subscription one transaction that locks it,
 *   inserts a paid order and moves the period (no jobs, no charge step, no events).
 * Both start from the same seeded subscriptions (each run renews a fresh copy).
 */
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { sql } from 'kysely'
import pg from 'pg'
import { loadConfig } from '../src/config'
import { migrate, openPostgres, type Database } from '../src/db/index'
import { runDueJobs } from '../src/jobs/worker'
import { FixedClock } from '../src/lib/clock'
import { createOrganization } from '../src/organizations/service'
import { CHARGE_RENEWAL_JOB, CYCLE_JOB, renewalJobHandlers, scheduleRenewals } from '../src/renewals/service'

const N = Math.max(1, Number(process.env.BENCH_RENEWALS ?? 10_000))
const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const DB = 'kassa_bench_renewals'

async function seedSubscriptions(database: Database, orgId: string, n: number, periodEnd: Date): Promise<void> {
  await sql`
    with p as (
      insert into products (id, organization_id, name, recurring_interval, recurring_interval_count, is_archived, metadata, created_at)
      values (gen_random_uuid(), ${orgId}, 'Monthly', 'month', 1, false, '{}', now()) returning id
    ), pr as (
      insert into product_prices (id, product_id, amount_type, price_currency, price_amount, is_archived, created_at)
      select gen_random_uuid(), p.id, 'fixed', 'usd', 1000, false, now() from p returning id, product_id
    ), c as (
      insert into customers (id, organization_id, email, metadata, created_at)
      select gen_random_uuid(), ${orgId}, 'bench-' || g || '@example.com', '{}', now() from generate_series(1, ${n}) g returning id
    )
    insert into subscriptions (id, organization_id, customer_id, product_id, product_price_id, status, amount, currency, recurring_interval,
      recurring_interval_count, current_period_start, current_period_end, started_at, payment_method_id, metadata, custom_field_data, created_at)
    select gen_random_uuid(), ${orgId}, c.id, pr.product_id, pr.id, 'active', 1000, 'usd', 'month', 1,
      ${new Date(periodEnd.getTime() - 30 * 86_400_000)}, ${periodEnd}, ${new Date(periodEnd.getTime() - 30 * 86_400_000)}, 'tok_sandbox_success', '{}', '{}', now()
    from c, pr`.execute(database.db)
  await sql`analyze`.execute(database.db)
}

async function freshDatabase(): Promise<{ database: Database; url: string }> {
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`drop database if exists ${DB}`)
  await admin.query(`create database ${DB}`)
  await admin.end()
  const url = new URL(ADMIN_URL)
  url.pathname = `/${DB}`
  const database = await openPostgres(url.toString())
  await migrate(database)
  return { database, url: url.toString() }
}

export interface RenewalBench { n: number; kassaMs: number; kassaPerSec: number; baselineMs: number; baselinePerSec: number; orders: number; baselineOrders: number; load: number[] }

export async function main(): Promise<RenewalBench> {
  const config = loadConfig({ LOG_LEVEL: 'silent', DEMO_DATA: '0', DATABASE_URL: ADMIN_URL })
  const periodEnd = new Date('2026-06-01T00:00:00Z')
  const clock = new FixedClock(new Date(periodEnd.getTime() + 60_000))
  const load = [loadavg()[0]!]

  // Kassa
  let { database } = await freshDatabase()
  let deps = { db: database.db, clock, config }
  let { organization } = await createOrganization(deps, { name: 'Renewals', slug: `renewals-${Date.now()}` })
  await seedSubscriptions(database, organization.id, N, periodEnd)
  const t0 = performance.now()
  await scheduleRenewals(deps)
  for (;;) {
    const ran = await runDueJobs(deps as never, renewalJobHandlers as never, { kinds: [CYCLE_JOB, CHARGE_RENEWAL_JOB], limit: 100_000, batchSize: 10 })
    if (ran === 0) break
  }
  const kassaMs = performance.now() - t0
  const orders = Number((await sql<{ n: string }>`select count(*) as n from orders where billing_reason = 'subscription_cycle' and status = 'paid'`.execute(database.db)).rows[0]!.n)
  await database.close()

  // Baseline
  const fresh = await freshDatabase()
  database = fresh.database
  deps = { db: database.db, clock, config }
  ;({ organization } = await createOrganization(deps, { name: 'Renewals baseline', slug: `renewals-b-${Date.now()}` }))
  await seedSubscriptions(database, organization.id, N, periodEnd)
  await database.close()
  const client = new pg.Client({ connectionString: fresh.url })
  await client.connect()
  const t1 = performance.now()
  const due = await client.query<{ id: string }>(`select id from subscriptions where status = 'active' and current_period_end <= $1 order by current_period_end`, [clock.now()])
  for (const { id } of due.rows) {
    await client.query('begin')
    const s = (await client.query(`select * from subscriptions where id = $1 for update`, [id])).rows[0]
    const next = new Date(s.current_period_end.getTime() + 30 * 86_400_000)
    await client.query(
      `insert into orders (id, organization_id, customer_id, product_id, product_price_id, subscription_id, status, billing_reason, subtotal_amount, discount_amount, net_amount, tax_amount, total_amount, currency, description, metadata, custom_field_data, period_start, period_end, created_at)
       values (gen_random_uuid(), $1, $2, $3, $4, $5, 'paid', 'subscription_cycle', $6, 0, $6, 0, $6, $7, 'Monthly', '{}', '{}', $8, $9, now())`,
      [s.organization_id, s.customer_id, s.product_id, s.product_price_id, s.id, s.amount, s.currency, s.current_period_end, next],
    )
    await client.query(`update subscriptions set current_period_start = $2, current_period_end = $3 where id = $1`, [id, s.current_period_end, next])
    await client.query('commit')
  }
  const baselineMs = performance.now() - t1
  const baselineOrders = Number((await client.query(`select count(*) as n from orders where billing_reason = 'subscription_cycle'`)).rows[0].n)
  await client.end()
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`drop database if exists ${DB}`)
  await admin.end()
  load.push(loadavg()[0]!)

  const r: RenewalBench = { n: N, kassaMs, kassaPerSec: (N / kassaMs) * 1000, baselineMs, baselinePerSec: (N / baselineMs) * 1000, orders, baselineOrders, load }
  console.log(`renewals: ${N} subscriptions due at once, PostgreSQL, load ${load.map((l) => l.toFixed(2)).join(' → ')}`)
  console.log(`  Kassa (schedule + cycle + charge jobs, one worker lane of 10): ${(kassaMs / 1000).toFixed(1)} s, ${r.kassaPerSec.toFixed(0)} renewals/s, ${orders} paid orders ${orders === N ? '✓' : '✗'}`)
  console.log(`  baseline (one transaction per renewal, by hand):             ${(baselineMs / 1000).toFixed(1)} s, ${r.baselinePerSec.toFixed(0)} renewals/s, ${baselineOrders} orders`)
  console.log(`  Kassa / baseline time: ${(kassaMs / baselineMs).toFixed(2)}×`)
  if (orders !== N) throw new Error(`renewals: ${orders} paid orders for ${N} due subscriptions`)
  return r
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(() => process.exit(0), (err) => {
    console.error(err)
    process.exit(1)
  })
}
