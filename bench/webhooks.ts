/**
 * `npx tsx bench/webhooks.ts`: webhook delivery throughput and what emitting costs the link visit.
 *
 * 1. Emit cost: `emitEvent` for an organization without endpoints (what every link visit would pay),
 *    beside its writing statement alone and a bare `select 1` round trip.
 * 2. The link visit (`createCheckoutFromLink`, in process, no HTTP) at a fixed concurrency: alone; followed
 *    by `emitEvent` (one more statement, not atomic with the insert); and inside a transaction with
 *    `emitEvent` (atomic: begin + commit + one statement more).
 * 3. Delivery: WEBHOOK_BENCH_EVENTS events (2,000) for one endpoint, delivered by the job worker's loop
 *    (`runDueJobs`, batches of 10 as in `main.ts`, then of 50) to a receiver in another process on 127.0.0.1.
 *    Every event must arrive exactly once with a distinct `webhook-id`, or the bench fails.
 *
 * On PGlite (in memory) and, when reachable, on PostgreSQL (BENCH_PG_URL, an admin connection, default
 * postgres://postgres@127.0.0.1:5432/postgres; the bench creates and drops `kassa_bench_webhooks`).
 * Env: WEBHOOK_BENCH_EVENTS (2000), WEBHOOK_BENCH_VISIT_SECONDS (3), WEBHOOK_BENCH_CONCURRENCY (20),
 * BENCH_SKIP (comma list of pglite, postgres).
 */
import { fork } from 'node:child_process'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import pg from 'pg'
import { loadConfig } from '../src/config'
import { CheckoutLinkCreate } from '../src/checkout-links/schemas'
import { createCheckoutLink } from '../src/checkout-links/service'
import { createCheckoutFromLink } from '../src/checkouts/visit'
import { migrate, openPGlite, openPostgres, type Database } from '../src/db/index'
import type { Deps } from '../src/deps'
import { runDueJobs } from '../src/jobs/worker'
import { systemClock } from '../src/lib/clock'
import { newId } from '../src/lib/ids'
import { createOrganization, type AuthContext } from '../src/organizations/service'
import { createProduct } from '../src/products/service'
import { ProductCreate } from '../src/products/schemas'
import { webhookJobHandlers, webhookRetry, WEBHOOK_JOB_KINDS } from '../src/webhooks/jobs'
import { insertEventWithDeliveries } from '../src/webhooks/repository'
import { createEndpoint, emitEvent } from '../src/webhooks/service'

const env = process.env
const EVENTS = Number(env.WEBHOOK_BENCH_EVENTS ?? 2000)
const VISIT_SECONDS = Number(env.WEBHOOK_BENCH_VISIT_SECONDS ?? 3)
const CONCURRENCY = Number(env.WEBHOOK_BENCH_CONCURRENCY ?? 20)
const SKIP = new Set((env.BENCH_SKIP ?? '').split(',').map((s) => s.trim()).filter(Boolean))
const ADMIN_URL = env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const DB_NAME = 'kassa_bench_webhooks'

// ---------------------------------------------------------------------------------------------------
// The receiver, in its own process: answers 200 and counts webhook-ids.
// ---------------------------------------------------------------------------------------------------

if (process.argv.includes('--receiver')) {
  const ids = new Map<string, number>()
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const id = String(req.headers['webhook-id'])
      ids.set(id, (ids.get(id) ?? 0) + 1)
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('ok')
    })
  })
  server.keepAliveTimeout = 30_000
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }))
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'count') {
      process.send!({ total: [...ids.values()].reduce((a, b) => a + b, 0), distinct: ids.size })
      ids.clear()
    }
    if (m.cmd === 'exit') server.close(() => process.exit(0))
  })
} else {
  await main()
}

async function main() {
  const receiver = fork(fileURLToPath(import.meta.url), ['--receiver'], { execArgv: ['--import', 'tsx'] })
  const ask = <T>(cmd: string) => new Promise<T>((resolve) => { receiver.once('message', (m) => resolve(m as T)); receiver.send({ cmd }) })
  const { port } = await new Promise<{ port: number }>((resolve) => receiver.once('message', (m) => resolve(m as { port: number })))
  const receiverUrl = `http://127.0.0.1:${port}/hook`
  try {
    if (!SKIP.has('pglite')) await bench('PGlite (in memory)', await openPGlite(), receiverUrl, ask)
    if (!SKIP.has('postgres')) {
      const admin = new pg.Client({ connectionString: ADMIN_URL })
      const reachable = await admin.connect().then(() => true, () => false)
      if (!reachable) console.log(`\nPostgreSQL not reachable at ${ADMIN_URL}: skipped`)
      else {
        await admin.query(`drop database if exists ${DB_NAME}`)
        await admin.query(`create database ${DB_NAME}`)
        const url = new URL(ADMIN_URL)
        url.pathname = `/${DB_NAME}`
        try {
          await bench('PostgreSQL', await openPostgres(url.toString(), { max: 10 }), receiverUrl, ask)
        } finally {
          await admin.query(`drop database if exists ${DB_NAME}`)
          await admin.end()
        }
      }
    }
  } finally {
    receiver.send({ cmd: 'exit' })
  }
}

