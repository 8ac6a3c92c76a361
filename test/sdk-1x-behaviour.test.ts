import { Polar } from '@polar-sh/sdk'
import { createPolar, webhooks } from 'polar-sdk-1/2026-10'
import { describe, expect, it } from 'vitest'
import { SETTLE_JOB, checkoutJobHandlers } from '../src/checkouts/jobs'
import { runDueJobs } from '../src/jobs/worker'
import { WEBHOOK_JOB_KINDS, webhookJobHandlers, webhookRetry } from '../src/webhooks/jobs'
import { FixedClock, createOrg, createTestApp, listen, tokenWithScopes } from './helpers'
import { webhookReceiver } from './receiver'

/*
 * Issue 18: what SDK 1.x sends and what its required fields mean, through 1.x where it has the call:
 * products.delete with Polar's rules and is_deletable telling in advance, max_redemptions_per_customer
 * enforced at confirm, units refused (no unit pricing), payment_method_type, order item periods,
 * webhook endpoints' api_version, and the Polar-Organization header.
 */
describe('SDK 1.x requests against Kassa', async () => {
  // Its own clock, in the past, so its settlement jobs are never due for another file's worker run.
  const clock = new FixedClock('2022-03-01T00:00:00Z')
  const ctx = await createTestApp({ clock, config: { webhooksAllowInsecure: true } })
  const baseUrl = await listen(ctx.app)
  const settle = () => runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
  const shop = async () => {
    const org = await createOrg(ctx, 'SDK One Requests')
    return { org, polar: createPolar({ accessToken: org.token, baseUrl }) }
  }
  const product = (polar: ReturnType<typeof createPolar>, extra: Record<string, unknown> = {}) =>
    polar.products.create({ name: 'Guide', prices: [{ amount_type: 'fixed', price_amount: 500, price_currency: 'usd' }], ...extra } as never)
  const confirm = (secret: string, body: Record<string, unknown> = { confirmation_token_id: 'tok_sandbox_success' }) =>
    ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${secret}/confirm`, payload: body })

  describe('DELETE /v1/products/{id}', () => {
    it('deletes a product nothing refers to (204), takes it off its links, and it is gone', async () => {
      const { polar } = await shop()
      const kept = await product(polar)
      const doomed = await product(polar, { name: 'Doomed' })
      expect(doomed.is_deletable).toBe(true)
      const link = await polar.checkoutLinks.create({ payment_processor: 'stripe', products: [kept.id, doomed.id] } as never)
      await polar.products.delete(doomed.id)
      await expect(polar.products.get(doomed.id)).rejects.toMatchObject({ statusCode: 404 })
      expect((await polar.checkoutLinks.get(link.id)).products.map((p) => p.id)).toEqual([kept.id])
      expect((await polar.products.list()).items.map((p) => p.id)).toEqual([kept.id])
    })

    it.each([
      ['a checkout session', async (polar: ReturnType<typeof createPolar>, id: string) => void (await polar.checkouts.create({ products: [id] } as never))],
      ['a session offering it beside another product', async (polar: ReturnType<typeof createPolar>, id: string) => {
        const other = await product(polar, { name: 'Other' })
        await polar.checkouts.create({ products: [other.id, id] } as never)
      }],
      ['a discount restricted to it', async (polar: ReturnType<typeof createPolar>, id: string) => void (await polar.discounts.create({ name: 'D', basis_points: 500, duration: 'once', products: [id] } as never))],
      ['an order (and its subscription)', async (polar: ReturnType<typeof createPolar>, id: string) => {
        const c = await polar.checkouts.create({ products: [id], customer_email: 'o@example.com' } as never)
        expect((await confirm(c.client_secret)).statusCode).toBe(200)
        await settle()
      }],
    ])('is 409 ProductNotDeletable when %s refers to it, and is_deletable said so', async (_what, refer) => {
      const { org, polar } = await shop()
      const p = await product(polar, { recurring_interval: 'month' })
      await refer(polar, p.id)
      expect((await polar.products.get(p.id)).is_deletable).toBe(false)
      const r = await ctx.app.inject({ method: 'DELETE', url: `/v1/products/${p.id}`, headers: org.headers })
      expect(r.statusCode).toBe(409)
      expect(r.json()).toEqual({ error: 'ProductNotDeletable', detail: 'Product is in use and cannot be deleted.' })
      await expect(polar.products.delete(p.id)).rejects.toMatchObject({ statusCode: 409 })
      expect((await polar.products.get(p.id)).id).toBe(p.id)
    })

    it("is 404 for another organization's product, 403 without products:write, 401 without a token; it is in the OpenAPI document", async () => {
      const { polar } = await shop()
      const p = await product(polar)
      const other = await createOrg(ctx, 'Other')
      const r = await ctx.app.inject({ method: 'DELETE', url: `/v1/products/${p.id}`, headers: other.headers })
      expect(r.statusCode).toBe(404)
      expect(r.json()).toEqual({ error: 'ResourceNotFound', detail: 'Not found' })
      const readOnly = await tokenWithScopes(ctx, p.organization_id, ['products:read'])
      expect((await ctx.app.inject({ method: 'DELETE', url: `/v1/products/${p.id}`, headers: readOnly })).statusCode).toBe(403)
      expect((await ctx.app.inject({ method: 'DELETE', url: `/v1/products/${p.id}` })).statusCode).toBe(401)
      expect((await ctx.app.inject({ method: 'DELETE', url: '/v1/products/not-a-uuid', headers: other.headers })).statusCode).toBe(422)
      const doc = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json()
      expect(Object.keys(doc.paths['/v1/products/{id}'].delete.responses)).toEqual(expect.arrayContaining(['204', '404', '409']))
      expect((await polar.products.get(p.id)).id).toBe(p.id)
    })

    it('answers products SDK 0.49.0 still parses, is_deletable included', async () => {
      const { org, polar } = await shop()
      const p = await product(polar)
      const old = new Polar({ accessToken: org.token, serverURL: baseUrl })
      expect(await old.products.get({ id: p.id })).toMatchObject({ id: p.id })
    })
  })

  describe('max_redemptions_per_customer', () => {
    it('is stored, returned, updated and cleared', async () => {
      const { polar } = await shop()
      const d = await polar.discounts.create({ name: 'Once each', basis_points: 1000, duration: 'once', max_redemptions_per_customer: 2 } as never)
      expect(d.max_redemptions_per_customer).toBe(2)
      expect((await polar.discounts.update(d.id, { max_redemptions_per_customer: 1 } as never)).max_redemptions_per_customer).toBe(1)
      expect((await polar.discounts.get(d.id)).max_redemptions_per_customer).toBe(1)
      expect((await polar.discounts.update(d.id, { max_redemptions_per_customer: null } as never)).max_redemptions_per_customer).toBeNull()
      expect((await polar.discounts.create({ name: 'None', basis_points: 1000, duration: 'once' } as never)).max_redemptions_per_customer).toBeNull()
    })

    it('refuses 0 and non-integers with 422', async () => {
      const { org } = await shop()
      for (const v of [0, 1.5, 'two']) {
        const r = await ctx.app.inject({ method: 'POST', url: '/v1/discounts/', headers: org.headers, payload: { name: 'X', basis_points: 100, duration: 'once', max_redemptions_per_customer: v } })
        expect(r.statusCode).toBe(422)
        expect(r.json().detail[0].loc).toEqual(['body', 'max_redemptions_per_customer'])
      }
    })

    it("is enforced at confirm per email, ignoring case and +tags, as Polar: 403 DiscountRedemptionLimitReached; another buyer is fine", async () => {
      const { polar } = await shop()
      const p = await product(polar)
      const d = await polar.discounts.create({ name: 'Once each', code: 'ONCE', basis_points: 1000, duration: 'once', max_redemptions_per_customer: 1 } as never)
      const session = (email: string) => polar.checkouts.create({ products: [p.id], discount_id: d.id, customer_email: email } as never)
      expect((await confirm((await session('ada@example.com')).client_secret)).statusCode).toBe(200)
      for (const email of ['ADA@example.com', 'ada+again@Example.com']) {
        const r = await confirm((await session(email)).client_secret)
        expect(r.statusCode).toBe(403)
        expect(r.json()).toEqual({ error: 'DiscountRedemptionLimitReached', detail: 'You have already redeemed this discount the maximum number of times allowed per customer.' })
      }
      expect((await confirm((await session('grace@example.com')).client_secret)).statusCode).toBe(200)
      expect((await polar.discounts.get(d.id)).redemptions_count).toBe(2)
      // As Polar's update: applying the code is already refused for a buyer who has used it up.
      const open = await polar.checkouts.create({ products: [p.id], customer_email: 'Ada@example.com' } as never)
      const r = await ctx.app.inject({ method: 'PATCH', url: `/v1/checkouts/client/${open.client_secret}`, payload: { discount_code: 'once' } })
      expect(r.statusCode).toBe(403)
      expect(r.json().error).toBe('DiscountRedemptionLimitReached')
      expect((await polar.checkouts.clientGet(open.client_secret)).discount_id).toBeNull()
    })

    it('holds under concurrent confirms by one buyer: exactly one redeems', async () => {
      const { polar } = await shop()
      const p = await product(polar)
      const d = await polar.discounts.create({ name: 'Once each', basis_points: 1000, duration: 'once', max_redemptions_per_customer: 1 } as never)
      const sessions = await Promise.all(['lin@example.com', 'LIN@example.com', 'lin@EXAMPLE.com', 'Lin@example.com'].map((email) => polar.checkouts.create({ products: [p.id], discount_id: d.id, customer_email: email } as never)))
      const answers = await Promise.all(sessions.map((s) => confirm(s.client_secret)))
      expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 403, 403, 403])
      expect((await polar.discounts.get(d.id)).redemptions_count).toBe(1)
    })
  })

  describe('units and payment_method_type', () => {
    it('units other than null are refused as Polar refuses them for prices that are not unit-based; null is accepted and answered', async () => {
      const { org, polar } = await shop()
      const p = await product(polar)
      const cases: [string, string, Record<string, unknown>, unknown[]][] = [
        ['POST', '/v1/checkouts/', { products: [p.id], units: 3, min_units: 1, max_units: 5 }, [['body', 'units'], ['body', 'min_units'], ['body', 'max_units']]],
        ['POST', '/v1/checkout-links/', { payment_processor: 'stripe', products: [p.id], units: 2 }, [['body', 'units']]],
      ]
      for (const [method, url, payload, locs] of cases) {
        const r = await ctx.app.inject({ method: method as 'POST', url, headers: org.headers, payload })
        expect(r.statusCode).toBe(422)
        expect(r.json().detail.map((i: { loc: unknown }) => i.loc)).toEqual(locs)
      }
      const c = await polar.checkouts.create({ products: [p.id], units: null, min_units: null, max_units: null } as never)
      expect(c).toMatchObject({ units: null, min_units: null, max_units: null, payment_method_type: null })
      const r = await ctx.app.inject({ method: 'PATCH', url: `/v1/checkouts/client/${c.client_secret}`, payload: { units: 2 } })
      expect(r.json()).toEqual({ error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'units'], msg: 'Units can only be set for unit-based pricing.', type: 'value_error', input: 2 }] })
      const link = await polar.checkoutLinks.create({ payment_processor: 'stripe', products: [p.id], units: null } as never)
      expect(link.units).toBeNull()
    })

    it("payment_method_type: the buyer's choice while open, 'card' once paid with the sandbox card, null when nothing is due", async () => {
      const { polar } = await shop()
      const p = await product(polar)
      const c = await polar.checkouts.create({ products: [p.id], customer_email: 'pm@example.com' } as never)
      expect((await polar.checkouts.clientUpdate(c.client_secret, { payment_method_type: 'apple_pay' } as never)).payment_method_type).toBe('apple_pay')
      expect((await polar.checkouts.clientUpdate(c.client_secret, { payment_method_type: '' } as never)).payment_method_type).toBeNull()
      const confirmed = await polar.checkouts.clientConfirm(c.client_secret, { confirmation_token_id: 'tok_sandbox_success' })
      expect(confirmed.payment_method_type).toBe('card')
      await settle()
      expect((await polar.checkouts.get(c.id)).payment_method_type).toBe('card')

      const free = await product(polar, { name: 'Free', prices: [{ amount_type: 'fixed', price_amount: 0, price_currency: 'usd' }] })
      const f = await polar.checkouts.create({ products: [free.id], customer_email: 'pm@example.com' } as never)
      expect((await polar.checkouts.clientConfirm(f.client_secret, { payment_method_type: 'card' } as never)).payment_method_type).toBeNull()
    })
  })

  it('order items: the period a subscription order pays for; null for a one-time purchase', async () => {
    const { polar } = await shop()
    const plan = await product(polar, { name: 'Plan', recurring_interval: 'month' })
    const guide = await product(polar)
    for (const id of [plan.id, guide.id]) {
      const c = await polar.checkouts.create({ products: [id], customer_email: 'items@example.com' } as never)
      await polar.checkouts.clientConfirm(c.client_secret, { confirmation_token_id: 'tok_sandbox_success' })
      await settle()
    }
    const orders = (await polar.orders.list()).items
    const sub = (await polar.subscriptions.list()).items[0]!
    const recurring = orders.find((o) => o.product_id === plan.id)!
    expect(recurring.items[0]).toMatchObject({ start_timestamp: sub.current_period_start, end_timestamp: sub.current_period_end })
    expect(new Date(recurring.items[0]!.end_timestamp!).getTime()).toBeGreaterThan(new Date(recurring.items[0]!.start_timestamp!).getTime())
    expect(orders.find((o) => o.product_id === guide.id)!.items[0]).toMatchObject({ start_timestamp: null, end_timestamp: null })
    expect(recurring.units).toBeNull()
    expect(sub.units).toBeNull()
  })
})

describe('the Polar-Organization header', async () => {
  const ctx = await createTestApp()
  const baseUrl = await listen(ctx.app)

  it("absent or naming the token's organization: served; another organization: 403 NotPermitted; not a UUID: 422", async () => {
    const org = await createOrg(ctx, 'Header')
    const mine = createPolar({ accessToken: org.token, baseUrl, organizationId: org.organizationId })
    expect((await mine.products.list()).items).toEqual([])
    expect((await mine.organizations.get(org.organizationId)).id).toBe(org.organizationId)
    const upper = await ctx.app.inject({ method: 'GET', url: '/v1/products/', headers: { ...org.headers, 'polar-organization': org.organizationId.toUpperCase() } })
    expect(upper.statusCode).toBe(200)

    const other = await createOrg(ctx, 'Other')
    const theirs = createPolar({ accessToken: org.token, baseUrl, organizationId: other.organizationId })
    await expect(theirs.products.list()).rejects.toMatchObject({ statusCode: 403 })
    for (const named of [other.organizationId, '00000000-0000-0000-0000-000000000000']) {
      const r = await ctx.app.inject({ method: 'POST', url: '/v1/products/', headers: { ...org.headers, 'polar-organization': named }, payload: { name: 'X', prices: [{ amount_type: 'fixed', price_amount: 1 }] } })
      expect(r.statusCode).toBe(403)
      expect(r.json()).toEqual({ error: 'NotPermitted', detail: 'The Polar-Organization header names another organization than the one this token (or session) acts on.' })
    }
    for (const bad of ['acme', '', `${org.organizationId}x`]) {
      const r = await ctx.app.inject({ method: 'GET', url: '/v1/products/', headers: { ...org.headers, 'polar-organization': bad } })
      expect(r.statusCode).toBe(422)
      expect(r.json()).toEqual({ error: 'RequestValidationError', detail: [{ loc: ['header', 'polar-organization'], msg: 'Input should be a valid UUID', type: 'uuid_parsing', input: bad }] })
    }
    // A bad token is still a 401 first, as Polar's auth dependency answers before parameters.
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/products/', headers: { authorization: 'Bearer polar_oat_nope', 'polar-organization': 'acme' } })).statusCode).toBe(401)
  })
})

describe("webhook endpoints' api_version", async () => {
  const { received, url } = await webhookReceiver()
  const hookUrl = (path: string) => url(`/${path}`)
  // Its own database: it drains the job queue.
  const ctx = await createTestApp({ isolated: true, config: { webhooksAllowInsecure: true, webhookRetryBaseMs: 1 } })
  const baseUrl = await listen(ctx.app)

  it('defaults to the version the request is made in, takes one of the versions Kassa serves, and each endpoint gets its own in the payload', async () => {
    const org = await createOrg(ctx, 'Versions')
    const polar = createPolar({ accessToken: org.token, baseUrl }) // sends Polar-Version: 2026-10
    const a = await polar.webhooks.createWebhookEndpoint({ url: hookUrl('a'), format: 'raw', events: ['product.created'] })
    expect(a).toMatchObject({ api_version: '2026-10', uses_standard_webhook_signature: false })
    const bare = await ctx.app.inject({ method: 'POST', url: '/v1/webhooks/endpoints', headers: org.headers, payload: { url: hookUrl('b'), format: 'raw', events: ['product.created'] } })
    expect(bare.json().api_version).toBe('2026-04')
    const c = await polar.webhooks.createWebhookEndpoint({ url: hookUrl('c'), format: 'raw', events: ['product.created'], api_version: '2026-04' })
    expect(c.api_version).toBe('2026-04')
    expect((await polar.webhooks.updateWebhookEndpoint(c.id, { api_version: '2027-01' } as never)).api_version).toBe('2027-01')
    expect((await polar.webhooks.getWebhookEndpoint(c.id)).api_version).toBe('2027-01')
    const bad = await ctx.app.inject({ method: 'POST', url: '/v1/webhooks/endpoints', headers: org.headers, payload: { url: hookUrl('d'), format: 'raw', events: [], api_version: '2020-01' } })
    expect(bad.statusCode).toBe(422)
    expect(bad.json().detail[0].loc).toEqual(['body', 'api_version'])

    await polar.products.create({ name: 'Versioned', prices: [{ amount_type: 'fixed', price_amount: 100, price_currency: 'usd' }] } as never)
    await runDueJobs(ctx.deps, webhookJobHandlers, { kinds: WEBHOOK_JOB_KINDS, retry: { byKind: webhookRetry(ctx.deps.config) }, limit: 100 })
    const version = (path: string) => JSON.parse(received.find((r) => r.path === `/${path}`)!.body).api_version
    expect([version('a'), version('b'), version('c')]).toEqual(['2026-10', '2026-04', '2027-01'])
    // The body is signed as sent, and 1.x's own validateEvent parses it.
    const sent = received.find((r) => r.path === '/a')!
    const event = await webhooks.validateEvent(sent.body, sent.headers as Record<string, string>, a.secret)
    expect(event).toMatchObject({ type: 'product.created', api_version: '2026-10' })
    // The delivery log shows each event's version and the exact body sent.
    const log = (await polar.webhooks.listWebhookDeliveries({ endpoint_id: a.id } as never)).items
    expect(log[0]!.webhook_event).toMatchObject({ api_version: '2026-10', payload: sent.body })
  })
})
