/**
 * What a `?discount_code=` costs a link visit, now that the code counts against the client's limit:
 * sequential visits through app.inject on the embedded database, without a code, with a right code and
 * with a wrong one, each beside the others in the same run. `npx tsx bench/visit-code.ts`
 */
import { buildApp } from '../src/app'
import { loadConfig } from '../src/config'
import { migrate, openDatabase } from '../src/db/index'
import { createOrganization } from '../src/organizations/service'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const N = Number(process.env.BENCH_VISITS ?? 400)
const dir = mkdtempSync(join(tmpdir(), 'kassa-visit-code-'))
const config = loadConfig({ ...process.env, DATA_DIR: dir, DATABASE_URL: '', LOG_LEVEL: 'silent' } as NodeJS.ProcessEnv)
const database = await openDatabase(config)
await migrate(database)
const app = await buildApp({ config, database })
await app.ready()
const { accessToken: token } = await createOrganization(app.deps, { name: 'Bench', slug: 'bench' })
const headers = { authorization: `Bearer ${token}` }
const product = (await app.inject({ method: 'POST', url: '/v1/products/', headers, payload: { name: 'Bench pack', prices: [{ amount_type: 'fixed', price_amount: 1000 }] } })).json()
await app.inject({ method: 'POST', url: '/v1/discounts/', headers, payload: { name: 'Ten', type: 'percentage', basis_points: 1000, duration: 'once', code: 'RIGHT' } })
const link = (await app.inject({ method: 'POST', url: '/v1/checkout-links/', headers, payload: { payment_processor: 'stripe', products: [product.id] } })).json()
if (!link.client_secret) throw new Error(`link: ${JSON.stringify(link)} product: ${JSON.stringify(product)}`)

async function run(label: string, query: (i: number) => string) {
  const times: number[] = []
  for (let i = 0; i < N; i++) {
    // a new address every 10 visits, so the wrong-code rows stay under the limit (the limit is not what is timed)
    const remoteAddress = `10.1.${Math.floor(i / 2500)}.${Math.floor(i / 10) % 250}`
    const t = process.hrtime.bigint()
    const r = await app.inject({ method: 'GET', url: `/buy/${link.client_secret}${query(i)}`, remoteAddress })
    times.push(Number(process.hrtime.bigint() - t) / 1e6)
    if (r.statusCode !== 307) throw new Error(`${label}: ${r.statusCode}`)
  }
  times.sort((a, b) => a - b)
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(2)
  console.log(`${label.padEnd(22)} p50 ${at(0.5)} ms  p99 ${at(0.99)} ms  (n=${N})`)
}

for (let round = 0; round < 2; round++) {
  await run('no discount_code', () => '')
  await run('right discount_code', () => '?discount_code=RIGHT')
  await run('wrong discount_code', (i) => `?discount_code=WRONG${i}`)
}
await app.close()
await database.close()