async function bench(label: string, database: Database, receiverUrl: string, ask: <T>(cmd: string) => Promise<T>) {
  console.log(`\n== ${label}`)
  await migrate(database)
  const config = { ...loadConfig({ DEMO_DATA: '0', LOG_LEVEL: 'silent' }), webhooksAllowInsecure: true }
  const deps: Deps = { db: database.db, clock: systemClock, config }
  const db = database.db

  const tenant = async (slug: string): Promise<AuthContext> => {
    const { organization } = await createOrganization(deps, { name: slug, slug: `${slug}-${Date.now().toString(36)}` })
    return { organizationId: organization.id, tokenId: 'bench', scopes: new Set() }
  }
  const quiet = await tenant('no-endpoints')
  const loud = await tenant('with-endpoint')
  await createEndpoint(deps, loud, { url: receiverUrl, format: 'raw', events: ['checkout.created'] })

  // 1. What emitting costs when nobody listens.
  const N = 2000
  const perCall = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < 200; i++) await fn() // warm-up
    const t = performance.now()
    for (let i = 0; i < N; i++) await fn()
    return ((performance.now() - t) / N) * 1000
  }
  const selectOne = await perCall(() => sql`select 1`.execute(db))
  const emitQuiet = await perCall(() => emitEvent(db, { organizationId: quiet.organizationId, type: 'checkout.created', data: { id: 'x' }, now: new Date() }))
  const writeOnly = await perCall(() => insertEventWithDeliveries(db, { id: newId(), organizationId: quiet.organizationId, type: 'checkout.created', payload: '{}', now: new Date() }))
  console.log(`emitEvent, no endpoint:                   ${emitQuiet.toFixed(0)} µs/call, sequential`)
  console.log(`  (the writing statement alone, no endpoint: ${writeOnly.toFixed(0)} µs/call)`)
  console.log(`select 1 (a bare round trip):             ${selectOne.toFixed(0)} µs/call`)

  // 2. The link visit, alone and with the emit.
  const product = await createProduct(deps, quiet, ProductCreate.parse({ name: 'Bench product', prices: [{ amount_type: 'fixed', price_amount: 1000 }] }))
  const link = await createCheckoutLink(deps, quiet, CheckoutLinkCreate.parse({ payment_processor: 'stripe', products: [product.id] }))
  const secret = (link as { client_secret: string }).client_secret
  const visit = { rawQuery: 'utm_source=bench&customer_email=a%40example.com' }
  const variants: [string, () => Promise<unknown>][] = [
    ['visit alone', () => createCheckoutFromLink(deps, secret, visit)],
    [
      'visit + emitEvent (no tx)',
      async () => {
        await createCheckoutFromLink(deps, secret, visit)
        await emitEvent(db, { organizationId: quiet.organizationId, type: 'checkout.created', data: { id: 'x' }, now: new Date() })
      },
    ],
    [
      'visit + emitEvent in a tx',
      () =>
        db.transaction().execute(async (tx) => {
          await createCheckoutFromLink({ ...deps, db: tx as unknown as Deps['db'] }, secret, visit)
          await emitEvent(tx, { organizationId: quiet.organizationId, type: 'checkout.created', data: { id: 'x' }, now: new Date() })
        }),
    ],
  ]
  for (const [name, fn] of variants) {
    for (let i = 0; i < 100; i++) await fn()
    const latencies: number[] = []
    const until = performance.now() + VISIT_SECONDS * 1000
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < until) {
          const t = performance.now()
          await fn()
          latencies.push(performance.now() - t)
        }
      }),
    )
    latencies.sort((a, b) => a - b)
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(2)
    console.log(`${name.padEnd(28)} ${(latencies.length / VISIT_SECONDS).toFixed(0).padStart(6)} visits/s  p50 ${q(0.5)} ms  p99 ${q(0.99)} ms  (concurrency ${CONCURRENCY})`)
  }

  // 3. Delivery throughput.
  for (const batchSize of [10, 50]) {
    const t0 = performance.now()
    for (let i = 0; i < EVENTS; i += 100) {
      await db.transaction().execute(async (tx) => {
        for (let j = i; j < Math.min(EVENTS, i + 100); j++) {
          await emitEvent(tx, { organizationId: loud.organizationId, type: 'checkout.created', data: { id: `checkout-${j}`, amount: j }, now: new Date() })
        }
      })
    }
    const emitted = performance.now() - t0
    const t1 = performance.now()
    let ran = 0
    for (;;) {
      const n = await runDueJobs(deps, webhookJobHandlers, { kinds: WEBHOOK_JOB_KINDS, retry: { byKind: webhookRetry(config) }, batchSize, limit: 100 })
      ran += n
      if (n === 0) break
    }
    const seconds = (performance.now() - t1) / 1000
    const got = await ask<{ total: number; distinct: number }>('count')
    const failed = await db.selectFrom('webhook_deliveries').select(sql<number>`count(*)::int`.as('n')).where('status', '!=', 'succeeded').executeTakeFirstOrThrow()
    console.log(
      `delivered ${got.distinct}/${EVENTS} events in ${seconds.toFixed(2)} s: ${(EVENTS / seconds).toFixed(0)} events/s ` +
        `(batches of ${batchSize}; ${ran} jobs; emitting them took ${(emitted / EVENTS * 1000).toFixed(0)} µs/event)`,
    )
    if (got.total !== EVENTS || got.distinct !== EVENTS || Number(failed.n) !== 0) {
      console.error(`FAILED: receiver got ${got.total} requests, ${got.distinct} distinct ids; ${failed.n} deliveries not succeeded`)
      process.exitCode = 1
    }
  }
  await database.close()
}
