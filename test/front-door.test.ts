import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { PREVIEWERS } from '../src/checkouts/visitors'
import { FixedClock, createOrg, createTestApp, type TestContext } from './helpers'
import { describeRedis, redisUrl } from './redis'

/**
 * The link's front door (issue 10): previewers and prefetches open nothing, a returning browser gets its
 * session back, floods are held, every visit is counted. Sessions are counted in the database, not
 * guessed from the answers.
 */

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const SAFARI_IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'

/** Real previewers' user agents, as they send them (beyond the ten the classifier checks itself). */
const MORE_PREVIEWERS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)',
  'Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)',
  'Mastodon/4.2.0 (http.rb/5.1.1; +https://mastodon.social/) Bot',
  'Pinterest/0.2 (+https://www.pinterest.com/bot.html)',
  'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)',
  'Iframely/1.3.1 (+https://iframely.com/docs/about)',
  'Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)',
  'Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com',
  'vkShare; +http://vk.com/dev/Share',
]

async function setUp(ctx: TestContext, opts: { price?: number; name?: string; description?: string } = {}) {
  const org = await createOrg(ctx, 'Front Door Co')
  const post = async (url: string, payload: Record<string, unknown>) => {
    const res = await ctx.app.inject({ method: 'POST', url, headers: org.headers, payload })
    expect(res.statusCode, res.body).toBe(201)
    return res.json()
  }
  const product = await post('/v1/products/', {
    name: opts.name ?? 'Pro Plan',
    description: opts.description ?? 'Everything in one plan.',
    prices: [{ amount_type: 'fixed', price_amount: opts.price ?? 1900, price_currency: 'eur' }],
  })
  const link = await post('/v1/checkout-links/', { payment_processor: 'stripe', products: [product.id] })
  return { org, product, link: link as { id: string; client_secret: string } }
}

const sessionsOf = async (ctx: TestContext, linkId: string) =>
  Number((await sql<{ n: string }>`select count(*) as n from checkouts where checkout_link_id = ${linkId}`.execute(ctx.deps.db)).rows[0]!.n)

const secretOf = (location: string) => /\/checkout\/(polar_c_[A-Za-z0-9_-]+)/.exec(location)![1]!

const cookieOf = (setCookie: string | string[] | undefined) => {
  const c = Array.isArray(setCookie) ? setCookie[0]! : setCookie!
  return c.split(';')[0]!
}

