import { PolarRateLimitError } from 'polar-sdk-1'
import { createPolar } from 'polar-sdk-1/2026-10'
import { describe, expect, it } from 'vitest'
import { SETTLE_JOB, checkoutJobHandlers } from '../src/checkouts/jobs'
import { runDueJobs } from '../src/jobs/worker'
import { FixedClock, createOrg, createTestApp, listen } from './helpers'

/*
 * Issue 18, a first slice: Polar's SDK 1.x (installed beside 0.49.0 as the alias `polar-sdk-1`) pointed at Kassa
 * the way its README says (`createPolar({ accessToken, baseUrl })` from the version module). 1.x sends
 * `Content-Type: application/json` and `Polar-Version` on every request, so every bodiless call below went
 * through the same path that answered 422 before issue 9.
 */
describe('@polar-sh/sdk 1.x against Kassa', async () => {
  const ctx = await createTestApp({ config: { webhooksAllowInsecure: true } })
  const baseUrl = await listen(ctx.app)
  const org = await createOrg(ctx, 'SDK One')
  const polar = createPolar({ accessToken: org.token, baseUrl })

  it('creates, reads and lists the catalog', async () => {
    const product = await polar.products.create({ name: 'Sticker Pack', prices: [{ amount_type: 'fixed', price_amount: 1200, price_currency: 'usd' }] } as never)
    expect(product).toMatchObject({ name: 'Sticker Pack', prices: [{ amount_type: 'fixed', price_amount: 1200 }] })
    expect(await polar.products.get(product.id)).toMatchObject({ id: product.id })
    expect((await polar.products.list()).items.map((p) => p.id)).toContain(product.id)
  })

  it('iterList walks every page by max_page (and stops on an empty list)', async () => {
    const other = await createOrg(ctx, 'SDK One Pages')
    const paged = createPolar({ accessToken: other.token, baseUrl })
    const made: string[] = []
    for (let i = 0; i < 5; i++) made.push((await paged.products.create({ name: `Item ${i}`, prices: [{ amount_type: 'fixed', price_amount: 100, price_currency: 'usd' }] } as never)).id)
    const seen: string[] = []
    for await (const p of paged.products.iterList({ limit: 2 })) seen.push(p.id)
    expect(seen.sort()).toEqual(made.sort())
    const none: unknown[] = []
    for await (const d of paged.discounts.iterList({ limit: 2 })) none.push(d)
    expect(none).toEqual([])
  })

  it('every bodiless call works: link, discount, custom field and webhook endpoint deletes, secret reset', async () => {
    const product = await polar.products.create({ name: 'Guide', prices: [{ amount_type: 'fixed', price_amount: 500, price_currency: 'usd' }] } as never)
    const link = await polar.checkoutLinks.create({ payment_processor: 'stripe', products: [product.id] } as never)
    await polar.checkoutLinks.delete(link.id)
    await expect(polar.checkoutLinks.get(link.id)).rejects.toMatchObject({ statusCode: 404 })

    const discount = await polar.discounts.create({ name: 'Ten', type: 'percentage', basis_points: 1000, duration: 'once' } as never)
    await polar.discounts.delete(discount.id)
    await expect(polar.discounts.get(discount.id)).rejects.toMatchObject({ statusCode: 404 })

    const field = await polar.customFields.create({ type: 'text', slug: 'company', name: 'Company', properties: {} } as never)
    await polar.customFields.delete(field.id)
    await expect(polar.customFields.get(field.id)).rejects.toMatchObject({ statusCode: 404 })

    const endpoint = await polar.webhooks.createWebhookEndpoint({ url: 'https://93.184.215.14/hook', format: 'raw', events: ['order.paid'] } as never)
    const reset = await polar.webhooks.resetWebhookEndpointSecret(endpoint.id)
    expect(reset.secret).not.toBe(endpoint.secret)
    await polar.webhooks.deleteWebhookEndpoint(endpoint.id)
    await expect(polar.webhooks.getWebhookEndpoint(endpoint.id)).rejects.toMatchObject({ statusCode: 404 })
  })

  it('discounts.create without `type` (optional in 1.x): inferred from basis_points or amount', async () => {
    const pct = await polar.discounts.create({ name: 'Ten', basis_points: 1000, duration: 'once' } as never)
    expect(pct).toMatchObject({ type: 'percentage', basis_points: 1000 })
    const fixed = await polar.discounts.create({ name: 'Five off', amount: 500, currency: 'usd', duration: 'once' } as never)
    expect(fixed).toMatchObject({ type: 'fixed', amount: 500, currency: 'usd' })
    // neither, or both: still the discriminator's 422
    for (const body of [{ name: 'None', duration: 'once' }, { name: 'Both', basis_points: 1000, amount: 500, currency: 'usd', duration: 'once' }]) {
      const r = await ctx.app.inject({ method: 'POST', url: '/v1/discounts/', headers: org.headers, payload: body })
      expect(r.statusCode).toBe(422)
      expect(r.json().detail[0].loc).toEqual(['body', 'type'])
    }
  })
})

