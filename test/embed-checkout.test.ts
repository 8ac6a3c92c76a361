import type { Polar } from '@polar-sh/sdk'
import { describe, expect, it } from 'vitest'
import { settleCheckout } from '../src/checkouts/jobs'
import { createOrg, createTestApp, polarClient, type TestOrg } from './helpers'

/*
 * Embedded checkout on the server side: which `embed_origin` a session keeps (link visit and API), the
 * headers that let exactly that origin frame the page, the compact layout, and `/embed.js`.
 */

const MERCHANT = 'https://shop.example.com'

describe('embedded checkout', async () => {
  const ctx = await createTestApp({ config: { publicUrl: 'http://kassa.test', linkBaseUrl: 'http://kassa.test/buy' } })
  const { app } = ctx

  async function shop(embedHosts: string[] = ['shop.example.com', 'localhost:3000']): Promise<{ org: TestOrg; polar: Polar; linkSecret: string; productId: string }> {
    const org = await createOrg(ctx, 'Embed Shop')
    await app.inject({ method: 'PATCH', url: `/v1/organizations/${org.organizationId}`, headers: org.headers, payload: { embed_hosts: embedHosts } })
    const polar = await polarClient(app, org.token)
    const p = await polar.products.create({ name: 'Poster', prices: [{ amountType: 'fixed', priceAmount: 1500 }] } as Parameters<Polar['products']['create']>[0])
    const l = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [p.id] } as Parameters<Polar['checkoutLinks']['create']>[0])
    return { org, polar, linkSecret: l.clientSecret, productId: p.id }
  }

  /** A link visit: the session's client secret, its stored embed_origin, and the page URL it was sent to. */
  async function visit(linkSecret: string, query: string) {
    const r = await app.inject({ url: `/buy/${linkSecret}?${query}` })
    expect(r.statusCode).toBe(307)
    const location = new URL(r.headers.location as string)
    const secret = location.pathname.split('/')[2]!
    const session = await ctx.deps.db.selectFrom('checkouts').select(['id', 'embed_origin']).where('client_secret', '=', secret).executeTakeFirstOrThrow()
    return { secret, id: session.id, embedOrigin: session.embed_origin, location }
  }

  const enc = encodeURIComponent

  describe('a link visit with ?embed_origin=', () => {
    it.each([
      [MERCHANT, MERCHANT],
      ['https://SHOP.example.com/some/page?x=1', MERCHANT],
      ['https://shop.example.com:443', MERCHANT],
      ['http://localhost:3000', 'http://localhost:3000'],
      ['http://shop.example.com', null],
      ['https://evil.example.com', null],
      ['https://shop.example.com:8443', null],
      ['http://localhost:3001', null],
      ['null', null],
      ['javascript:alert(1)', null],
      ['', null],
      ['%E0%A4%A', null],
    ])('%j is stored as %j', async (origin, stored) => {
      const { linkSecret } = await shop()
      const v = await visit(linkSecret, `embed=true&embed_origin=${origin.startsWith('%') ? origin : enc(origin)}`)
      expect(v.embedOrigin).toBe(stored)
      // Never forwarded to the page (Polar's redirect drops it too); `embed` is.
      expect(v.location.searchParams.has('embed_origin')).toBe(false)
      expect(v.location.searchParams.get('embed')).toBe('true')
    })

    it('an organization without embed_hosts embeds nowhere', async () => {
      const { linkSecret } = await shop([])
      expect((await visit(linkSecret, `embed=true&embed_origin=${enc(MERCHANT)}`)).embedOrigin).toBeNull()
    })

    it('a wildcard entry admits subdomains only', async () => {
      const { linkSecret } = await shop(['*.example.com'])
      expect((await visit(linkSecret, `embed_origin=${enc('https://a.example.com')}`)).embedOrigin).toBe('https://a.example.com')
      expect((await visit(linkSecret, `embed_origin=${enc('https://example.com')}`)).embedOrigin).toBeNull()
    })

    it('the session shows it to the merchant and the buyer, as Polar names it', async () => {
      const { polar, linkSecret } = await shop()
      const v = await visit(linkSecret, `embed_origin=${enc(MERCHANT)}`)
      expect((await polar.checkouts.get({ id: v.id })).embedOrigin).toBe(MERCHANT)
      expect((await polar.checkouts.clientGet({ clientSecret: v.secret })).embedOrigin).toBe(MERCHANT)
    })
  })

  describe('the API: embed_origin on create and update', () => {
    it('stores an allowed origin, normalized', async () => {
      const { polar, productId } = await shop()
      const c = await polar.checkouts.create({ products: [productId], embedOrigin: 'https://shop.example.com/cart' })
      expect(c.embedOrigin).toBe(MERCHANT)
      const u = await polar.checkouts.update({ id: c.id, checkoutUpdate: { embedOrigin: 'http://localhost:3000' } })
      expect(u.embedOrigin).toBe('http://localhost:3000')
      const cleared = await polar.checkouts.update({ id: c.id, checkoutUpdate: { embedOrigin: null } })
      expect(cleared.embedOrigin).toBeNull()
    })

    it.each([
      ['https://evil.example.com', 'Value error, https://evil.example.com is not allowed to embed this checkout: add its host to the organization\'s embed_hosts.'],
      ['http://shop.example.com', "Value error, http://shop.example.com is not allowed to embed this checkout: add its host to the organization's embed_hosts."],
      ['shop.example.com', 'Value error, embed_origin must be an origin, such as https://example.com.'],
      ['null', 'Value error, embed_origin must be an origin, such as https://example.com.'],
    ])('refuses %j with a 422 on body.embed_origin (create and update)', async (origin, msg) => {
      const { org, productId } = await shop()
      const issue = { loc: ['body', 'embed_origin'], msg, type: 'value_error', input: origin }
      const created = await app.inject({ method: 'POST', url: '/v1/checkouts/', headers: org.headers, payload: { products: [productId], embed_origin: origin } })
      expect(created.statusCode).toBe(422)
      expect(created.json().detail).toEqual([issue])
      const ok = await app.inject({ method: 'POST', url: '/v1/checkouts/', headers: org.headers, payload: { products: [productId] } })
      const updated = await app.inject({ method: 'PATCH', url: `/v1/checkouts/${ok.json().id}`, headers: org.headers, payload: { embed_origin: origin } })
      expect(updated.statusCode).toBe(422)
      expect(updated.json().detail).toEqual([issue])
    })
  })

  describe('the page headers', () => {
    const page = (secret: string, query = '') => app.inject({ url: `/checkout/${secret}${query}` })
    const csp = (r: { headers: Record<string, unknown> }) => String(r.headers['content-security-policy'])
    const frameAncestors = (r: { headers: Record<string, unknown> }) => /frame-ancestors ([^;]+)/.exec(csp(r))?.[1]

    it('embed=true on a session with an allowed origin: framed by exactly that origin, compact layout', async () => {
      const { linkSecret } = await shop()
      const v = await visit(linkSecret, `embed=true&theme=dark&embed_origin=${enc(MERCHANT)}`)
      const r = await page(v.secret, '?embed=true&theme=dark')
      expect(r.statusCode).toBe(200)
      expect(frameAncestors(r)).toBe(MERCHANT)
      expect(r.headers['x-frame-options']).toBeUndefined()
      // The rest of the policy is the page's usual one.
      expect(csp(r)).toMatch(/^default-src 'none'; script-src 'nonce-[^']+'; style-src 'nonce-[^']+'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors https:\/\/shop\.example\.com$/)
      expect(r.body).toContain(`data-embed-origin="${MERCHANT}"`)
      expect(r.body).toContain('id="k-close"')
      expect(r.body).toContain('aria-label="Close checkout"')
      expect(r.body).not.toContain('<footer>')
      // The form and its redirects keep the embedded layout.
      expect(r.body).toContain(`action="/checkout/${v.secret}?theme=dark&#38;embed=true"`)
    })

    it('the same session without embed=true: the normal page, framed by no one', async () => {
      const { linkSecret } = await shop()
      const v = await visit(linkSecret, `embed_origin=${enc(MERCHANT)}`)
      const r = await page(v.secret)
      expect(frameAncestors(r)).toBe("'none'")
      expect(r.headers['x-frame-options']).toBe('DENY')
      expect(r.body).not.toContain('data-embed-origin="')
      expect(r.body).toContain('<footer>')
    })

    it.each([
      ['an origin not in embed_hosts', `embed=true&embed_origin=${enc('https://evil.example.com')}`],
      ['no embed_origin at all', 'embed=true'],
    ])('embed=true on a session with %s: framed by no one, and nothing is posted', async (_what, query) => {
      const { linkSecret } = await shop()
      const v = await visit(linkSecret, query)
      const r = await page(v.secret, '?embed=true')
      expect(frameAncestors(r)).toBe("'none'")
      expect(r.headers['x-frame-options']).toBe('DENY')
      expect(r.body).not.toContain('data-embed-origin="')
    })

    it('a host removed from embed_hosts stops framing the sessions already opened from it', async () => {
      const { org, linkSecret } = await shop()
      const v = await visit(linkSecret, `embed=true&embed_origin=${enc(MERCHANT)}`)
      expect(frameAncestors(await page(v.secret, '?embed=true'))).toBe(MERCHANT)
      await app.inject({ method: 'PATCH', url: `/v1/organizations/${org.organizationId}`, headers: org.headers, payload: { embed_hosts: ['localhost:3000'] } })
      expect(frameAncestors(await page(v.secret, '?embed=true'))).toBe("'none'")
    })

    it('processing and confirmation pages of an embedded session are framed by it too', async () => {
      const { linkSecret } = await shop()
      const v = await visit(linkSecret, `embed=true&embed_origin=${enc(MERCHANT)}`)
      const confirm = await app.inject({
        method: 'POST',
        url: `/v1/checkouts/client/${v.secret}/confirm`,
        payload: { customer_email: 'ada@example.com', confirmation_token_id: 'tok_sandbox_success' },
      })
      expect(confirm.statusCode).toBe(200)
      const processing = await page(v.secret, '?embed=true')
      expect(frameAncestors(processing)).toBe(MERCHANT)
      expect(processing.body).toContain('data-poll="1"')
      // This session's settlement only (the queue is shared with other files).
      await settleCheckout(ctx.deps, v.id, 'tok_sandbox_success')
      const done = await page(v.secret, '/confirmation?embed=true')
      expect(done.body).toContain(`data-embed-origin="${MERCHANT}"`)
      expect(frameAncestors(done)).toBe(MERCHANT)
      expect(frameAncestors(await page(v.secret, '/confirmation'))).toBe("'none'")
    })

    it('an unknown session is never framed', async () => {
      const r = await page('polar_c_unknown', '?embed=true')
      expect(r.statusCode).toBe(404)
      expect(frameAncestors(r)).toBe("'none'")
    })
  })

  describe('/embed.js', () => {
    it('is JavaScript, cacheable, revalidated by ETag, and trusts only this instance', async () => {
      const r = await app.inject({ url: '/embed.js' })
      expect(r.statusCode).toBe(200)
      expect(r.headers['content-type']).toBe('text/javascript; charset=utf-8')
      expect(r.headers['cache-control']).toBe('public, max-age=3600')
      expect(r.headers['x-content-type-options']).toBe('nosniff')
      expect(r.headers['cross-origin-resource-policy']).toBe('cross-origin')
      expect(r.body).toContain('var ORIGINS = ["http://kassa.test"];')
      expect(r.body).not.toMatch(/\beval\(|new Function|innerHTML|setTimeout\('/)
      expect(() => new Function(r.body)).not.toThrow()
      const again = await app.inject({ url: '/embed.js', headers: { 'if-none-match': String(r.headers.etag) } })
      expect(again.statusCode).toBe(304)
      expect(again.body).toBe('')
    })
  })
})