describe('who is visiting', async () => {
  const ctx = await createTestApp()
  const { app } = ctx

  it('link previewers get a cacheable preview with Open Graph and Twitter tags, and no session', async () => {
    const { link } = await setUp(ctx, { name: 'Pro <Plan>', description: 'All the "things".', price: 1900 })
    const uas = [...PREVIEWERS, ...MORE_PREVIEWERS]
    expect(uas.length).toBeGreaterThanOrEqual(8)
    for (const ua of uas) {
      const res = await app.inject({ method: 'GET', url: `/buy/${link.client_secret}`, headers: { 'user-agent': ua } })
      expect(res.statusCode, ua).toBe(200)
      expect(res.headers['content-type']).toContain('text/html')
      expect(res.headers['cache-control'], ua).toBe('public, max-age=300')
      expect(String(res.headers.vary)).toContain('User-Agent')
      expect(res.headers['set-cookie']).toBeUndefined()
      expect(res.body).toContain('<meta property="og:title" content="Pro &#60;Plan&#62;">')
      expect(res.body).toContain('<meta property="og:description" content="All the &#34;things&#34;.">')
      expect(res.body).toContain('<meta property="og:site_name" content="Front Door Co">')
      expect(res.body).toContain(`<meta property="og:url" content="http://kassa.test/buy/${link.client_secret}">`)
      expect(res.body).toContain('<meta name="twitter:card" content="summary">')
      expect(res.body).toContain('€19')
    }
    expect(await sessionsOf(ctx, link.id)).toBe(0)
  })

  it('the preview is localized by Accept-Language, and its continue button opens a session', async () => {
    const { link } = await setUp(ctx, { price: 1900 })
    const res = await app.inject({ method: 'GET', url: `/buy/${link.client_secret}?utm_source=chat`, headers: { 'user-agent': PREVIEWERS[0]!, 'accept-language': 'de-DE,de;q=0.9' } })
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('<html lang="de"')
    expect(res.body).toContain('<meta property="og:locale" content="de_DE">')
    expect(res.body).toMatch(/<p class="price">19\s€<\/p>/)
    expect(res.body).toContain('Weiter zur Kasse')
    const action = /<form method="post" action="([^"]+)"/.exec(res.body)![1]!.replace(/&amp;/g, '&')
    expect(action).toBe(`/buy/${link.client_secret}?utm_source=chat`)
    expect(await sessionsOf(ctx, link.id)).toBe(0)
    const go = await app.inject({ method: 'POST', url: action, headers: { 'user-agent': PREVIEWERS[0]!, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'locale=de' })
    expect(go.statusCode).toBe(303)
    expect(go.headers.location).toMatch(/^http:\/\/kassa\.test\/checkout\/polar_c_/)
    expect(await sessionsOf(ctx, link.id)).toBe(1)
  })

  it('people, HTTP libraries and headless browsers get a session as before', async () => {
    const { link } = await setUp(ctx)
    const uas = [CHROME, SAFARI_IOS, 'curl/8.5.0', 'python-requests/2.32.3', 'Go-http-client/1.1', 'node', 'axios/1.7.2', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36', '']
    for (const ua of uas) {
      const res = await app.inject({ method: 'GET', url: `/buy/${link.client_secret}`, headers: { 'user-agent': ua } })
      expect(res.statusCode, ua).toBe(307)
    }
    expect(await sessionsOf(ctx, link.id)).toBe(uas.length)
  })

  it('prefetch and prerender open nothing and answer 503 no-store; the navigation after opens the session', async () => {
    const { link } = await setUp(ctx)
    const prefetches = [{ 'sec-purpose': 'prefetch' }, { 'sec-purpose': 'prefetch;prerender' }, { 'sec-purpose': 'prefetch; anonymous-client-ip' }, { purpose: 'prefetch' }, { 'x-purpose': 'preview' }, { 'x-moz': 'prefetch' }]
    for (const h of prefetches) {
      for (const url of [`/buy/${link.client_secret}`, `/v1/checkout-links/${link.client_secret}/redirect`]) {
        const res = await app.inject({ method: 'GET', url, headers: { 'user-agent': CHROME, ...h } })
        expect(res.statusCode, JSON.stringify(h)).toBe(503)
        expect(res.headers['cache-control']).toBe('no-store')
        expect(res.headers['set-cookie']).toBeUndefined()
      }
    }
    expect(await sessionsOf(ctx, link.id)).toBe(0)
    const nav = await app.inject({ method: 'GET', url: `/buy/${link.client_secret}`, headers: { 'user-agent': CHROME } })
    expect(nav.statusCode).toBe(307)
    expect(await sessionsOf(ctx, link.id)).toBe(1)
  })

  it('HEAD opens nothing; unknown links stay 404 for every kind of visitor', async () => {
    const { link } = await setUp(ctx)
    expect((await app.inject({ method: 'HEAD', url: `/buy/${link.client_secret}` })).statusCode).toBe(200)
    expect(await sessionsOf(ctx, link.id)).toBe(0)
    for (const headers of [{ 'user-agent': PREVIEWERS[0]! }, { 'sec-purpose': 'prefetch' }, { 'user-agent': CHROME }]) {
      expect((await app.inject({ method: 'GET', url: '/buy/polar_cl_nope', headers })).statusCode).toBe(404)
      expect((await app.inject({ method: 'GET', url: '/v1/checkout-links/polar_cl_nope/redirect', headers })).statusCode).toBe(404)
    }
  })
})

