import type { Polar } from '@polar-sh/sdk'
import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkoutJobHandlers, SETTLE_JOB } from '../src/checkouts/jobs'
import { runDueJobs } from '../src/jobs/worker'
import { newId } from '../src/lib/ids'
import { stripeClient } from '../src/payments/stripe-client'
import { startFakeStripe, type FakeStripe } from './fake-stripe'
import { createOrg, createTestApp, FixedClock, polarClient, tokenWithScopes, type TestContext, type TestOrg } from './helpers'

// Issue 12 part 4: Polar's refunds (server/polar/refund/service.py), on the sandbox and on Stripe (the fake).

/** Webhook event types the organization's outbox got, oldest first. */
async function eventTypes(ctx: TestContext, org: TestOrg): Promise<string[]> {
  const rows = await ctx.deps.db.selectFrom('webhook_events').select(['type', 'created_at', 'id']).where('organization_id', '=', org.organizationId).orderBy('created_at').orderBy('id').execute()
  return rows.map((r) => r.type)
}

async function subscribeAll(ctx: TestContext, org: TestOrg) {
  const res = await ctx.app.inject({
    method: 'POST', url: '/v1/webhooks/endpoints', headers: org.headers,
    payload: { url: 'http://127.0.0.1:9/hook', format: 'raw', events: ['refund.created', 'refund.updated', 'order.refunded', 'order.updated'] },
  })
  expect(res.statusCode).toBe(201)
}

const refund = (ctx: TestContext, org: TestOrg, body: Record<string, unknown>) => ctx.app.inject({ method: 'POST', url: '/v1/refunds/', headers: org.headers, payload: { reason: 'customer_request', ...body } })
const orderRow = (ctx: TestContext, id: string) => ctx.deps.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

