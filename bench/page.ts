/**
 * `npx tsx bench/page.ts`: the hosted checkout page's weight and render time.
 *
 * 1. Weight: the HTML of a typical page (two products, a required custom field, billing address,
 *    discount codes allowed), raw and compressed with gzip and brotli (`node:zlib`). The CSS and the
 *    script are inline, so this is the whole page. Target: ≤ 30 KB compressed.
 * 2. Render: `renderCheckoutPage` (a pure function) timed over BENCH_PAGE_ITERATIONS (2000) calls
 *    after a warm-up: median and p99. Target: ≤ 5 ms median. And the full GET /checkout/{secret}
 *    through `app.inject` (database reads included, no network), BENCH_PAGE_REQUESTS (500) times.
 *
 * Runs on an in-memory PGlite; prints a table; BENCH_STRICT=1 makes a missed target exit 1.
 * `main()` returns the numbers for the bench runner.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { buildApp } from '../src/app'
import { renderCheckoutPage, type PageContext } from '../src/checkout-page/render'
import { SCRIPT } from '../src/checkout-page/script'
import { CSS } from '../src/checkout-page/styles'
import { getClientCheckout } from '../src/checkouts/service'
import { loadConfig } from '../src/config'
import { migrate, openPGlite } from '../src/db/index'
import { systemClock } from '../src/lib/clock'
import { createOrganization } from '../src/organizations/service'

export const TARGET_COMPRESSED_BYTES = 30 * 1024
export const TARGET_RENDER_MEDIAN_MS = 5

export interface PageBenchResult {
  bytes: { html: number; css: number; script: number; gzip: number; brotli: number; brotliFast: number }
  render: { iterations: number; medianMs: number; p99Ms: number; byLocale: Record<string, number> }
  request: { iterations: number; medianMs: number; p99Ms: number }
  ok: boolean
}

const num = (name: string, dflt: number) => {
  const v = Number(process.env[name] ?? dflt)
  if (!Number.isFinite(v) || v < 1) throw new Error(`${name}: not a positive number`)
  return Math.floor(v)
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

function timeSync(n: number, fn: () => unknown): number[] {
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    fn()
    out[i] = performance.now() - t0
  }
  return out.sort((a, b) => a - b)
}

async function timeAsync(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await fn()
    out[i] = performance.now() - t0
  }
  return out.sort((a, b) => a - b)
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`
const ms = (n: number) => `${n.toFixed(3)} ms`

export async function main(): Promise<PageBenchResult> {
  const iterations = num('BENCH_PAGE_ITERATIONS', 2000)
  const requests = num('BENCH_PAGE_REQUESTS', 500)
  const publicUrl = 'http://localhost:8000'
  const config = { ...loadConfig({ PUBLIC_URL: publicUrl, LOG_LEVEL: 'silent', DEMO_DATA: '0' }) }
  const database = await openPGlite()
  await migrate(database)
  const app = await buildApp({ config, database, logger: false })
  await app.ready()
  try {
    // The typical page, made through the API as a merchant would.
    const deps = { db: database.db, clock: systemClock, config }
    const { accessToken } = await createOrganization(deps, { name: 'Acme Studio', slug: `page-bench-${Date.now()}` })
    const headers = { authorization: `Bearer ${accessToken}` }
    const api = async (url: string, payload: object) => {
      const res = await app.inject({ method: 'POST', url, payload, headers })
      if (res.statusCode !== 201) throw new Error(`POST ${url}: ${res.statusCode} ${res.body}`)
      return res.json() as { id: string; client_secret: string }
    }
    const field = await api('/v1/custom-fields', { type: 'text', slug: 'company', name: 'Company', properties: { form_placeholder: 'Acme Inc.' } })
    const starter = await api('/v1/products', {
      name: 'Starter kit',
      description: 'Lifetime access to the starter kit: templates, icons and the handbook.',
      prices: [{ amount_type: 'fixed', price_amount: 2900 }],
      attached_custom_fields: [{ custom_field_id: field.id, required: true }],
    })
    const pro = await api('/v1/products', { name: 'Pro', recurring_interval: 'month', prices: [{ amount_type: 'fixed', price_amount: 900 }] })
    const link = await api('/v1/checkout-links', {
      payment_processor: 'stripe',
      products: [starter.id, pro.id],
      require_billing_address: true,
      allow_discount_codes: true,
      return_url: 'https://acme.example/pricing',
    })
    const visit = await app.inject({ method: 'GET', url: `/buy/${link.client_secret}?customer_email=ada%40example.com&utm_source=newsletter` })
    if (visit.statusCode !== 307) throw new Error(`link visit: ${visit.statusCode} ${visit.body}`)
    const pagePath = new URL(visit.headers.location as string).pathname
    const secret = decodeURIComponent(pagePath.split('/')[2]!)

    // 1. Weight.
    const page = await app.inject({ method: 'GET', url: pagePath, headers: { 'accept-language': 'en-US,en;q=0.9' } })
    if (page.statusCode !== 200) throw new Error(`GET ${pagePath}: ${page.statusCode}`)
    const html = page.rawPayload
    const bytes = {
      html: html.length,
      css: Buffer.byteLength(CSS),
      script: Buffer.byteLength(SCRIPT),
      gzip: gzipSync(html, { level: 6 }).length,
      brotli: brotliCompressSync(html, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: html.length } }).length,
      // What a server compressing each response on the fly would typically use.
      brotliFast: brotliCompressSync(html, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: html.length } }).length,
    }

    // 2. Render, the pure function.
    const checkout = await getClientCheckout(deps, secret)
    const now = new Date()
    const opts = { script: SCRIPT, action: pagePath }
    const render = (locale: PageContext['locale']) => () =>
      renderCheckoutPage(checkout, { locale, nonce: randomBytes(16).toString('base64') }, { errors: {}, values: {} }, now, opts)
    timeSync(Math.min(500, iterations), render('en')) // warm-up
    const renderTimes = timeSync(iterations, render('en'))
    const byLocale: Record<string, number> = {}
    for (const locale of ['fr', 'ja', 'pt-BR'] as const) {
      timeSync(100, render(locale))
      byLocale[locale] = quantile(timeSync(Math.max(100, Math.floor(iterations / 4)), render(locale)), 0.5)
    }

    // 3. The whole GET through Fastify (routing, two database reads, render, headers), no socket.
    const get = () => app.inject({ method: 'GET', url: pagePath })
    await timeAsync(Math.min(50, requests), get) // warm-up
    const requestTimes = await timeAsync(requests, get)

    const result: PageBenchResult = {
      bytes,
      render: { iterations, medianMs: quantile(renderTimes, 0.5), p99Ms: quantile(renderTimes, 0.99), byLocale },
      request: { iterations: requests, medianMs: quantile(requestTimes, 0.5), p99Ms: quantile(requestTimes, 0.99) },
      ok: false,
    }
    const compressed = Math.max(bytes.gzip, bytes.brotli)
    result.ok = compressed <= TARGET_COMPRESSED_BYTES && result.render.medianMs <= TARGET_RENDER_MEDIAN_MS

    const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED')
    const rows: [string, string, string][] = [
      ['page HTML (raw)', kb(bytes.html), `CSS ${kb(bytes.css)}, script ${kb(bytes.script)} inline`],
      ['page, gzip -6', kb(bytes.gzip), `target ≤ ${kb(TARGET_COMPRESSED_BYTES)}: ${mark(bytes.gzip <= TARGET_COMPRESSED_BYTES)}`],
      ['page, brotli q11', kb(bytes.brotli), `target ≤ ${kb(TARGET_COMPRESSED_BYTES)}: ${mark(bytes.brotli <= TARGET_COMPRESSED_BYTES)}`],
      ['page, brotli q5', kb(bytes.brotliFast), 'on-the-fly quality'],
      [`renderCheckoutPage median (en, n=${iterations})`, ms(result.render.medianMs), `target ≤ ${TARGET_RENDER_MEDIAN_MS} ms: ${mark(result.render.medianMs <= TARGET_RENDER_MEDIAN_MS)}`],
      ['renderCheckoutPage p99 (en)', ms(result.render.p99Ms), ''],
      ...Object.entries(byLocale).map(([l, v]): [string, string, string] => [`renderCheckoutPage median (${l})`, ms(v), '']),
      [`GET /checkout/{secret} median (inject, n=${requests})`, ms(result.request.medianMs), 'routing + DB reads + render'],
      ['GET /checkout/{secret} p99 (inject)', ms(result.request.p99Ms), ''],
    ]
    const w0 = Math.max(...rows.map((r) => r[0].length))
    const w1 = Math.max(...rows.map((r) => r[1].length))
    console.log(`\nHosted checkout page (two products, a custom field, billing address; Node ${process.version})\n`)
    for (const [a, b, c] of rows) console.log(`  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`)
    console.log('')
    return result
  } finally {
    await app.close()
    await database.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (r) => {
      if (!r.ok && process.env.BENCH_STRICT === '1') process.exitCode = 1
    },
    (err) => {
      console.error(err)
      process.exitCode = 1
    },
  )
}