describe('hostile input at the front door', async () => {
  const ctx = await createTestApp()
  const { app } = ctx

  it('the preview escapes the query it carries into its form, and odd posts to the link never 500', async () => {
    const { link } = await setUp(ctx)
    const evil = '"><script>alert(1)</script>&x=\'<'
    const res = await app.inject({ method: 'GET', url: `/buy/${link.client_secret}?q=${encodeURIComponent(evil)}&r="><img src=x>`, headers: { 'user-agent': PREVIEWERS[2]! } })
    expect(res.statusCode).toBe(200)
    expect(res.body).not.toContain('<script>alert')
    expect(res.body).not.toContain('<img src=x>')
    const bodies: { headers: Record<string, string>; payload: string }[] = [
      { headers: { 'content-type': 'application/json' }, payload: '[1,2,3]' },
      { headers: { 'content-type': 'application/json' }, payload: '"locale"' },
      { headers: { 'content-type': 'application/json' }, payload: '{"locale":{"a":1}}' },
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'locale=%ZZ&locale=de&locale[]=x' },
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'locale=' + 'x'.repeat(70_000) },
      { headers: { 'content-type': 'text/plain' }, payload: 'hello' },
    ]
    for (const b of bodies) {
      const r = await app.inject({ method: 'POST', url: `/buy/${link.client_secret}`, ...b })
      expect(r.statusCode, `${b.headers['content-type']} ${b.payload.slice(0, 40)}: ${r.body.slice(0, 200)}`).toBeLessThan(500)
    }
    const cookieBomb = await app.inject({ method: 'GET', url: `/buy/${link.client_secret}`, headers: { cookie: `kassa_visit=${'polar_c_'.repeat(1000)}; kassa_visit=x` } })
    expect(cookieBomb.statusCode).toBe(307)
  })
})

describe('a returning browser gets its session back', async () => {
  const clock = new FixedClock('2026-06-01T12:00:00Z')
  const ctx = await createTestApp({ clock })
  const { app } = ctx

  async function visit(secret: string, query = '', cookie?: string, route: 'link' | 'api' = 'link') {
    const url = (route === 'link' ? `/buy/${secret}` : `/v1/checkout-links/${secret}/redirect`) + (query ? `?${query}` : '')
    const res = await app.inject({ method: 'GET', url, headers: { 'user-agent': CHROME, ...(cookie ? { cookie } : {}) } })
    expect(res.statusCode, res.body).toBe(307)
    return { res, secret: secretOf(res.headers.location as string) }
  }

  it('the 307 sets an HttpOnly, SameSite=Lax cookie scoped to the link path, for the session life', async () => {
    const { link } = await setUp(ctx)
    const { res } = await visit(link.client_secret)
    const c = String(res.headers['set-cookie'])
    expect(c).toMatch(/^kassa_visit=polar_c_[A-Za-z0-9_-]+; /)
    expect(c).toContain(`Path=/buy/${link.client_secret};`)
    expect(c).toContain('HttpOnly')
    expect(c).toContain('SameSite=Lax')
    expect(c).not.toContain('Secure')
    expect(c).toContain(`Max-Age=${ctx.deps.config.checkoutTtlSeconds}`)
    const api = await visit(link.client_secret, '', undefined, 'api')
    expect(String(api.res.headers['set-cookie'])).toContain(`Path=/v1/checkout-links/${link.client_secret}/redirect;`)
  })

  it('is Secure when PUBLIC_URL is https', async () => {
    const https = await createTestApp({ config: { publicUrl: 'https://shop.example', linkBaseUrl: 'https://shop.example/buy' } })
    const { link } = await setUp(https)
    const res = await https.app.inject({ method: 'GET', url: `/buy/${link.client_secret}`, headers: { 'user-agent': CHROME } })
    expect(String(res.headers['set-cookie'])).toContain('; Secure')
  })

  it('same browser, link and query while open → the same session, no insert; another query or no cookie → new', async () => {
    const { link } = await setUp(ctx)
    const first = await visit(link.client_secret, 'utm_source=x&customer_email=a%40example.com&foo=bar')
    const cookie = cookieOf(first.res.headers['set-cookie'])
    const again = await visit(link.client_secret, 'utm_source=x&customer_email=a%40example.com&foo=bar', cookie)
    expect(again.secret).toBe(first.secret)
    expect(again.res.headers.location).toBe(first.res.headers.location)
    expect(again.res.headers['set-cookie']).toBeUndefined()
    expect(await sessionsOf(ctx, link.id)).toBe(1)

    const other = await visit(link.client_secret, 'utm_source=y', cookie)
    expect(other.secret).not.toBe(first.secret)
    const none = await visit(link.client_secret, 'utm_source=x&customer_email=a%40example.com&foo=bar')
    expect(none.secret).not.toBe(first.secret)
    expect(await sessionsOf(ctx, link.id)).toBe(3)
  })

  it('a confirmed, paid, failed or expired session is never handed out again', async () => {
    const { link } = await setUp(ctx)
    const first = await visit(link.client_secret)
    const cookie = cookieOf(first.res.headers['set-cookie'])
    const confirm = await app.inject({ method: 'POST', url: `/v1/checkouts/client/${first.secret}/confirm`, payload: { confirmation_token_id: 'tok_sandbox_success', customer_email: 'ada@example.com', customer_name: 'Ada' } })
    expect(confirm.statusCode, confirm.body).toBe(200)
    const after = await visit(link.client_secret, '', cookie)
    expect(after.secret).not.toBe(first.secret)

    // Expired: the clock passes the session's expiry (and its last minutes do not count: it would expire in the buyer's hands).
    const fresh = await visit(link.client_secret, 'x=1')
    const freshCookie = cookieOf(fresh.res.headers['set-cookie'])
    clock.advance((ctx.deps.config.checkoutTtlSeconds - 60) * 1000)
    const late = await visit(link.client_secret, 'x=1', freshCookie)
    expect(late.secret).not.toBe(fresh.secret)
  })

  it('a cookie naming another link’s session, a made-up one or garbage opens a new session', async () => {
    const a = await setUp(ctx)
    const b = await setUp(ctx)
    const onA = await visit(a.link.client_secret)
    const foreign = await visit(b.link.client_secret, '', cookieOf(onA.res.headers['set-cookie']))
    expect(foreign.secret).not.toBe(onA.secret)
    for (const cookie of ['kassa_visit=polar_c_madeup', 'kassa_visit=%00%27;', `kassa_visit=${'x'.repeat(5000)}`, 'kassa_visit=']) {
      const res = await visit(b.link.client_secret, '', cookie)
      expect(res.secret).not.toBe(onA.secret)
    }
  })

  it('a deleted link does not hand back its sessions', async () => {
    const { org, link } = await setUp(ctx)
    const first = await visit(link.client_secret)
    const cookie = cookieOf(first.res.headers['set-cookie'])
    expect((await app.inject({ method: 'DELETE', url: `/v1/checkout-links/${link.id}`, headers: org.headers })).statusCode).toBe(204)
    const res = await app.inject({ method: 'GET', url: `/buy/${link.client_secret}`, headers: { 'user-agent': CHROME, cookie } })
    expect(res.statusCode).toBe(404)
  })
})

