import { PostgresQueryCompiler, sql, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type UnknownRow } from 'kysely'
import { createHash } from 'node:crypto'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { findLinkForVisit, LINK_CONFIG_CHANNEL, LinkVisitCache } from '../src/checkout-links/service'
import { openPostgres, type Database } from '../src/db/index'
import { createOrg, createTestApp, testDatabase, testDatabaseUrl, type TestContext, type TestOrg } from './helpers'

/**
 * The links' configuration cache (issue 10 part 7): a visit of a known link reads nothing, any change to
 * what the visit reads is seen by the next visit, on this process at once and on another within a second,
 * and nothing is trusted while the LISTEN that brings the changes is down.
 */

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const SLACK = 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)'

/** Every statement the app sends, as PostgreSQL gets it (raw `sql` included). */
class StatementLog implements KyselyPlugin {
  readonly statements: string[] = []
  private readonly compiler = new PostgresQueryCompiler()
  transformQuery(args: PluginTransformQueryArgs) {
    this.statements.push(this.compiler.compileQuery(args.node, args.queryId).sql)
    return args.node
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result
  }
  /** The statements `run` sends. */
  async during(run: () => Promise<unknown>): Promise<string[]> {
    const from = this.statements.length
    await run()
    return this.statements.slice(from)
  }
}

const linkReads = (statements: string[]) => statements.filter((s) => s.includes('prepare:link_for_visit')).length

/** The database, with every statement of the app built on it logged. */
function logged(database: Database): { database: Database; log: StatementLog } {
  const log = new StatementLog()
  const db = database.db.withPlugin(log)
  // A precompiled statement (the visit's prepared insert) is executed as it is, past the plugins: log it here.
  const executeQuery = db.executeQuery.bind(db)
  db.executeQuery = ((query: Parameters<typeof executeQuery>[0], queryId?: Parameters<typeof executeQuery>[1]) => {
    if (!('compile' in query)) log.statements.push(query.sql)
    return executeQuery(query, queryId)
  }) as typeof db.executeQuery
  return { database: { ...database, db }, log }
}