describe('request fields 1.x sends: stored, or answered where Kassa has no such concept, never silently dropped', async () => {
  // Its own clock, in the past, so its settlement jobs are never due for another file's worker run.
  const ctx = await createTestApp({ clock: new FixedClock('2021-06-01T00:00:00Z') })
  const org = await createOrg(ctx, 'SDK One Fields')
  const polar = createPolar({ accessToken: org.token, baseUrl: await listen(ctx.app) })
  const prices = [{ amount_type: 'fixed', price_amount: 1200, price_currency: 'usd' }]

  it("products.create: meter_interval null (or absent) is fine; a meter cycle is a 422, Kassa has no meters", async () => {
    const plan = await polar.products.create({ name: 'Plan', recurring_interval: 'month', meter_interval: null, meter_interval_count: null, prices } as never)
    expect(plan).toMatchObject({ name: 'Plan', recurring_interval: 'month' })
    const err = await polar.products.create({ name: 'Metered', recurring_interval: 'year', meter_interval: 'month', prices } as never).catch((e: unknown) => e)
    expect(err).toMatchObject({ statusCode: 422 })
    expect((err as { error: { detail: { loc: string[]; msg: string }[] } }).error.detail[0]).toMatchObject({ loc: ['body', 'meter_interval'], msg: expect.stringContaining('no meters') })
  })

  it("organizations.update: name is stored; Polar's fields Kassa fixes are taken back as read, any other value is a 422", async () => {
    const renamed = await polar.organizations.update(org.organizationId, { name: 'Renamed Shop' } as never)
    expect(renamed.name).toBe('Renamed Shop')
    expect((await polar.organizations.get(org.organizationId)).name).toBe('Renamed Shop')
    // a client that PATCHes back what it read (every field) changes nothing and gets no error
    const { id: _id, created_at: _c, modified_at: _m, slug: _s, status: _st, capabilities: _cap, account_id: _a, payout_account_id: _p, details_submitted_at: _d, onboarding_resubmission_requested_at: _o, proration_behavior: _pb, allow_customer_updates: _acu, ...writable } = renamed as unknown as Record<string, unknown>
    expect(await polar.organizations.update(org.organizationId, writable as never)).toMatchObject({ name: 'Renamed Shop' })
    for (const [field, value] of [
      ['email', 'support@example.com'],
      ['subscription_settings', { ...renamed.subscription_settings, prevent_trial_abuse: true }],
      ['default_presentment_currency', 'eur'],
      ['sso_enforced', true],
      ['country', 'FR'], // not in the response at all: 'Kassa does not store it'
    ] as const) {
      const err = await polar.organizations.update(org.organizationId, { [field]: value } as never).catch((e: unknown) => e)
      expect(err, field).toMatchObject({ statusCode: 422 })
      expect((err as { error: { detail: { loc: string[]; msg: string }[] } }).error.detail[0]).toMatchObject({ loc: ['body', field], msg: expect.stringContaining('Kassa does not change') })
    }
    const short = await polar.organizations.update(org.organizationId, { name: 'ab' } as never).catch((e: unknown) => e)
    expect(short).toMatchObject({ statusCode: 422 })
    expect((await polar.organizations.get(org.organizationId)).name).toBe('Renamed Shop')
  })

  it("a 429 reaches 1.x as PolarRateLimitError with Kassa's Retry-After (wrong discount codes, 5 per session)", async () => {
    const product = await polar.products.create({ name: 'Limited', prices } as never)
    const session = await polar.checkouts.create({ products: [product.id] } as never)
    const attempts: unknown[] = []
    for (let i = 0; i < 6; i++) attempts.push(await polar.checkouts.clientUpdate(session.client_secret, { discount_code: `NOPE${i}` } as never).catch((e: unknown) => e))
    expect(attempts.slice(0, 5).every((e) => (e as { statusCode?: number }).statusCode === 422)).toBe(true)
    expect(attempts[5]).toBeInstanceOf(PolarRateLimitError)
    expect((attempts[5] as PolarRateLimitError).retryAfter).toBeGreaterThan(0)
  })

  it("checkouts.create with Polar's ad-hoc prices: the session offers and charges them, the catalog never shows them", async () => {
    const product = await polar.products.create({ name: 'Guide', prices } as never)
    const other = await polar.products.create({ name: 'Other', prices } as never)
    const session = await polar.checkouts.create({ products: [product.id, other.id], prices: { [product.id]: [{ amount_type: 'fixed', price_amount: 99, price_currency: 'usd' }] } } as never)
    expect(session).toMatchObject({ amount: 99, total_amount: 99, product_id: product.id })
    const adHoc = session.prices![product.id]![0]!
    expect(adHoc).toMatchObject({ source: 'ad_hoc', is_archived: false, amount_type: 'fixed', price_amount: 99 })
    expect(session.product_price_id).toBe(adHoc.id)
    expect(session.prices![other.id]!.map((p) => p.id)).toEqual(other.prices.map((p) => p.id)) // no ad-hoc prices: the catalog's
    // read back (one session, a list, the buyer's view): the same prices
    expect((await polar.checkouts.get(session.id)).prices![product.id]!.map((p) => p.id)).toEqual([adHoc.id])
    expect((await polar.checkouts.list({ limit: 100 })).items.find((c) => c.id === session.id)!.prices![product.id]!.map((p) => p.id)).toEqual([adHoc.id])
    expect((await polar.checkouts.clientGet(session.client_secret)).amount).toBe(99)
    const page = await ctx.app.inject({ url: `/checkout/${session.client_secret}`, headers: { 'accept-language': 'en' } })
    expect(page.body).toContain('$0.99') // the hosted page charges what the merchant set
    // the catalog is untouched
    expect((await polar.products.get(product.id)).prices.map((p) => p.id)).toEqual(product.prices.map((p) => p.id))
    // switching to the other product and back: each with its own prices in this session
    expect(await polar.checkouts.clientUpdate(session.client_secret, { product_id: other.id } as never)).toMatchObject({ amount: 1200 })
    expect(await polar.checkouts.clientUpdate(session.client_secret, { product_id: product.id } as never)).toMatchObject({ amount: 99, product_price_id: adHoc.id })
    // paid: the order charges the ad-hoc price
    const confirmed = await ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${session.client_secret}/confirm`, payload: { confirmation_token_id: 'tok_sandbox_success', customer_email: 'adhoc@example.com' } })
    expect(confirmed.statusCode, confirmed.body).toBe(200)
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
    const [order] = (await polar.orders.list({ checkout_id: session.id } as never)).items
    expect(order).toMatchObject({ total_amount: 99, items: [{ amount: 99, product_price_id: adHoc.id }] })
  })

  it('ad-hoc prices are checked like a product\'s, and only for products of the checkout: 422s, and no session', async () => {
    const product = await polar.products.create({ name: 'Checked', prices } as never)
    const stranger = await polar.products.create({ name: 'Stranger', prices } as never)
    const before = (await polar.checkouts.list()).pagination.total_count
    const refused = async (body: Record<string, unknown>) => {
      const err = await polar.checkouts.create({ products: [product.id], ...body } as never).catch((e: unknown) => e)
      expect(err).toMatchObject({ statusCode: 422 })
      return (err as { error: { detail: { loc: (string | number)[]; msg: string }[] } }).error.detail[0]!
    }
    expect(await refused({ prices: { [stranger.id]: [prices[0]] } })).toMatchObject({ loc: ['body', 'prices', stranger.id], msg: 'Product is not set on that checkout.' })
    expect(await refused({ prices: { [product.id]: [prices[0], prices[0]] } })).toMatchObject({ loc: ['body', 'prices', product.id], msg: expect.stringContaining('one price per currency') })
    expect(await refused({ prices: { [product.id]: [{ amount_type: 'custom', minimum_amount: 500, maximum_amount: 100, price_currency: 'usd' }] } })).toMatchObject({ loc: ['body', 'prices', product.id, 0, 'maximum_amount'] })
    expect(await refused({ prices: { [product.id]: [] } })).toMatchObject({ loc: ['body', 'prices', product.id] })
    expect((await polar.checkouts.list()).pagination.total_count).toBe(before)
    // pay what you want, ad hoc: its bounds hold for the buyer
    const pwyw = await polar.checkouts.create({ products: [product.id], prices: { [product.id]: [{ amount_type: 'custom', minimum_amount: 500, price_currency: 'usd' }] } } as never)
    await expect(polar.checkouts.clientUpdate(pwyw.client_secret, { amount: 400 } as never)).rejects.toMatchObject({ statusCode: 422 })
    expect(await polar.checkouts.clientUpdate(pwyw.client_secret, { amount: 700 } as never)).toMatchObject({ amount: 700 })
    // null (or absent) is Polar's "use the catalog prices"
    expect(await polar.checkouts.create({ products: [product.id], prices: null } as never)).toMatchObject({ amount: 1200 })
  })

})

describe('the list filters 1.x sends', async () => {
  // Its own clock, in the past, so its settlement jobs are never due for another file's worker run.
  const clock = new FixedClock('2022-05-01T00:00:00Z')
  const ctx = await createTestApp({ clock })
  const baseUrl = await listen(ctx.app)
  const org = await createOrg(ctx, 'SDK One Filters')
  const polar = createPolar({ accessToken: org.token, baseUrl })
  const buy = async (productId: string) => {
    const c = await polar.checkouts.create({ products: [productId], customer_email: 'f@example.com' } as never)
    await ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${c.client_secret}/confirm`, payload: { confirmation_token_id: 'tok_sandbox_success' } })
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
    clock.advance(86_400_000)
  }

  it('orders: status, created_after, created_before; subscriptions: started_after, started_before', async () => {
    const plan = await polar.products.create({ name: 'Plan', recurring_interval: 'month', prices: [{ amount_type: 'fixed', price_amount: 900, price_currency: 'usd' }] } as never)
    await buy(plan.id) // 2022-05-01
    await buy(plan.id) // 2022-05-02
    await buy(plan.id) // 2022-05-03
    const orders = (await polar.orders.list({ created_after: '2022-05-02T00:00:00Z' })).items
    expect(orders.map((o) => o.created_at.slice(0, 10)).sort()).toEqual(['2022-05-02', '2022-05-03'])
    expect((await polar.orders.list({ created_before: '2022-05-01T23:59:59Z' })).items).toHaveLength(1)
    expect((await polar.orders.list({ created_after: '2022-05-02T00:00:00Z', created_before: '2022-05-02T23:59:59Z' })).items).toHaveLength(1)
    expect((await polar.orders.list({ status: 'paid' })).items).toHaveLength(3)
    expect((await polar.orders.list({ status: ['refunded', 'void'] })).items).toHaveLength(0)
    expect((await polar.subscriptions.list({ started_after: '2022-05-03T00:00:00Z' })).items).toHaveLength(1)
    expect((await polar.subscriptions.list({ started_before: '2022-05-02T12:00:00Z' })).items).toHaveLength(2)
    // 1.x's Customer requires first_user_event_at (the first ingested event): Kassa ingests none
    const [customer] = (await polar.customers.list()).items
    expect(customer).toMatchObject({ email: 'f@example.com', first_user_event_at: null })
    // a date that is not one is a 422, not ignored
    const bad = await ctx.app.inject({ method: 'GET', url: '/v1/orders/?created_after=yesterday', headers: org.headers })
    expect(bad.statusCode).toBe(422)
  })
})