describe('floods are held', () => {
  describe('on one process', async () => {
    const ctx = await createTestApp({ config: { linkVisitRateLimit: 3 } })
    const { app } = ctx
    const get = (url: string, ip = '203.0.113.7', headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, remoteAddress: ip, headers: { 'user-agent': CHROME, ...headers } })

    it('past the limit a client gets a localized 429 page with Retry-After; the API redirect answers in Polar’s format', async () => {
      const { link } = await setUp(ctx)
      for (let i = 0; i < 3; i++) expect((await get(`/buy/${link.client_secret}?i=${i}`)).statusCode).toBe(307)
      const page = await get(`/buy/${link.client_secret}`, '203.0.113.7', { 'accept-language': 'fr' })
      expect(page.statusCode).toBe(429)
      const retry = Number(page.headers['retry-after'])
      expect(retry).toBeGreaterThan(0)
      expect(retry).toBeLessThanOrEqual(60)
      expect(page.headers['content-type']).toContain('text/html')
      expect(page.body).toContain('<html lang="fr"')
      const api = await get(`/v1/checkout-links/${link.client_secret}/redirect`)
      expect(api.statusCode).toBe(429)
      expect(api.json()).toEqual({ error: 'TooManyRequests', detail: expect.stringMatching(/^Too many checkout sessions opened from this link\. Try again in /) })
      expect(Number(api.headers['retry-after'])).toBeGreaterThan(0)
      expect(await sessionsOf(ctx, link.id)).toBe(3)
    })

    it('counts per client and per link: another address or another link is not held', async () => {
      const { link } = await setUp(ctx)
      const other = await setUp(ctx)
      for (let i = 0; i < 4; i++) await get(`/buy/${link.client_secret}`, '198.51.100.1')
      expect((await get(`/buy/${link.client_secret}`, '198.51.100.1')).statusCode).toBe(429)
      expect((await get(`/buy/${link.client_secret}`, '198.51.100.2')).statusCode).toBe(307)
      expect((await get(`/buy/${other.link.client_secret}`, '198.51.100.1')).statusCode).toBe(307)
      // One IPv6 host holds a /64: its addresses count together.
      for (let i = 1; i <= 3; i++) expect((await get(`/buy/${link.client_secret}`, `2001:db8:1:2::${i}`)).statusCode).toBe(307)
      expect((await get(`/buy/${link.client_secret}`, '2001:db8:1:2::ff')).statusCode).toBe(429)
    })

    it('previews, prefetches and reused sessions do not count', async () => {
      const { link } = await setUp(ctx)
      const ip = '192.0.2.44'
      const first = await get(`/buy/${link.client_secret}`, ip)
      const cookie = cookieOf(first.headers['set-cookie'])
      for (let i = 0; i < 20; i++) {
        expect((await get(`/buy/${link.client_secret}`, ip, { cookie })).statusCode).toBe(307)
        expect((await get(`/buy/${link.client_secret}`, ip, { 'user-agent': PREVIEWERS[i % PREVIEWERS.length]! })).statusCode).toBe(200)
        expect((await get(`/buy/${link.client_secret}`, ip, { 'sec-purpose': 'prefetch' })).statusCode).toBe(503)
      }
      expect((await get(`/buy/${link.client_secret}?b`, ip)).statusCode).toBe(307)
      expect((await get(`/buy/${link.client_secret}?c`, ip)).statusCode).toBe(307)
      expect((await get(`/buy/${link.client_secret}?d`, ip)).statusCode).toBe(429)
    })
  })

  describe('off', async () => {
    const ctx = await createTestApp({ config: { linkVisitRateLimit: 0 } })
    it('LINK_VISIT_RATE_LIMIT=0 lets every visit open a session', async () => {
      const { link } = await setUp(ctx)
      for (let i = 0; i < 150; i++) {
        const res = await ctx.app.inject({ method: 'GET', url: `/buy/${link.client_secret}`, remoteAddress: '203.0.113.9' })
        expect(res.statusCode).toBe(307)
      }
      expect(await sessionsOf(ctx, link.id)).toBe(150)
    })
  })

  it('the default is 60 a minute', async () => {
    const { loadConfig } = await import('../src/config')
    expect(loadConfig({}).linkVisitRateLimit).toBe(60)
    expect(loadConfig({ LINK_VISIT_RATE_LIMIT: '0' }).linkVisitRateLimit).toBe(0)
    expect(() => loadConfig({ LINK_VISIT_RATE_LIMIT: '-1' })).toThrow(/LINK_VISIT_RATE_LIMIT/)
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/)
  })

  describeRedis('shared by two processes through Redis', async () => {
    const a = await createTestApp({ config: { linkVisitRateLimit: 4, redisUrl: redisUrl() } })
    const b = await createTestApp({ config: { linkVisitRateLimit: 4, redisUrl: redisUrl() }, database: a.database })
    const get = (ctx: TestContext, secret: string, ip: string) => ctx.app.inject({ method: 'GET', url: `/buy/${secret}`, remoteAddress: ip, headers: { 'user-agent': CHROME } })

    it('new sessions on node A and node B count against one limit', async () => {
      const { link } = await setUp(a)
      const ip = '203.0.113.50'
      expect((await get(a, link.client_secret, ip)).statusCode).toBe(307)
      expect((await get(b, link.client_secret, ip)).statusCode).toBe(307)
      expect((await get(a, link.client_secret, ip)).statusCode).toBe(307)
      expect((await get(b, link.client_secret, ip)).statusCode).toBe(307)
      expect((await get(a, link.client_secret, ip)).statusCode).toBe(429)
      expect((await get(b, link.client_secret, ip)).statusCode).toBe(429)
      expect((await get(b, link.client_secret, '203.0.113.51')).statusCode).toBe(307)
      expect(await sessionsOf(a, link.id)).toBe(5)
    })
  })

  describe('with Redis unreachable', async () => {
    const ctx = await createTestApp({ config: { linkVisitRateLimit: 2, redisUrl: 'redis://127.0.0.1:1' } })
    it('visits are let through (the limit must not take the shop down), quickly', async () => {
      const { link } = await setUp(ctx)
      for (let i = 0; i < 5; i++) {
        const res = await ctx.app.inject({ method: 'GET', url: `/buy/${link.client_secret}`, remoteAddress: '203.0.113.60' })
        expect(res.statusCode).toBe(307)
      }
    })
  })
})

