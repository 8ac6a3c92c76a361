/**
 * `npx tsx bench/hostile.ts` (a few seconds; also the last section of `npm run bench`): hostile requests
 * against a real listening Kassa on an in-memory PGlite, each beside the bare baseline of the same run
 * (`GET /healthz` alone, and a normal client PATCH). For each kind: time per request (median, max) and the
 * `/healthz` latency measured by a probe running while the hostile requests are in flight: a request that
 * blocks the event loop shows there as a large p99/max.
 *
 * Rows: a 200 KB crafted `customer_email` on the anonymous PATCH (before issue 9: ~30 s of a blocked
 * loop), a 5 MB body (413), a 50,000-deep JSON array on an authenticated route (422 before parsing),
 * 30,000-deep on the anonymous route. Also the old email regex timed on 10, 20 and 40 KB of the same input,
 * to show what the linear rule replaced. BENCH_HOSTILE_REQUESTS (20) requests per row.
 * Server and client share one process: payloads are built before the clock starts.
 */
import { performance } from 'node:perf_hooks'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { buildApp } from '../src/app'
import { loadConfig } from '../src/config'
import { migrate, openPGlite } from '../src/db/index'
import { systemClock } from '../src/lib/clock'
import { createOrganization } from '../src/organizations/service'

export interface HostileRow { name: string; status: number; medianMs: number; maxMs: number; healthP50Ms: number; healthP99Ms: number; healthMaxMs: number }

const N = Math.max(1, Number(process.env.BENCH_HOSTILE_REQUESTS ?? 20))
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0
}

export async function main(): Promise<HostileRow[]> {
  const config = loadConfig({ PUBLIC_URL: 'http://127.0.0.1', LOG_LEVEL: 'silent', DEMO_DATA: '0' })
  const database = await openPGlite()
  await migrate(database)
  const app = await buildApp({ config, database, logger: false })
  try {
    await app.listen({ port: 0, host: '127.0.0.1' })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const deps = { db: database.db, clock: systemClock, config }
    const { accessToken } = await createOrganization(deps, { name: 'Hostile', slug: `hostile-${Date.now()}` })
    const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' }
    const product = (await app.inject({ method: 'POST', url: '/v1/products/', headers: auth, payload: JSON.stringify({ name: 'Product', prices: [{ amount_type: 'fixed', price_amount: 100 }] }) })).json().id
    const secret = (await app.inject({ method: 'POST', url: '/v1/checkouts/', headers: auth, payload: JSON.stringify({ products: [product] }) })).json().client_secret
    const client = `${base}/v1/checkouts/client/${secret}`
    const json = { 'content-type': 'application/json' }

    // 200 KB: the old regex's worst case (each dot a split point, each split scanned to the final `@`)
    const crafted = 'a@' + 'a.'.repeat(100_000) + '@'
    const kinds: { name: string; url: string; method: string; headers: Record<string, string>; body?: string }[] = [
      { name: 'baseline: GET /healthz', url: `${base}/healthz`, method: 'GET', headers: {} },
      { name: 'baseline: PATCH client, valid email', url: client, method: 'PATCH', headers: json, body: JSON.stringify({ customer_email: 'ada@example.com' }) },
      // The 200 KB body is beyond the anonymous 64 KB limit, so it is also sent where it is read: with a token.
      { name: '200 KB crafted email, PATCH client', url: client, method: 'PATCH', headers: json, body: JSON.stringify({ customer_email: crafted }) },
      { name: '200 KB crafted email, POST /v1/checkouts', url: `${base}/v1/checkouts/`, method: 'POST', headers: auth, body: JSON.stringify({ products: [product], customer_email: crafted }) },
      { name: '60 KB crafted email, PATCH client', url: client, method: 'PATCH', headers: json, body: JSON.stringify({ customer_email: crafted.slice(0, 60_000) + '@' }) },
      { name: '5 MB body, PATCH client', url: client, method: 'PATCH', headers: json, body: JSON.stringify({ customer_name: 'x'.repeat(5 * 1024 * 1024) }) },
      { name: '50,000-deep JSON, POST /v1/products', url: `${base}/v1/products/`, method: 'POST', headers: auth, body: '['.repeat(50_000) + ']'.repeat(50_000) },
      { name: '30,000-deep JSON, PATCH client', url: client, method: 'PATCH', headers: json, body: '['.repeat(30_000) + ']'.repeat(30_000) },
    ]
    const rows: HostileRow[] = []
    for (const kind of kinds) {
      const times: number[] = []
      const health: number[] = []
      let status = 0
      let running = true
      const probe = (async () => {
        while (running) {
          const t = performance.now()
          await (await fetch(`${base}/healthz`)).arrayBuffer()
          health.push(performance.now() - t)
          await new Promise((r) => setTimeout(r, 2))
        }
      })()
      for (let i = 0; i < N; i++) {
        const t = performance.now()
        const res = await fetch(kind.url, { method: kind.method, headers: kind.headers, body: kind.body })
        await res.arrayBuffer()
        times.push(performance.now() - t)
        status = res.status
      }
      running = false
      await probe
      rows.push({ name: kind.name, status, medianMs: q(times, 0.5), maxMs: Math.max(...times), healthP50Ms: q(health, 0.5), healthP99Ms: q(health, 0.99), healthMaxMs: Math.max(...health) })
    }
    const old = /^[^@\s]+@[^@\s]+\.[^@\s]+$/
    for (const kb of [10, 20, 40]) {
      const s = crafted.slice(0, kb * 1024) + '@'
      const t = performance.now()
      old.test(s)
      const ms = performance.now() - t
      rows.push({ name: `(old email regex alone, ${kb} KB)`, status: 0, medianMs: ms, maxMs: ms, healthP50Ms: NaN, healthP99Ms: NaN, healthMaxMs: NaN })
    }
    const f = (n: number) => (Number.isNaN(n) ? '' : n.toFixed(1))
    console.log(`hostile input: ${N} requests per row; /healthz probed while each row runs`)
    console.log(['request', 'status', 'median ms', 'max ms', 'healthz p50', 'healthz p99', 'healthz max'].join(' | '))
    for (const r of rows) console.log([r.name, r.status || '', f(r.medianMs), f(r.maxMs), f(r.healthP50Ms), f(r.healthP99Ms), f(r.healthMaxMs)].join(' | '))
    return rows
  } finally {
    await app.close()
    await database.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
}