describe('refunds on the sandbox', async () => {
  const clock = new FixedClock(new Date())
  const ctx = await createTestApp({ isolated: true, clock, config: { webhooksAllowInsecure: true } })
  const settle = () => runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })

  /** A paid order over the API (sandbox card); `tax` rewrites its amounts to net + tax, as a taxed sale would have them. */
  async function paidOrder(org: TestOrg, opts: { amount?: number; tax?: number; recurring?: boolean } = {}) {
    const product = await ctx.app.inject({
      method: 'POST', url: '/v1/products/', headers: org.headers,
      payload: { name: 'Poster', prices: [{ amount_type: 'fixed', price_amount: opts.amount ?? 1000 }], ...(opts.recurring ? { recurring_interval: 'month' } : {}) },
    })
    const session = await ctx.app.inject({ method: 'POST', url: '/v1/checkouts/', headers: org.headers, payload: { products: [product.json().id], customer_email: 'buyer@example.com' } })
    const confirm = await ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${session.json().client_secret}/confirm`, payload: { confirmation_token_id: 'tok_sandbox_success', customer_name: 'Ada' } })
    expect(confirm.statusCode).toBe(200)
    await settle()
    const order = await ctx.deps.db.selectFrom('orders').selectAll().where('checkout_id', '=', session.json().id).executeTakeFirstOrThrow()
    if (opts.tax) {
      await ctx.deps.db.updateTable('orders').set({ tax_amount: opts.tax, total_amount: order.net_amount + opts.tax }).where('id', '=', order.id).execute()
    }
    return orderRow(ctx, order.id)
  }

  it('a full refund through the SDK: succeeded at once, the order refunded, Polar\'s events in order', async () => {
    const org = await createOrg(ctx)
    const order = await paidOrder(org, { amount: 1000, tax: 250 })
    await subscribeAll(ctx, org)
    const polar = await polarClient(ctx.app, org.token)
    const r = await polar.refunds.create({ orderId: order.id, reason: 'customer_request', amount: 1000, comment: 'Broken on arrival', metadata: { ticket: 'T-42', priority: 2 } })
    expect(r).toMatchObject({
      status: 'succeeded', reason: 'customer_request', amount: 1000, taxAmount: 250, currency: 'usd', orderId: order.id, organizationId: org.organizationId,
      customerId: order.customer_id, subscriptionId: null, revokeBenefits: false, dispute: null, metadata: { ticket: 'T-42', priority: 2 },
    })
    expect(r.createdAt).toBeInstanceOf(Date)
    const got = await polar.orders.get({ id: order.id })
    expect(got).toMatchObject({ status: 'refunded', refundedAmount: 1000, refundedTaxAmount: 250, refundableAmount: 0, refundableTaxAmount: 0 })
    expect(await eventTypes(ctx, org)).toEqual(['refund.created', 'refund.updated', 'order.refunded', 'order.updated'])
    const row = await ctx.deps.db.selectFrom('refunds').selectAll().where('id', '=', r.id).executeTakeFirstOrThrow()
    expect(row).toMatchObject({ processor: 'sandbox', processor_refund_id: null, comment: 'Broken on arrival' })

    // Fully refunded: Polar's 403 RefundedAlready, which the SDK knows.
    const again = await refund(ctx, org, { order_id: order.id, amount: 1 })
    expect({ status: again.statusCode, body: again.json() }).toEqual({ status: 403, body: { error: 'RefundedAlready', detail: `Order is already fully refunded: ${order.id}` } })
    const err = await polar.refunds.create({ orderId: order.id, reason: 'other', amount: 1 }).catch((e: unknown) => e)
    expect((err as { name?: string }).name).toBe('RefundedAlready')
  })

  it('partial refunds: the tax in proportion, the last one takes the rest; then more than is left is a 422 on amount', async () => {
    const org = await createOrg(ctx)
    const order = await paidOrder(org, { amount: 1000, tax: 190 })
    const first = await refund(ctx, org, { order_id: order.id, amount: 333 })
    expect(first.statusCode).toBe(201)
    expect(first.json()).toMatchObject({ amount: 333, tax_amount: 63, status: 'succeeded' }) // round(333 * 0.19)
    expect(await orderRow(ctx, order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 333, refunded_tax_amount: 63 })

    const over = await refund(ctx, org, { order_id: order.id, amount: 668 })
    expect({ status: over.statusCode, body: over.json() }).toEqual({
      status: 422,
      body: { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'amount'], msg: 'Refund amount exceeds refundable amount', type: 'value_error', input: 668 }] },
    })
    const rest = await refund(ctx, org, { order_id: order.id, amount: 667 })
    expect(rest.json()).toMatchObject({ amount: 667, tax_amount: 127 })
    expect(await orderRow(ctx, order.id)).toMatchObject({ status: 'refunded', refunded_amount: 1000, refunded_tax_amount: 190 })
  })

  it('concurrent refunds never take more than was paid: 10 parallel requests of 30% each, three succeed', async () => {
    const org = await createOrg(ctx)
    const order = await paidOrder(org, { amount: 1000, tax: 100 })
    const results = await Promise.all(Array.from({ length: 10 }, () => refund(ctx, org, { order_id: order.id, amount: 300 })))
    const codes = results.map((r) => r.statusCode).sort()
    expect(codes).toEqual([201, 201, 201, 422, 422, 422, 422, 422, 422, 422])
    const after = await orderRow(ctx, order.id)
    expect(after).toMatchObject({ status: 'partially_refunded', refunded_amount: 900, refunded_tax_amount: 90 })
    const sums = await ctx.deps.db.selectFrom('refunds').select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('amount').as('amount')]).where('order_id', '=', order.id).executeTakeFirstOrThrow()
    expect({ n: Number(sums.n), amount: Number(sums.amount) }).toEqual({ n: 3, amount: 900 })
  })

  it('refuses what Polar refuses: an unpaid order (404), revoke_benefits on a subscription (400), a bad body (422)', async () => {
    const org = await createOrg(ctx)
    const order = await paidOrder(org)
    await ctx.deps.db.updateTable('orders').set({ status: 'pending' }).where('id', '=', order.id).execute()
    const unpaid = await refund(ctx, org, { order_id: order.id, amount: 100 })
    expect({ status: unpaid.statusCode, body: unpaid.json() }).toEqual({ status: 404, body: { error: 'RefundUnknownPayment', detail: `Refund issued for unknown order: ${order.id}` } })

    const sub = await paidOrder(org, { recurring: true })
    expect(sub.subscription_id).not.toBeNull()
    const revoke = await refund(ctx, org, { order_id: sub.id, amount: 100, revoke_benefits: true })
    expect({ status: revoke.statusCode, body: revoke.json() }).toEqual({ status: 400, body: { error: 'RevokeSubscriptionBenefitsProhibited', detail: 'Subscription benefits can only be revoked upon cancellation' } })
    // Without revoke_benefits a subscription order refunds; with it, a one-time order stores it.
    expect((await refund(ctx, org, { order_id: sub.id, amount: 100 })).json()).toMatchObject({ subscription_id: sub.subscription_id, revoke_benefits: false })
    const oneTime = await paidOrder(org)
    expect((await refund(ctx, org, { order_id: oneTime.id, amount: 100, revoke_benefits: true })).json()).toMatchObject({ revoke_benefits: true, subscription_id: null })

    for (const [body, loc, type] of [
      [{ order_id: oneTime.id, amount: 0 }, ['body', 'amount'], 'greater_than'],
      [{ order_id: oneTime.id, amount: 1.5 }, ['body', 'amount'], 'int_from_float'],
      [{ order_id: oneTime.id, amount: 10, reason: 'dispute_prevention' }, ['body', 'reason'], 'enum'],
      [{ order_id: 'nope', amount: 10 }, ['body', 'order_id'], undefined],
    ] as const) {
      const res = await refund(ctx, org, body)
      expect(res.statusCode, JSON.stringify(body)).toBe(422)
      expect(res.json().detail[0].loc).toEqual(loc)
      if (type) expect(res.json().detail[0].type).toBeDefined()
    }
  })

  it('another organization\'s order is Polar\'s 422 "Order not found" on order_id, and its refunds are not listed', async () => {
    const a = await createOrg(ctx)
    const b = await createOrg(ctx)
    const order = await paidOrder(a)
    const res = await refund(ctx, b, { order_id: order.id, amount: 100 })
    expect({ status: res.statusCode, body: res.json() }).toEqual({
      status: 422,
      body: { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'order_id'], msg: 'Order not found', type: 'value_error', input: order.id }] },
    })
    const unknown = await refund(ctx, b, { order_id: newId(), amount: 100 })
    expect(unknown.statusCode).toBe(422)
    expect((await refund(ctx, a, { order_id: order.id, amount: 100 })).statusCode).toBe(201)
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/refunds/', headers: b.headers })).json()).toEqual({ items: [], pagination: { total_count: 0, max_page: 0 } })
    expect(await orderRow(ctx, order.id)).toMatchObject({ refunded_amount: 100 })
  })

  it('lists with Polar\'s filters, sorting and pagination, parsed by the SDK', async () => {
    const org = await createOrg(ctx)
    const one = await paidOrder(org, { amount: 1000 })
    const two = await paidOrder(org, { amount: 2000, recurring: true })
    const made: string[] = []
    for (const [order, amount] of [[one, 100], [two, 500], [one, 200]] as const) {
      clock.advance(1000)
      made.push((await refund(ctx, org, { order_id: order.id, amount })).json().id)
    }
    await ctx.deps.db.updateTable('refunds').set({ status: 'failed' }).where('id', '=', made[2]!).execute()
    const polar: Polar = await polarClient(ctx.app, org.token)
    const ids = (r: { result: { items: { id: string }[] } }) => r.result.items.map((x) => x.id)
    const all = await polar.refunds.list({})
    expect(ids(all)).toEqual([...made].reverse())
    expect(all.result.pagination).toEqual({ totalCount: 3, maxPage: 1 })
    expect(all.result.items[0]).toMatchObject({ status: 'failed', amount: 200, currency: 'usd' })
    expect(ids(await polar.refunds.list({ orderId: one.id, sorting: ['created_at'] }))).toEqual([made[0], made[2]])
    expect(ids(await polar.refunds.list({ id: [made[1]!] }))).toEqual([made[1]])
    expect(ids(await polar.refunds.list({ subscriptionId: two.subscription_id! }))).toEqual([made[1]])
    expect(ids(await polar.refunds.list({ customerId: one.customer_id }))).toHaveLength(3)
    expect(ids(await polar.refunds.list({ succeeded: true, sorting: ['amount'] }))).toEqual([made[0], made[1]])
    expect(ids(await polar.refunds.list({ succeeded: false }))).toEqual([made[2]])
    expect(ids(await polar.refunds.list({ sorting: ['-amount'] }))).toEqual([made[1], made[2], made[0]])
    expect(ids(await polar.refunds.list({ organizationId: org.organizationId }))).toHaveLength(3)
    expect(ids(await polar.refunds.list({ organizationId: newId() }))).toEqual([])
    const page2 = await polar.refunds.list({ limit: 2, page: 2 })
    expect(ids(page2)).toEqual([made[0]])
    expect(page2.result.pagination).toEqual({ totalCount: 3, maxPage: 2 })
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/refunds/?sorting=status', headers: org.headers })).statusCode).toBe(422)
  })

  it('needs refunds:read to list and refunds:write to create (write grants read)', async () => {
    const org = await createOrg(ctx)
    const order = await paidOrder(org)
    const none = await ctx.app.inject({ method: 'GET', url: '/v1/refunds/' })
    expect({ status: none.statusCode, body: none.json() }).toEqual({ status: 401, body: { error: 'Unauthorized', detail: 'Unauthorized' } })
    const orders = await tokenWithScopes(ctx, org.organizationId, ['orders:read'])
    const reader = await tokenWithScopes(ctx, org.organizationId, ['refunds:read'])
    const writer = await tokenWithScopes(ctx, org.organizationId, ['refunds:write'])
    const denied = { status: 403, body: { error: 'NotPermitted', detail: 'You do not have the required scope for this operation.' } }
    const list = (headers: Record<string, string>) => ctx.app.inject({ method: 'GET', url: '/v1/refunds/', headers })
    const create = (headers: Record<string, string>) => ctx.app.inject({ method: 'POST', url: '/v1/refunds/', headers, payload: { order_id: order.id, amount: 10, reason: 'other' } })
    const r1 = await list(orders)
    expect({ status: r1.statusCode, body: r1.json() }).toEqual(denied)
    expect((await list(reader)).statusCode).toBe(200)
    expect((await list(writer)).statusCode).toBe(200)
    const r2 = await create(reader)
    expect({ status: r2.statusCode, body: r2.json() }).toEqual(denied)
    expect((await create(writer)).statusCode).toBe(201)
    const doc = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json()
    expect(doc.paths['/v1/refunds']?.get?.responses?.['200']).toBeDefined()
    expect(doc.paths['/v1/refunds']?.post?.responses?.['201']).toBeDefined()
  })
})

const SECRET = 'sk_test_kassaRefundTests123'
const PUBLISHABLE = 'pk_test_kassaRefundTests123'
const WHSEC = 'whsec_kassaRefundTestsSecret123'

describe('refunds on Stripe', async () => {
  let fake: FakeStripe
  let ctx: TestContext
  let stripe: Stripe
  const clock = new FixedClock(new Date())
  beforeAll(async () => {
    fake = await startFakeStripe()
    ctx = await createTestApp({ isolated: true, clock, config: { stripeSecretKey: SECRET, stripePublishableKey: PUBLISHABLE, stripeWebhookSecret: WHSEC, stripeApiUrl: fake.url, webhooksAllowInsecure: true } })
    stripe = stripeClient(SECRET, { apiUrl: fake.url })
  })
  afterAll(() => fake?.close())

  /** A paid Stripe order: a link visit, a card confirm, settlement. */
  async function paidOrder(org: TestOrg, amount = 2500) {
    const polar = await polarClient(ctx.app, org.token)
    const product = await polar.products.create({ name: 'Poster', prices: [{ amountType: 'fixed', priceAmount: amount, priceCurrency: 'eur' }] })
    const link = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [product.id] })
    const visit = await ctx.app.inject({ method: 'GET', url: `/buy/${link.clientSecret}?customer_email=buyer@example.com` })
    const secret = (visit.headers.location as string).split('/checkout/')[1]!.split('?')[0]!
    const token = (await stripe.testHelpers.confirmationTokens.create({ payment_method: 'pm_card_visa' })).id
    const res = await ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${secret}/confirm`, payload: { customer_name: 'Ada', customer_billing_address: { country: 'DE' }, confirmation_token_id: token } })
    expect(res.statusCode).toBe(200)
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
    const row = await ctx.deps.db.selectFrom('orders').selectAll().where('checkout_id', '=', res.json().id).executeTakeFirstOrThrow()
    expect(row.payment_intent_id).toMatch(/^pi_/)
    return { polar, row }
  }

  function deliver(org: TestOrg, event: Stripe.Event) {
    const { payload, header } = fake.webhook(WHSEC, event)
    return ctx.app.inject({ method: 'POST', url: `/v1/integrations/stripe/webhook/${org.organizationId}`, payload, headers: { 'content-type': 'application/json', 'stripe-signature': header } })
  }
  const lastChargeRefunded = (intentId: string) => [...fake.events].reverse().find((e) => e.type === 'charge.refunded' && (e.data.object as Stripe.Charge).payment_intent === intentId)!

  it('refunds through Stripe with Kassa\'s key and metadata; Stripe\'s charge.refunded afterwards counts nothing twice', async () => {
    const org = await createOrg(ctx)
    const { polar, row } = await paidOrder(org)
    await subscribeAll(ctx, org)
    const r = await polar.refunds.create({ orderId: row.id, reason: 'duplicate', amount: 1000 })
    expect(r).toMatchObject({ status: 'succeeded', amount: 1000, taxAmount: 0, currency: 'eur', reason: 'duplicate' })
    const sent = fake.requests.filter((q) => q.method === 'POST' && q.path === '/v1/refunds').at(-1)!
    expect(sent.idempotencyKey).toBe(`kassa-refund-${r.id}`)
    expect(sent.body).toMatchObject({ payment_intent: row.payment_intent_id, amount: '1000', reason: 'duplicate', metadata: { refund_id: r.id, order_id: row.id, organization_id: org.organizationId } })
    const stored = await ctx.deps.db.selectFrom('refunds').selectAll().where('id', '=', r.id).executeTakeFirstOrThrow()
    expect(stored.processor).toBe('stripe')
    expect(fake.refunds.get(stored.processor_refund_id!)).toMatchObject({ amount: 1000, status: 'succeeded' })
    expect(await orderRow(ctx, row.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 1000 })

    // Stripe reports the refund it made: the order stays at the charge's amount_refunded, no second refund.
    const event = lastChargeRefunded(row.payment_intent_id!)
    expect((event.data.object as Stripe.Charge).amount_refunded).toBe(1000)
    expect((await deliver(org, event)).json()).toMatchObject({ received: true, handled: false })
    expect(await orderRow(ctx, row.id)).toMatchObject({ refunded_amount: 1000 })
    expect((await polar.refunds.list({ orderId: row.id })).result.items).toHaveLength(1)
    expect(await eventTypes(ctx, org)).toEqual(['refund.created', 'refund.updated', 'order.refunded', 'order.updated'])

    // The rest, then a refund made only in Stripe's dashboard is refused by Stripe: nothing left.
    expect((await polar.refunds.create({ orderId: row.id, reason: 'other', amount: 1500 })).status).toBe('succeeded')
    expect(await orderRow(ctx, row.id)).toMatchObject({ status: 'refunded', refunded_amount: 2500 })
    expect((await deliver(org, lastChargeRefunded(row.payment_intent_id!))).json()).toMatchObject({ handled: false })
    expect(await orderRow(ctx, row.id)).toMatchObject({ status: 'refunded', refunded_amount: 2500 })
  })

  it('a refund made in Stripe\'s dashboard gets a refund row and is counted once; a refund past it is refused by Stripe and leaves the order untouched', async () => {
    const org = await createOrg(ctx)
    const { polar, row } = await paidOrder(org)
    await subscribeAll(ctx, org)
    await stripe.refunds.create({ payment_intent: row.payment_intent_id!, amount: 2000 })
    // Before Stripe's webhook arrives, the API still offers 2500: Stripe refuses more than its 500 left.
    const refused = await ctx.app.inject({ method: 'POST', url: '/v1/refunds/', headers: org.headers, payload: { order_id: row.id, amount: 1000, reason: 'other' } })
    expect(refused.statusCode).toBe(400)
    expect(refused.json()).toEqual({ error: 'PaymentError', detail: 'Refund amount (1000) is greater than unrefunded amount on charge (500)' })
    expect(await orderRow(ctx, row.id)).toMatchObject({ status: 'paid', refunded_amount: 0, refunded_tax_amount: 0 })
    const failed = await ctx.deps.db.selectFrom('refunds').selectAll().where('order_id', '=', row.id).executeTakeFirstOrThrow()
    expect(failed).toMatchObject({ status: 'failed', failure_reason: 'unknown', amount: 1000 })

    // The dashboard refund reported: a refund row of its own, the order at the charge's amount_refunded.
    const event = lastChargeRefunded(row.payment_intent_id!)
    expect((await deliver(org, event)).json()).toMatchObject({ handled: true })
    expect(await orderRow(ctx, row.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 2000 })
    expect((await deliver(org, { ...event, id: `${event.id}x` })).json()).toMatchObject({ handled: false })
    const listed = (await polar.refunds.list({ orderId: row.id, succeeded: true })).result.items
    expect(listed).toMatchObject([{ amount: 2000, status: 'succeeded', reason: 'other' }])

    // What is left refunds; the charge then refunded in full, Stripe says so for anything more.
    expect((await polar.refunds.create({ orderId: row.id, reason: 'other', amount: 500 })).status).toBe('succeeded')
    expect(await orderRow(ctx, row.id)).toMatchObject({ status: 'refunded', refunded_amount: 2500 })
    expect(await eventTypes(ctx, org)).toEqual([
      'refund.created', 'refund.updated', // the refused one: pending, then failed
      'refund.created', 'order.refunded', 'order.updated', // the dashboard's
      'refund.created', 'refund.updated', 'order.refunded', 'order.updated',
    ])
  })

  it('Stripe already refunded in full: Polar\'s 403 RefundedAlready; the webhook then brings the order to refunded', async () => {
    const org = await createOrg(ctx)
    const { row } = await paidOrder(org)
    await stripe.refunds.create({ payment_intent: row.payment_intent_id! })
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/refunds/', headers: org.headers, payload: { order_id: row.id, amount: 100, reason: 'other' } })
    expect({ status: res.statusCode, body: res.json() }).toEqual({ status: 403, body: { error: 'RefundedAlready', detail: `Order is already fully refunded: ${row.id}` } })
    expect(await orderRow(ctx, row.id)).toMatchObject({ status: 'paid', refunded_amount: 0 })
    await deliver(org, lastChargeRefunded(row.payment_intent_id!))
    expect(await orderRow(ctx, row.id)).toMatchObject({ status: 'refunded', refunded_amount: 2500 })
  })

  it('Stripe unreachable: a 503, the refund stays pending and holds its amount', async () => {
    const org = await createOrg(ctx)
    const { row } = await paidOrder(org)
    for (let i = 0; i < 3; i++) fake.failNext('POST', '/v1/refunds', 'status-500')
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/refunds/', headers: org.headers, payload: { order_id: row.id, amount: 2000, reason: 'other' } })
    expect(res.statusCode).toBe(503)
    expect(await orderRow(ctx, row.id)).toMatchObject({ status: 'paid', refunded_amount: 0 })
    const pending = await ctx.deps.db.selectFrom('refunds').selectAll().where('order_id', '=', row.id).executeTakeFirstOrThrow()
    expect(pending.status).toBe('pending')
    const more = await ctx.app.inject({ method: 'POST', url: '/v1/refunds/', headers: org.headers, payload: { order_id: row.id, amount: 501, reason: 'other' } })
    expect(more.statusCode).toBe(422)

    // Stripe did refund it after all (same metadata): without the charge's refund list the pending refund
    // already accounts for the amount, so nothing is added; with the list, it succeeds, counted once.
    const made = await stripe.refunds.create({ payment_intent: row.payment_intent_id!, amount: 2000, metadata: { refund_id: pending.id, order_id: row.id, organization_id: org.organizationId } })
    const bare = lastChargeRefunded(row.payment_intent_id!)
    expect((await deliver(org, bare)).json()).toMatchObject({ handled: false })
    expect(await orderRow(ctx, row.id)).toMatchObject({ refunded_amount: 0 })
    const charge = bare.data.object as Stripe.Charge
    const listed = fake.event('charge.refunded', { ...charge, refunds: { object: 'list', data: [made], has_more: false, url: `/v1/charges/${charge.id}/refunds` } })
    expect((await deliver(org, listed)).json()).toMatchObject({ handled: true })
    expect(await orderRow(ctx, row.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 2000 })
    expect(await ctx.deps.db.selectFrom('refunds').selectAll().where('order_id', '=', row.id).execute()).toMatchObject([{ id: pending.id, status: 'succeeded', processor_refund_id: made.id }])
    expect((await deliver(org, { ...listed, id: `${listed.id}x` })).json()).toMatchObject({ handled: false })
    expect(await orderRow(ctx, row.id)).toMatchObject({ refunded_amount: 2000 })
  })

  it('Stripe\'s charge.refund.updated settles a pending refund: succeeded counts once, failed releases the amount', async () => {
    const org = await createOrg(ctx)
    const { row } = await paidOrder(org)
    const pendingRefund = async (amount: number) => {
      for (let i = 0; i < 3; i++) fake.failNext('POST', '/v1/refunds', 'status-500')
      const res = await ctx.app.inject({ method: 'POST', url: '/v1/refunds/', headers: org.headers, payload: { order_id: row.id, amount, reason: 'other' } })
      expect(res.statusCode).toBe(503)
      return ctx.deps.db.selectFrom('refunds').selectAll().where('order_id', '=', row.id).where('amount', '=', amount).executeTakeFirstOrThrow()
    }
    const a = await pendingRefund(1000)
    const made = await stripe.refunds.create({ payment_intent: row.payment_intent_id!, amount: 1000, metadata: { refund_id: a.id, order_id: row.id, organization_id: org.organizationId } })
    const updated = fake.event('charge.refund.updated', made)
    expect((await deliver(org, updated)).json()).toMatchObject({ handled: true })
    expect((await deliver(org, { ...updated, id: `${updated.id}x` })).json()).toMatchObject({ handled: false })
    expect(await orderRow(ctx, row.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 1000 })
    // Stripe's charge.refunded for it afterwards adds nothing.
    expect((await deliver(org, lastChargeRefunded(row.payment_intent_id!))).json()).toMatchObject({ handled: false })

    const b = await pendingRefund(1500)
    expect((await ctx.app.inject({ method: 'POST', url: '/v1/refunds/', headers: org.headers, payload: { order_id: row.id, amount: 1, reason: 'other' } })).statusCode).toBe(422)
    const failed = fake.event('charge.refund.updated', { ...made, id: 're_failedOne', amount: 1500, status: 'failed', failure_reason: 'expired_or_canceled_card', metadata: { refund_id: b.id } })
    expect((await deliver(org, failed)).json()).toMatchObject({ handled: true })
    expect(await ctx.deps.db.selectFrom('refunds').selectAll().where('id', '=', b.id).executeTakeFirstOrThrow()).toMatchObject({ status: 'failed', failure_reason: 'card_expired' })
    expect(await orderRow(ctx, row.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 1000 })
    expect((await ctx.app.inject({ method: 'POST', url: '/v1/refunds/', headers: org.headers, payload: { order_id: row.id, amount: 1500, reason: 'other' } })).statusCode).toBe(201)
    expect(await orderRow(ctx, row.id)).toMatchObject({ status: 'refunded', refunded_amount: 2500 })
  })

  it('concurrent refunds on Stripe never exceed the order', async () => {
    const org = await createOrg(ctx)
    const { row } = await paidOrder(org, 1000)
    const results = await Promise.all(Array.from({ length: 10 }, () => ctx.app.inject({ method: 'POST', url: '/v1/refunds/', headers: org.headers, payload: { order_id: row.id, amount: 300, reason: 'other' } })))
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(3)
    expect(results.filter((r) => r.statusCode === 422)).toHaveLength(7)
    expect(await orderRow(ctx, row.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 900 })
    const charge = [...fake.charges.values()].find((c) => c.payment_intent === row.payment_intent_id)!
    expect(charge.amount_refunded).toBe(900)
  })
})