describe('every visit is counted', async () => {
  const clock = new FixedClock('2026-06-01T12:00:00Z')
  const ctx = await createTestApp({ clock, config: { linkVisitRateLimit: 2 } })
  const { app } = ctx

  const countsOf = async (linkId: string) =>
    (
      await sql<Record<string, string | number>>`select day::text as day, utm_source, utm_medium, utm_campaign, visits, previews, prefetches, sessions_opened, sessions_reused, visits_limited
        from link_visit_counts where checkout_link_id = ${linkId} order by day, utm_source, utm_medium, utm_campaign`.execute(ctx.deps.db)
    ).rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v])))

  it('by kind, per day and utm, flushed as one upsert that adds up across flushes', async () => {
    const { link } = await setUp(ctx)
    const s = link.client_secret
    const get = (q: string, headers: Record<string, string> = {}, ip = '203.0.113.70') => app.inject({ method: 'GET', url: `/buy/${s}${q}`, remoteAddress: ip, headers: { 'user-agent': CHROME, ...headers } })
    const first = await get('?utm_source=news&utm_medium=email&utm_campaign=launch')
    await get('?utm_source=news&utm_medium=email&utm_campaign=launch', { cookie: cookieOf(first.headers['set-cookie']) }) // reused
    await get('?utm_source=news&utm_medium=email&utm_campaign=launch', { 'user-agent': PREVIEWERS[1]! }) // preview
    await get('?utm_source=news&utm_medium=email&utm_campaign=launch', { 'sec-purpose': 'prefetch' }) // prefetch
    await get('') // opened (second of the limit)
    await get('') // limited
    await app.inject({ method: 'HEAD', url: `/buy/${s}` }) // preview
    expect(await countsOf(link.id)).toEqual([])
    expect(await app.frontDoor.counts.flush(ctx.deps.db)).toBeGreaterThan(0)
    expect(await countsOf(link.id)).toEqual([
      { day: '2026-06-01', utm_source: '', utm_medium: '', utm_campaign: '', visits: 2, previews: 1, prefetches: 0, sessions_opened: 1, sessions_reused: 0, visits_limited: 1 },
      { day: '2026-06-01', utm_source: 'news', utm_medium: 'email', utm_campaign: 'launch', visits: 2, previews: 1, prefetches: 1, sessions_opened: 1, sessions_reused: 1, visits_limited: 0 },
    ])
    // The next flush adds to the same rows; the next day gets its own.
    await get('', {}, '203.0.113.71')
    clock.advance(86_400_000)
    await get('', {}, '203.0.113.71')
    await app.frontDoor.counts.flush(ctx.deps.db)
    const rows = await countsOf(link.id)
    expect(rows.map((r) => [r.day, r.utm_source, r.sessions_opened, r.visits])).toEqual([
      ['2026-06-01', '', 2, 3],
      ['2026-06-01', 'news', 1, 2],
      ['2026-06-02', '', 1, 1],
    ])
  })

  it('the counts survive retention deleting the sessions they describe', async () => {
    const { link } = await setUp(ctx)
    await app.inject({ method: 'GET', url: `/buy/${link.client_secret}?utm_source=kept`, remoteAddress: '203.0.113.80', headers: { 'user-agent': CHROME } })
    await app.frontDoor.counts.flush(ctx.deps.db)
    const { pruneCheckouts } = await import('../src/checkouts/jobs')
    clock.advance((ctx.deps.config.checkoutTtlSeconds + 31 * 86_400) * 1000)
    await sql`update checkouts set status = 'expired' where checkout_link_id = ${link.id}`.execute(ctx.deps.db)
    await pruneCheckouts(ctx.deps)
    expect(await sessionsOf(ctx, link.id)).toBe(0)
    expect((await countsOf(link.id)).map((r) => [r.utm_source, r.sessions_opened])).toEqual([['kept', 1]])
  })
})