async function post(ctx: TestContext, org: TestOrg, url: string, payload: Record<string, unknown>) {
  const res = await ctx.app.inject({ method: 'POST', url, headers: org.headers, payload })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

async function patch(ctx: TestContext, org: TestOrg, url: string, payload: Record<string, unknown>) {
  const res = await ctx.app.inject({ method: 'PATCH', url, headers: org.headers, payload })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

async function setUp(ctx: TestContext, opts: { discountId?: string; org?: TestOrg } = {}) {
  const org = opts.org ?? (await createOrg(ctx, 'Cache Co'))
  const product = await post(ctx, org, '/v1/products/', { name: 'Pro Plan', prices: [{ amount_type: 'fixed', price_amount: 1900, price_currency: 'eur' }] })
  const other = await post(ctx, org, '/v1/products/', { name: 'Team Plan', prices: [{ amount_type: 'fixed', price_amount: 4900, price_currency: 'eur' }] })
  const link = await post(ctx, org, '/v1/checkout-links/', { payment_processor: 'stripe', products: [product.id], ...(opts.discountId ? { discount_id: opts.discountId } : {}) })
  return { org, product, other, link: link as { id: string; client_secret: string } }
}

const preview = (ctx: TestContext, secret: string) => ctx.app.inject({ method: 'GET', url: `/buy/${secret}`, headers: { 'user-agent': SLACK } })
const visit = (ctx: TestContext, secret: string, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'GET', url: `/buy/${secret}`, headers: { 'user-agent': CHROME, ...headers } })

/** The session a 307 opened, as stored. */
async function sessionOf(ctx: TestContext, location: string) {
  const secret = /\/checkout\/(polar_c_[A-Za-z0-9_-]+)/.exec(location)![1]!
  return (await sql<{ success_url: string | null; product_id: string; discount_amount: number; amount: number }>`
    select success_url, product_id, discount_amount, amount from checkouts where client_secret = ${secret}`.execute(ctx.deps.db)).rows[0]!
}

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  for (;;) {
    if (await check()) return true
    if (Date.now() >= end) return false
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * Previews until a preview reads nothing: the link is cached. On PostgreSQL the setup's own writes are heard
 * twice, at once on the connection that made them and a moment later on the LISTEN connection, which forgets
 * the link once more; this waits that out (PGlite: the first preview already caches).
 */
async function warm(ctx: TestContext, log: StatementLog, secret: string) {
  expect(await until(async () => linkReads(await log.during(() => preview(ctx, secret))) === 0, 1000)).toBe(true)
}

describe('a cached link', async () => {
  const { database, log } = logged(await testDatabase())
  // No counter flush in the middle of a count.
  const ctx = await createTestApp({ database, config: { visitCountFlushSeconds: 3600 } })

  it('a second visit is its insert only, a preview runs no SQL, a reused session is one read', async () => {
    const { link } = await setUp(ctx)
    const first = await log.during(async () => expect((await visit(ctx, link.client_secret)).statusCode).toBe(307))
    expect(linkReads(first)).toBe(1)
    await warm(ctx, log, link.client_secret)

    let second!: Awaited<ReturnType<typeof visit>>
    const statements = await log.during(async () => {
      second = await visit(ctx, link.client_secret)
    })
    expect(second.statusCode).toBe(307)
    expect(statements).toHaveLength(1)
    expect(statements[0]).toMatch(/^(\/\* prepare:insert_visit_checkout \*\/ )?insert into "?checkouts"? /)

    expect(await log.during(async () => expect((await preview(ctx, link.client_secret)).statusCode).toBe(200))).toEqual([])
    expect(await log.during(async () => expect((await ctx.app.inject({ method: 'HEAD', url: `/buy/${link.client_secret}` })).statusCode).toBe(200))).toEqual([])

    const cookie = String(second.headers['set-cookie']).split(';')[0]!
    let reused!: Awaited<ReturnType<typeof visit>>
    const reuse = await log.during(async () => {
      reused = await visit(ctx, link.client_secret, { cookie })
    })
    expect(reused.headers.location).toBe(second.headers.location)
    expect(reuse).toHaveLength(1)
    expect(reuse[0]).toContain('prepare:reusable_session')
  })

  it('a preview is kept per language and query, sent compressed as asked, its style allowed by hash', async () => {
    const { link } = await setUp(ctx)
    await warm(ctx, log, link.client_secret)
    const get = (query: string, headers: Record<string, string> = {}) =>
      ctx.app.inject({ method: 'GET', url: `/buy/${link.client_secret}${query}`, headers: { 'user-agent': SLACK, ...headers } })
    const plain = await get('?utm_source=slack')
    expect(plain.statusCode).toBe(200)
    expect(plain.headers['content-encoding']).toBeUndefined()
    const br = await get('?utm_source=slack', { 'accept-encoding': 'gzip, deflate, br' })
    expect(br.headers['content-encoding']).toBe('br')
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(plain.body)
    const gzip = await get('?utm_source=slack', { 'accept-encoding': 'gzip;q=1, br;q=0' })
    expect(gzip.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(gzip.rawPayload).toString()).toBe(plain.body)
    expect(String(plain.headers.vary)).toContain('Accept-Encoding')

    // The style is allowed by its hash, no nonce is sent, and no script may run.
    const style = /<style>([\s\S]*?)<\/style>/.exec(plain.body)![1]!
    const csp = String(plain.headers['content-security-policy'])
    expect(csp).toContain(`style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`)
    expect(csp).toContain("script-src 'none'")
    expect(plain.body).not.toContain('nonce')

    // Another language and another query are pages of their own.
    expect((await get('?utm_source=slack', { 'accept-language': 'de' })).body).toContain('Weiter zur Kasse')
    expect((await get('?utm_source=slack')).body).toBe(plain.body)
    const other = await get('?utm_source=discord')
    expect(other.body).toContain('utm_source=discord')
    expect(other.body).not.toContain('utm_source=slack')
    expect(await log.during(() => get('?utm_source=discord'))).toEqual([])
  })

  it('a previewer sending odd encodings or a new query every time gets a plain preview, never an error', async () => {
    const { link } = await setUp(ctx)
    const get = (query: string, headers: Record<string, string>) =>
      ctx.app.inject({ method: 'GET', url: `/buy/${link.client_secret}${query}`, headers: { 'user-agent': SLACK, ...headers } })
    for (const encoding of ['', '*', 'identity;q=0', 'br;q=abc, gzip;q=2', ',,,;;;', 'x'.repeat(8000), Array.from({ length: 500 }, (_, i) => `e${i};q=0.${i % 10}`).join(', ')]) {
      const res = await get('', { 'accept-encoding': encoding })
      expect(res.statusCode, encoding.slice(0, 40)).toBe(200)
      const body = res.headers['content-encoding'] === 'br' ? brotliDecompressSync(res.rawPayload).toString() : res.headers['content-encoding'] === 'gzip' ? gunzipSync(res.rawPayload).toString() : res.body
      expect(body).toContain('Pro Plan')
    }
    // 100 queries never seen before: each is answered with its own continue link, and none reads the link again.
    await warm(ctx, log, link.client_secret)
    const statements = await log.during(async () => {
      for (let i = 0; i < 100; i++) {
        const res = await get(`?utm_campaign=c${i}`, {})
        expect(res.statusCode).toBe(200)
        expect(res.body).toContain(`utm_campaign=c${i}`)
      }
    })
    expect(linkReads(statements)).toBe(0)
  })

  it('an unknown link is read every time: nothing negative is kept', async () => {
    const missing = 'polar_cl_doesnotexistyet'
    for (let i = 0; i < 2; i++) {
      const statements = await log.during(async () => expect((await visit(ctx, missing)).statusCode).toBe(404))
      expect(linkReads(statements)).toBe(1)
    }
  })

  /** Warms the cache, proves it is used, makes the change, and hands back the next preview and visit. */
  async function afterChange(secret: string, change: () => Promise<unknown>) {
    await warm(ctx, log, secret)
    await change()
    return { preview: await preview(ctx, secret), visit: await visit(ctx, secret) }
  }

  it('editing the link (PATCH) is seen by the next visit', async () => {
    const { org, link } = await setUp(ctx)
    const next = await afterChange(link.client_secret, () => patch(ctx, org, `/v1/checkout-links/${link.id}`, { success_url: 'https://shop.example/thanks' }))
    expect((await sessionOf(ctx, next.visit.headers.location as string)).success_url).toBe('https://shop.example/thanks')
  })

  it("changing the link's products is seen by the next visit", async () => {
    const { org, link, other } = await setUp(ctx)
    const next = await afterChange(link.client_secret, () => patch(ctx, org, `/v1/checkout-links/${link.id}`, { products: [other.id] }))
    expect(next.preview.body).toContain('Team Plan')
    expect((await sessionOf(ctx, next.visit.headers.location as string)).product_id).toBe(other.id)
  })

  it("renaming a product and replacing its price are seen by the next visit", async () => {
    const { org, link, product } = await setUp(ctx)
    let next = await afterChange(link.client_secret, () => patch(ctx, org, `/v1/products/${product.id}`, { name: 'Pro Plan 2' }))
    expect(next.preview.body).toContain('Pro Plan 2')
    next = await afterChange(link.client_secret, () =>
      patch(ctx, org, `/v1/products/${product.id}`, { prices: [{ amount_type: 'fixed', price_amount: 2500, price_currency: 'eur' }] }),
    )
    expect(next.preview.body).toContain('€25')
    expect((await sessionOf(ctx, next.visit.headers.location as string)).amount).toBe(2500)
  })

  it('archiving the only product takes the link down at once', async () => {
    const { org, link, product } = await setUp(ctx)
    const next = await afterChange(link.client_secret, () => patch(ctx, org, `/v1/products/${product.id}`, { is_archived: true }))
    expect(next.preview.statusCode).toBe(404)
    expect(next.visit.statusCode).toBe(404)
  })

  it("changing the link's discount is seen by the next visit", async () => {
    const org = await createOrg(ctx, 'Cache Co')
    const discount = await post(ctx, org, '/v1/discounts/', { name: 'Ten off', type: 'percentage', basis_points: 1000, duration: 'once' })
    const { link } = await setUp(ctx, { org, discountId: discount.id })
    expect((await sessionOf(ctx, (await visit(ctx, link.client_secret)).headers.location as string)).discount_amount).toBe(190)
    const next = await afterChange(link.client_secret, () => patch(ctx, org, `/v1/discounts/${discount.id}`, { basis_points: 5000 }))
    expect((await sessionOf(ctx, next.visit.headers.location as string)).discount_amount).toBe(950)
  })

  it("attaching a custom field to the link's product, and renaming its slug, are seen by the next visit", async () => {
    const { org, link, product } = await setUp(ctx)
    const field = await post(ctx, org, '/v1/custom-fields/', { type: 'text', slug: 'company', name: 'Company', properties: {} })
    const fieldsOf = async (secret: string, query: string) => {
      const res = await ctx.app.inject({ method: 'GET', url: `/buy/${secret}?${query}`, headers: { 'user-agent': CHROME } })
      const session = /\/checkout\/(polar_c_[A-Za-z0-9_-]+)/.exec(res.headers.location as string)![1]!
      return (await sql<{ custom_field_data: Record<string, unknown> }>`select custom_field_data from checkouts where client_secret = ${session}`.execute(ctx.deps.db)).rows[0]!.custom_field_data
    }
    await afterChange(link.client_secret, () => patch(ctx, org, `/v1/products/${product.id}`, { attached_custom_fields: [{ custom_field_id: field.id, required: false }] }))
    expect(await fieldsOf(link.client_secret, 'custom_field_data.company=Acme')).toEqual({ company: 'Acme' })
    await afterChange(link.client_secret, () => patch(ctx, org, `/v1/custom-fields/${field.id}`, { type: 'text', slug: 'firm' }))
    expect(await fieldsOf(link.client_secret, 'custom_field_data.firm=Acme')).toEqual({ firm: 'Acme' })
  })

  it("renaming the organization is seen by the next preview", async () => {
    const { org, link } = await setUp(ctx)
    const next = await afterChange(link.client_secret, () => patch(ctx, org, `/v1/organizations/${org.organizationId}`, { name: 'Renamed Co' }))
    expect(next.preview.body).toContain('<meta property="og:site_name" content="Renamed Co">')
  })

  it('a webhook endpoint for checkout.created makes the next visit write its event', async () => {
    const hooked = await createTestApp({ database, config: { visitCountFlushSeconds: 3600, webhooksAllowInsecure: true } })
    const { org, link } = await setUp(hooked)
    const events = async () => Number((await sql<{ n: string }>`select count(*) as n from webhook_events where organization_id = ${org.organizationId} and type = 'checkout.created'`.execute(ctx.deps.db)).rows[0]!.n)
    await warm(hooked, log, link.client_secret)
    await post(hooked, org, '/v1/webhooks/endpoints', { url: 'http://127.0.0.1:9/hook', format: 'raw', events: ['checkout.created'] })
    expect((await visit(hooked, link.client_secret)).statusCode).toBe(307)
    expect(await events()).toBe(1)
  })

  it('deleting the link takes it down at once', async () => {
    const { org, link } = await setUp(ctx)
    const next = await afterChange(link.client_secret, async () => {
      const res = await ctx.app.inject({ method: 'DELETE', url: `/v1/checkout-links/${link.id}`, headers: org.headers })
      expect(res.statusCode).toBe(204)
    })
    expect(next.preview.statusCode).toBe(404)
    expect(next.visit.statusCode).toBe(404)
  })

  it("another organization's change leaves this link cached", async () => {
    const { link } = await setUp(ctx)
    const other = await setUp(ctx)
    await warm(ctx, log, link.client_secret)
    await patch(ctx, other.org, `/v1/products/${other.product.id}`, { name: 'Elsewhere' })
    expect(linkReads(await log.during(() => preview(ctx, link.client_secret)))).toBe(0)
  })
})

describe('the cache and a read in flight', async () => {
  const ctx = await createTestApp()

  it('an invalidation that arrives while a read is in flight: the read is answered, not kept', async () => {
    const { org, link, product } = await setUp(ctx)
    let pause: Promise<void> | undefined
    let reads = 0
    let messages = 0
    let heard!: () => void
    const invalidated = new Promise<void>((r) => (heard = r))
    let gotRow!: () => void
    const readDone = new Promise<void>((r) => (gotRow = r))
    const cache = new LinkVisitCache({
      load: async (secret) => {
        reads++
        const row = await findLinkForVisit(ctx.deps.db, secret)
        gotRow()
        await pause
        return row
      },
    })
    const listener = await ctx.database.listen(LINK_CONFIG_CHANNEL, {
      onMessage: (payload) => {
        messages++
        cache.invalidate(payload)
        if (payload === org.organizationId) heard()
      },
      onReady: () => cache.ready(),
      onLost: () => cache.lost(),
    })
    try {
      expect(cache.isTrusted).toBe(true)
      let release!: () => void
      pause = new Promise((r) => (release = r))
      const inFlight = cache.get(link.client_secret)
      // The read has its row (the old name) and waits; the rename commits and is heard meanwhile.
      await readDone
      await patch(ctx, org, `/v1/products/${product.id}`, { name: 'Renamed While Reading' })
      await invalidated
      // One change can be several notifications (the product's row and its trigger-fed neighbours): all of
      // them are heard before the next read, or a late one would (rightly) keep that read out of the cache.
      for (let seen = -1; seen !== messages; ) {
        seen = messages
        await new Promise((r) => setTimeout(r, 150))
      }
      release()
      pause = undefined
      expect((await inFlight)!.products[0]!.product.name).toBe('Pro Plan')

      const next = await cache.get(link.client_secret)
      expect(reads).toBe(2)
      expect(next!.products[0]!.product.name).toBe('Renamed While Reading')
      // Now it is kept, frozen.
      expect(await cache.get(link.client_secret)).toBe(next)
      expect(reads).toBe(2)
      expect(Object.isFrozen(next!.products[0]!.product)).toBe(true)
    } finally {
      await listener.close()
    }
  })
})

describe('the cache without a LISTEN', () => {
  it('is bypassed until ready, and again from lost; each clears it', async () => {
    const database = await testDatabase()
    let reads = 0
    const cache = new LinkVisitCache({ load: (s) => (reads++, findLinkForVisit(database.db, s)) })
    const app = await createTestApp({ database })
    const { link } = await setUp(app)
    await cache.get(link.client_secret)
    await cache.get(link.client_secret)
    expect(reads).toBe(2)
    cache.ready()
    await cache.get(link.client_secret)
    await cache.get(link.client_secret)
    expect(reads).toBe(3)
    cache.lost()
    expect(cache.size).toBe(0)
    await cache.get(link.client_secret)
    await cache.get(link.client_secret)
    expect(reads).toBe(5)
  })

  it('keeps at most maxEntries, forgetting the least recently visited, and reads again past maxAgeMs', async () => {
    const database = await testDatabase()
    const app = await createTestApp({ database })
    const org = await createOrg(app)
    const a = await setUp(app, { org })
    const b = await setUp(app, { org })
    const c = await setUp(app, { org })
    let now = 0
    const loads: string[] = []
    const cache = new LinkVisitCache({ load: (s) => (loads.push(s), findLinkForVisit(database.db, s)), maxEntries: 2, maxAgeMs: 1000, now: () => now })
    cache.ready()
    const [sa, sb, sc] = [a.link.client_secret, b.link.client_secret, c.link.client_secret]
    for (const s of [sa, sb, sa, sc]) await cache.get(s) // b is the least recent when c comes
    expect(cache.size).toBe(2)
    loads.length = 0
    for (const s of [sa, sc, sb]) await cache.get(s)
    expect(loads).toEqual([sb])
    now = 1000
    loads.length = 0
    await cache.get(sb)
    expect(loads).toEqual([sb])
    cache.invalidate(org.organizationId)
    expect(cache.size).toBe(0)
  })
})

/** A second node: its own connection pool on the same database, so it hears the first only through NOTIFY. */
async function secondNode(name: string) {
  const url = new URL(testDatabaseUrl!)
  url.searchParams.set('application_name', name)
  const own = await openPostgres(url.toString(), { listenRetryDelayMs: () => 1500 })
  const { database, log } = logged(own)
  const node = await createTestApp({ database, config: { visitCountFlushSeconds: 3600 } })
  return { node, log, close: () => own.close() }
}


describe.skipIf(!testDatabaseUrl)('two nodes on one PostgreSQL (NOTIFY crosses processes; PGlite is one process)', async () => {
  const a = await createTestApp()

  it("a change made through node A is seen by node B's next visit within a second", async () => {
    const b = await secondNode(`kassa_cache_b_${process.pid}`)
    try {
      const { org, link, product } = await setUp(a)
      await warm(b.node, b.log, link.client_secret)
      await patch(a, org, `/v1/products/${product.id}`, { name: 'Seen Across Nodes' })
      expect(await until(async () => (await preview(b.node, link.client_secret)).body.includes('Seen Across Nodes'), 1000)).toBe(true)
    } finally {
      await b.node.app.close()
      await b.close()
    }
  })

  it('with its LISTEN killed, node B reads every visit from the database (a change meanwhile is never served stale), then reconnects and caches again', async () => {
    const name = `kassa_cache_kill_${process.pid}`
    const b = await secondNode(name)
    try {
      const { org, link, product } = await setUp(a)
      const cache = b.node.app.frontDoor.linkCache
      await warm(b.node, b.log, link.client_secret)
      expect(cache.size).toBe(1)

      const killed = await sql<{ pid: number }>`
        select pg_terminate_backend(pid) from pg_stat_activity where query ilike 'listen%' and application_name = ${name}`.execute(a.deps.db)
      expect(killed.rows).toHaveLength(1)
      expect(await until(() => !cache.isTrusted, 5000)).toBe(true)
      expect(cache.size).toBe(0)

      // B hears nothing now: the rename reaches it only because it reads.
      await patch(a, org, `/v1/products/${product.id}`, { name: 'Renamed While Deaf' })
      for (let i = 0; i < 2; i++) {
        let res!: Awaited<ReturnType<typeof preview>>
        const statements = await b.log.during(async () => {
          res = await preview(b.node, link.client_secret)
        })
        expect(cache.isTrusted).toBe(false)
        expect(linkReads(statements)).toBe(1)
        expect(res.body).toContain('Renamed While Deaf')
      }

      expect(await until(() => cache.isTrusted, 10_000)).toBe(true)
      await warm(b.node, b.log, link.client_secret)
      // And it hears changes again.
      await patch(a, org, `/v1/products/${product.id}`, { name: 'Heard Again' })
      expect(await until(async () => (await preview(b.node, link.client_secret)).body.includes('Heard Again'), 1000)).toBe(true)
    } finally {
      await b.node.app.close()
      await b.close()
    }
  })
})
