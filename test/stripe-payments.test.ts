import type { Polar } from '@polar-sh/sdk'
import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkoutJobHandlers, RECONCILE_JOB, settleCheckout, SETTLE_JOB } from '../src/checkouts/jobs'
import { sweepUnreconciled } from '../src/checkouts/stripe-confirm'
import { openPostgres } from '../src/db/index'
import { runDueJobs } from '../src/jobs/worker'
import { stripeClient } from '../src/payments/stripe-client'
import { startFakeStripe, type FakeStripe } from './fake-stripe'
import { createOrg, createTestApp, FixedClock, polarClient, testDatabaseUrl, type TestContext, type TestOrg } from './helpers'

// Issue 11: confirm on Stripe, Stripe's webhooks and reconciliation, against the local fake Stripe (the
// official client pointed at it). The organization is on Stripe through the install's STRIPE_* defaults.
const SECRET = 'sk_test_kassaStripeTests123'
const PUBLISHABLE = 'pk_test_kassaStripeTests123'
const WHSEC = 'whsec_kassaStripeTestsSecret123'

describe('payments on Stripe', async () => {
  let fake: FakeStripe
  let ctx: TestContext
  let stripe: Stripe
  const clock = new FixedClock(new Date())
  beforeAll(async () => {
    fake = await startFakeStripe()
    ctx = await createTestApp({ isolated: true, clock, config: { stripeSecretKey: SECRET, stripePublishableKey: PUBLISHABLE, stripeWebhookSecret: WHSEC, stripeApiUrl: fake.url } })
    stripe = stripeClient(SECRET, { apiUrl: fake.url })
  })
  afterAll(() => fake?.close())

  const token = async (pm: string) => (await stripe.testHelpers.confirmationTokens.create({ payment_method: pm })).id
  const settle = () => runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })

  async function session(org: TestOrg, opts: { amount?: number; recurring?: boolean; trialDays?: number; discountCode?: string } = {}) {
    const polar = await polarClient(ctx.app, org.token)
    const product = await polar.products.create({
      name: opts.recurring ? 'Monthly plan' : 'Poster',
      prices: [{ amountType: 'fixed', priceAmount: opts.amount ?? 2500, priceCurrency: 'eur' }],
      ...(opts.recurring ? { recurringInterval: 'month' as const } : {}),
      ...(opts.trialDays ? { trialInterval: 'day' as const, trialIntervalCount: opts.trialDays } : {}),
    })
    const link = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [product.id] })
    const visit = await ctx.app.inject({ method: 'GET', url: `/buy/${link.clientSecret}?customer_email=buyer@example.com${opts.discountCode ? `&discount_code=${opts.discountCode}` : ''}` })
    expect(visit.statusCode).toBe(307)
    const secret = (visit.headers.location as string).split('/checkout/')[1]!.split('?')[0]!
    return { polar, product, link, secret }
  }

  const confirm = (secret: string, body: Record<string, unknown>) =>
    ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${secret}/confirm`, payload: { customer_name: 'Ada Buyer', customer_billing_address: { country: 'DE' }, ...body } })

  function deliver(org: TestOrg, event: Stripe.Event, secret = WHSEC) {
    const { payload, header } = fake.webhook(secret, event)
    return ctx.app.inject({ method: 'POST', url: `/v1/integrations/stripe/webhook/${org.organizationId}`, payload, headers: { 'content-type': 'application/json', 'stripe-signature': header } })
  }
  const lastEvent = (type: string, intentId: string) => [...fake.events].reverse().find((e) => e.type === type && (e.data.object as { id: string }).id === intentId)!
  const ordersOf = async (polar: Polar) => (await polar.orders.list({})).result.items

  it('a card payment: a PaymentIntent for the total with the token, a customer, metadata and a key per attempt; then one order', async () => {
    const org = await createOrg(ctx)
    const { polar, link, secret } = await session(org)
    const before = await polar.checkouts.clientGet({ clientSecret: secret })
    expect(before.paymentProcessorMetadata).toMatchObject({ publishable_key: PUBLISHABLE })
    const res = await confirm(secret, { confirmation_token_id: await token('pm_card_visa') })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.status).toBe('confirmed')
    expect(body.payment_processor_metadata).toMatchObject({ publishable_key: PUBLISHABLE, intent_status: 'succeeded' })
    expect(body.payment_processor_metadata.customer_id).toMatch(/^cus_/)
    expect(body.livemode).toBe(false)

    const create = fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents').at(-1)!
    expect(create.body).toMatchObject({ amount: '2500', currency: 'eur', confirm: 'true', customer: body.payment_processor_metadata.customer_id, metadata: { checkout_id: body.id, checkout_link_id: link.id, organization_id: org.organizationId } })
    expect(create.body.confirmation_token).toMatch(/^ctoken_/)
    expect(create.idempotencyKey).toBe(`kassa-checkout-${body.id}-attempt-1`)
    expect(create.body.setup_future_usage).toBeUndefined()

    await settle()
    const after = await polar.checkouts.get({ id: body.id })
    expect(after.status).toBe('succeeded')
    const [order, ...more] = await ordersOf(polar)
    expect(more).toHaveLength(0)
    expect(order).toMatchObject({ totalAmount: 2500, currency: 'eur', status: 'paid' })
    const raw = (await ctx.app.inject({ method: 'GET', url: `/v1/orders/${order!.id}`, headers: org.headers })).json()
    expect(raw).toMatchObject({ livemode: false, dispute: null })
    const row = await ctx.deps.db.selectFrom('orders').selectAll().where('id', '=', order!.id).executeTakeFirstOrThrow()
    expect(row.payment_intent_id).toMatch(/^pi_/)
    expect(row.stripe_charge_id).toMatch(/^ch_/)
    const customer = await ctx.deps.db.selectFrom('customers').selectAll().where('id', '=', order!.customerId).executeTakeFirstOrThrow()
    expect(customer.stripe_customer_id).toBe(body.payment_processor_metadata.customer_id)
  })

  it('a decline is a 400 PaymentError with Stripe\'s message, the session open again; the next attempt has its own key and succeeds', async () => {
    const org = await createOrg(ctx)
    const { polar, secret } = await session(org)
    const declined = await confirm(secret, { confirmation_token_id: await token('pm_card_chargeDeclined') })
    expect(declined.statusCode).toBe(400)
    expect(declined.json()).toEqual({ error: 'PaymentError', detail: 'Your card was declined.' })
    const open = await polar.checkouts.clientGet({ clientSecret: secret })
    expect(open.status).toBe('open')
    expect(open.paymentProcessorMetadata.intent_status).toBeUndefined()

    const ok = await confirm(secret, { confirmation_token_id: await token('pm_card_visa') })
    expect(ok.statusCode).toBe(200)
    const keys = fake.requests.filter((r) => r.path === '/v1/payment_intents' && r.body.metadata && (r.body.metadata as Record<string, string>).checkout_id === open.id).map((r) => r.idempotencyKey)
    expect(keys).toEqual([`kassa-checkout-${open.id}-attempt-1`, `kassa-checkout-${open.id}-attempt-2`])
    await settle()
    expect(await ordersOf(polar)).toHaveLength(1)
  })

  it('a declined payment gives the discount\'s redemption back', async () => {
    const org = await createOrg(ctx)
    const polarAdmin = await polarClient(ctx.app, org.token)
    await polarAdmin.discounts.create({ name: 'One', type: 'fixed', amount: 500, currency: 'eur', duration: 'once', code: 'ONLYONE', maxRedemptions: 1 })
    const { secret } = await session(org, { discountCode: 'ONLYONE' })
    expect((await confirm(secret, { confirmation_token_id: await token('pm_card_chargeDeclined') })).statusCode).toBe(400)
    expect(await ctx.deps.db.selectFrom('discount_redemptions').selectAll().execute().then((r) => r.filter((x) => x.checkout_id !== null).length)).toBeGreaterThanOrEqual(0)
    const redemptions = await ctx.deps.db.selectFrom('discount_redemptions').innerJoin('checkouts', 'checkouts.id', 'discount_redemptions.checkout_id').where('checkouts.client_secret', '=', secret).selectAll().execute()
    expect(redemptions).toHaveLength(0)
    const ok = await confirm(secret, { confirmation_token_id: await token('pm_card_visa') })
    expect(ok.statusCode).toBe(200)
    expect(ok.json().total_amount).toBe(2000)
  })

  it('3-D Secure: confirm answers the intent\'s client secret and requires_action; the webhook after the buyer completes it settles once', async () => {
    const org = await createOrg(ctx)
    const { polar, secret } = await session(org)
    const res = await confirm(secret, { confirmation_token_id: await token('pm_card_threeDSecure2Required') })
    expect(res.statusCode).toBe(200)
    const meta = res.json().payment_processor_metadata
    expect(meta).toMatchObject({ intent_status: 'requires_action', publishable_key: PUBLISHABLE })
    const intentId = (meta.intent_client_secret as string).split('_secret_')[0]!
    expect(fake.intents.get(intentId)?.status).toBe('requires_action')
    await settle()
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).status).toBe('confirmed')

    fake.completeNextAction(intentId, 'succeed')
    const event = lastEvent('payment_intent.succeeded', intentId)
    const first = await deliver(org, event)
    expect(first.statusCode).toBe(200)
    expect(first.json()).toMatchObject({ received: true, handled: true })
    const again = await deliver(org, event)
    expect(again.json()).toMatchObject({ duplicate: true })
    await settle()
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).status).toBe('succeeded')
    expect(await ordersOf(polar)).toHaveLength(1)
  })

  it('3-D Secure with no webhook set up: the page\'s polling asks Stripe (at most every 2 s) and the session settles', async () => {
    const org = await createOrg(ctx)
    const { polar, secret } = await session(org)
    const res = await confirm(secret, { confirmation_token_id: await token('pm_card_threeDSecure2Required') })
    const intentId = (res.json().payment_processor_metadata.intent_client_secret as string).split('_secret_')[0]!
    const retrieves = () => fake.requests.filter((r) => r.method === 'GET' && r.path === `/v1/payment_intents/${intentId}`).length
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).status).toBe('confirmed')
    expect(retrieves()).toBe(1)
    fake.completeNextAction(intentId, 'succeed')
    // polled again at once: throttled, Stripe is not asked again
    await polar.checkouts.clientGet({ clientSecret: secret })
    expect(retrieves()).toBe(1)
    clock.advance(2100)
    const polled = await polar.checkouts.clientGet({ clientSecret: secret })
    expect(retrieves()).toBe(2)
    expect(polled.paymentProcessorMetadata.intent_status).toBe('succeeded')
    await settle()
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).status).toBe('succeeded')
    expect(await ordersOf(polar)).toHaveLength(1)
  })

  it('3-D Secure failed: payment_intent.payment_failed opens the session again', async () => {
    const org = await createOrg(ctx)
    const { polar, secret } = await session(org)
    const res = await confirm(secret, { confirmation_token_id: await token('pm_card_threeDSecure2Required') })
    const intentId = (res.json().payment_processor_metadata.intent_client_secret as string).split('_secret_')[0]!
    fake.completeNextAction(intentId, 'fail')
    const failed = [...fake.events].reverse().find((e) => e.type === 'payment_intent.payment_failed' && (e.data.object as { id: string }).id === intentId)!
    expect((await deliver(org, failed)).json()).toMatchObject({ handled: true })
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).status).toBe('open')
  })

  it('a payment in flight when the organization switches to the sandbox still settles from its webhook', async () => {
    const org = await createOrg(ctx)
    const { polar, secret } = await session(org)
    const res = await confirm(secret, { confirmation_token_id: await token('pm_card_threeDSecure2Required') })
    const intentId = (res.json().payment_processor_metadata.intent_client_secret as string).split('_secret_')[0]!
    const put = await ctx.app.inject({ method: 'PUT', url: `/v1/organizations/${org.organizationId}/payment-settings`, headers: org.headers, payload: { processor: 'sandbox' } })
    expect(put.statusCode).toBe(200)
    fake.completeNextAction(intentId, 'succeed')
    expect((await deliver(org, lastEvent('payment_intent.succeeded', intentId))).json()).toMatchObject({ handled: true })
    await settle()
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).status).toBe('succeeded')
    expect(await ordersOf(polar)).toHaveLength(1)
  })

  it('a request Stripe will never accept (below its minimum amount) is a 400 with Stripe\'s message, the session open, not a session stuck confirmed', async () => {
    const org = await createOrg(ctx)
    const { polar, secret } = await session(org, { amount: 30 })
    const res = await confirm(secret, { confirmation_token_id: await token('pm_card_visa') })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ error: 'PaymentError', detail: expect.stringContaining('at least 50') })
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).status).toBe('open')
  })

  it('a signed event with no object, or an unknown type, is answered 200 and changes nothing', async () => {
    const org = await createOrg(ctx)
    const empty = { ...fake.event('payment_intent.succeeded', {} as Stripe.PaymentIntent), data: { object: null } } as unknown as Stripe.Event
    const res = await deliver(org, empty)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ handled: false })
    const other = fake.event('customer.created', { id: 'cus_x', object: 'customer' } as Stripe.Customer)
    expect((await deliver(org, other)).json()).toMatchObject({ handled: false })
  })

  it('3-D Secure left open for a day: reconciliation cancels the intent at Stripe and opens the session again', async () => {
    const org = await createOrg(ctx)
    const { polar, secret } = await session(org)
    const res = await confirm(secret, { confirmation_token_id: await token('pm_card_threeDSecure2Required') })
    const intentId = (res.json().payment_processor_metadata.intent_client_secret as string).split('_secret_')[0]!
    clock.advance(20 * 60_000)
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [RECONCILE_JOB] })
    expect(fake.intents.get(intentId)!.status).toBe('requires_action') // a slow buyer is left alone
    clock.advance(25 * 3_600_000)
    await sweepUnreconciled(ctx.deps)
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [RECONCILE_JOB] })
    expect(fake.intents.get(intentId)!.status).toBe('canceled')
    expect(fake.requests.some((r) => r.path === `/v1/payment_intents/${intentId}/cancel` && r.body.cancellation_reason === 'abandoned')).toBe(true)
    const row = await ctx.deps.db.selectFrom('checkouts').select('status').where('client_secret', '=', secret).executeTakeFirstOrThrow()
    expect(row.status).toBe('open')
    expect(await ordersOf(polar)).toHaveLength(0)
  })

  it('a forged or missing signature is a 400 and changes nothing', async () => {
    const org = await createOrg(ctx)
    const { polar, secret } = await session(org)
    const res = await confirm(secret, { confirmation_token_id: await token('pm_card_threeDSecure2Required') })
    const intentId = (res.json().payment_processor_metadata.intent_client_secret as string).split('_secret_')[0]!
    fake.completeNextAction(intentId, 'succeed')
    const event = lastEvent('payment_intent.succeeded', intentId)
    const forged = await deliver(org, event, 'whsec_notTheRightSecretAtAll')
    expect(forged.statusCode).toBe(400)
    expect(forged.json()).toEqual({ error: 'BadRequest', detail: 'Invalid Stripe webhook signature.' })
    const { payload } = fake.webhook(WHSEC, event)
    const unsigned = await ctx.app.inject({ method: 'POST', url: `/v1/integrations/stripe/webhook/${org.organizationId}`, payload, headers: { 'content-type': 'application/json' } })
    expect(unsigned.statusCode).toBe(400)
    const tampered = fake.webhook(WHSEC, event)
    const t2 = await ctx.app.inject({ method: 'POST', url: `/v1/integrations/stripe/webhook/${org.organizationId}`, payload: tampered.payload.replace('"succeeded"', '"canceled"'), headers: { 'content-type': 'application/json', 'stripe-signature': tampered.header } })
    expect(t2.statusCode).toBe(400)
    expect((await ctx.app.inject({ method: 'POST', url: '/v1/integrations/stripe/webhook/not-a-uuid', payload: '{}', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=x' } })).statusCode).toBe(404)
    await settle()
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).status).toBe('confirmed')
    expect(await ctx.deps.db.selectFrom('stripe_events').selectAll().where('organization_id', '=', org.organizationId).execute()).toHaveLength(0)
  })

  it('an event about another organization\'s session does nothing', async () => {
    const a = await createOrg(ctx)
    const b = await createOrg(ctx)
    const { secret } = await session(a)
    const res = await confirm(secret, { confirmation_token_id: await token('pm_card_threeDSecure2Required') })
    const intentId = (res.json().payment_processor_metadata.intent_client_secret as string).split('_secret_')[0]!
    fake.completeNextAction(intentId, 'succeed')
    const delivered = await deliver(b, lastEvent('payment_intent.succeeded', intentId))
    expect(delivered.json()).toMatchObject({ handled: false })
    const row = await ctx.deps.db.selectFrom('checkouts').select('status').where('client_secret', '=', secret).executeTakeFirstOrThrow()
    expect(row.status).toBe('confirmed')
  })

  it('Stripe\'s answer lost after it charged (connection dropped on every try): the session waits confirmed; the webhook settles it, reconciliation then finds nothing to do', async () => {
    const org = await createOrg(ctx)
    const { polar, secret } = await session(org)
    const tok = await token('pm_card_visa')
    for (let i = 0; i < 3; i++) fake.failNext('POST', '/v1/payment_intents', 'drop-after-processing')
    const res = await confirm(secret, { confirmation_token_id: tok })
    expect(res.statusCode).toBe(200)
    expect(res.json().status).toBe('confirmed')
    const id = res.json().id as string
    const created = [...fake.intents.values()].filter((pi) => pi.metadata.checkout_id === id)
    expect(created).toHaveLength(1)
    expect(created[0]!.status).toBe('succeeded')
    // the webhook arrives before anything else has recorded the outcome
    expect((await deliver(org, lastEvent('payment_intent.succeeded', created[0]!.id))).json()).toMatchObject({ handled: true })
    await settle()
    clock.advance(20 * 60_000)
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [RECONCILE_JOB, SETTLE_JOB] })
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).status).toBe('succeeded')
    expect(await ordersOf(polar)).toHaveLength(1)
    expect([...fake.intents.values()].filter((pi) => pi.metadata.checkout_id === id)).toHaveLength(1)
  })

  it('a crash between the PaymentIntent and the database, with no webhook: reconciliation replays the attempt by its key and settles once', async () => {
    const org = await createOrg(ctx)
    const { polar, secret } = await session(org)
    for (let i = 0; i < 3; i++) fake.failNext('POST', '/v1/payment_intents', 'drop-after-processing')
    const res = await confirm(secret, { confirmation_token_id: await token('pm_card_visa') })
    const id = res.json().id as string
    expect(res.json().status).toBe('confirmed')
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [RECONCILE_JOB, SETTLE_JOB] })
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).status).toBe('confirmed')
    clock.advance(30_000)
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [RECONCILE_JOB] })
    await settle()
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).status).toBe('succeeded')
    clock.advance(20 * 60_000)
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [RECONCILE_JOB, SETTLE_JOB] })
    expect(await ordersOf(polar)).toHaveLength(1)
    const replays = fake.requests.filter((r) => r.path === '/v1/payment_intents' && r.idempotencyKey === `kassa-checkout-${id}-attempt-1`)
    expect(replays.length).toBeGreaterThanOrEqual(4)
    expect([...fake.intents.values()].filter((pi) => pi.metadata.checkout_id === id)).toHaveLength(1)
  })

  it('reconciliation that ran out of tries (Stripe down for long) is queued again by the sweep, once an hour, and then settles', async () => {
    const org = await createOrg(ctx)
    const { polar, secret } = await session(org)
    for (let i = 0; i < 3; i++) fake.failNext('POST', '/v1/payment_intents', 'drop-after-processing')
    const id = (await confirm(secret, { confirmation_token_id: await token('pm_card_visa') })).json().id as string
    // its reconciliation jobs died (as after 12 failed tries)
    await ctx.deps.db.updateTable('jobs').set({ finished_at: clock.now(), last_error: 'dead: Stripe unreachable' }).where('dedupe_key', 'like', `${RECONCILE_JOB}:${id}:%`).execute()
    expect(await sweepUnreconciled(ctx.deps)).toBe(0) // too recent
    clock.advance(2 * ctx.deps.config.stripeReconcileAfterSeconds * 1000 + 1000)
    expect(await sweepUnreconciled(ctx.deps)).toBe(1)
    expect(await sweepUnreconciled(ctx.deps)).toBe(0) // one pending already
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [RECONCILE_JOB] })
    await settle()
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).status).toBe('succeeded')
    expect(await ordersOf(polar)).toHaveLength(1)
  })

  it('a refund made in Stripe\'s dashboard is recorded on the order (order.refunded), partially then fully; a dispute too', async () => {
    const org = await createOrg(ctx)
    const { polar, secret } = await session(org)
    const res = await confirm(secret, { confirmation_token_id: await token('pm_card_visa') })
    await settle()
    const [order] = await ordersOf(polar)
    const row = await ctx.deps.db.selectFrom('orders').selectAll().where('id', '=', order!.id).executeTakeFirstOrThrow()
    await stripe.refunds.create({ payment_intent: row.payment_intent_id!, amount: 1000 })
    const refunded = [...fake.events].reverse().find((e) => e.type === 'charge.refunded' && (e.data.object as Stripe.Charge).payment_intent === row.payment_intent_id)!
    expect((await deliver(org, refunded)).json()).toMatchObject({ handled: true })
    let got = await polar.orders.get({ id: order!.id })
    expect(got).toMatchObject({ status: 'partially_refunded', refundedAmount: 1000, refundableAmount: 1500 })
    await stripe.refunds.create({ payment_intent: row.payment_intent_id!, amount: 1500 })
    const full = [...fake.events].reverse().find((e) => e.type === 'charge.refunded' && (e.data.object as Stripe.Charge).payment_intent === row.payment_intent_id)!
    await deliver(org, full)
    // the older, partial event arriving late lowers nothing
    expect((await deliver(org, { ...refunded, id: `${refunded.id}x` })).json()).toMatchObject({ handled: false })
    got = await polar.orders.get({ id: order!.id })
    expect(got).toMatchObject({ status: 'refunded', refundedAmount: 2500, refundableAmount: 0 })

    const dispute = fake.event('charge.dispute.created', { id: 'dp_test123', object: 'dispute', amount: 2500, charge: row.stripe_charge_id!, currency: 'eur', created: Math.floor(Date.now() / 1000), livemode: false, payment_intent: row.payment_intent_id!, reason: 'fraudulent', status: 'needs_response', metadata: {} } as unknown as Stripe.Dispute)
    expect((await deliver(org, dispute)).json()).toMatchObject({ handled: true })
    const withDispute = (await ctx.app.inject({ method: 'GET', url: `/v1/orders/${order!.id}`, headers: org.headers })).json()
    expect(withDispute.dispute).toMatchObject({ id: 'dp_test123', status: 'needs_response', amount: 2500, reason: 'fraudulent' })
    expect(res.statusCode).toBe(200)
  })

  it('a subscription keeps the card for renewals (setup_future_usage off_session); a trial saves it with a SetupIntent and charges nothing', async () => {
    const org = await createOrg(ctx)
    const sub = await session(org, { recurring: true })
    const res = await confirm(sub.secret, { confirmation_token_id: await token('pm_card_visa') })
    expect(res.statusCode).toBe(200)
    const create = fake.requests.filter((r) => r.path === '/v1/payment_intents').at(-1)!
    expect(create.body.setup_future_usage).toBe('off_session')
    await settle()
    const subscription = await ctx.deps.db.selectFrom('subscriptions').selectAll().where('organization_id', '=', org.organizationId).executeTakeFirstOrThrow()
    expect(subscription.payment_method_id).toMatch(/^pm_/)

    const trial = await session(org, { recurring: true, trialDays: 14 })
    const before = fake.requests.filter((r) => r.path === '/v1/payment_intents').length
    const t = await confirm(trial.secret, { confirmation_token_id: await token('pm_card_visa') })
    expect(t.statusCode).toBe(200)
    expect(fake.requests.filter((r) => r.path === '/v1/payment_intents').length).toBe(before)
    const setup = fake.requests.filter((r) => r.path === '/v1/setup_intents').at(-1)!
    expect(setup.body).toMatchObject({ usage: 'off_session', confirm: 'true', metadata: { organization_id: org.organizationId } })
    await settle()
    expect((await sub.polar.checkouts.clientGet({ clientSecret: trial.secret })).status).toBe('succeeded')
  })

  it('a fully discounted session creates no PaymentIntent', async () => {
    const org = await createOrg(ctx)
    const polarAdmin = await polarClient(ctx.app, org.token)
    await polarAdmin.discounts.create({ name: 'Free', type: 'percentage', basisPoints: 10000, duration: 'once', code: 'FREE100' })
    const { polar, secret } = await session(org, { discountCode: 'FREE100' })
    const before = fake.requests.length
    const res = await confirm(secret, {})
    expect(res.statusCode).toBe(200)
    expect(fake.requests.length).toBe(before)
    await settle()
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).status).toBe('succeeded')
  })
})

describe('one Stripe event delivered to two processes on one database', async () => {
  let fake: FakeStripe
  const config = { stripeSecretKey: SECRET, stripePublishableKey: PUBLISHABLE, stripeWebhookSecret: WHSEC }
  const a = await createTestApp({ config })
  // On PostgreSQL the second node has its own pool (another process's connections); PGlite is one process.
  const own = testDatabaseUrl ? await openPostgres(testDatabaseUrl) : null
  const b = own ? await createTestApp({ database: own, config }) : await createTestApp({ database: a.database, config })
  afterAll(async () => {
    await b.app.close()
    await own?.close()
    await fake?.close()
  })
  beforeAll(async () => {
    fake = await startFakeStripe()
    for (const node of [a, b]) node.deps.config.stripeApiUrl = fake.url
  })

  it('both answer 200, one handles it, one order', async () => {
    const stripe = stripeClient(SECRET, { apiUrl: fake.url })
    const org = await createOrg(a)
    const polar = await polarClient(a.app, org.token)
    const product = await polar.products.create({ name: 'Print', prices: [{ amountType: 'fixed', priceAmount: 1500, priceCurrency: 'eur' }] })
    const link = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [product.id] })
    const visit = await a.app.inject({ method: 'GET', url: `/buy/${link.clientSecret}?customer_email=two@example.com` })
    const secret = (visit.headers.location as string).split('/checkout/')[1]!.split('?')[0]!
    const tok = (await stripe.testHelpers.confirmationTokens.create({ payment_method: 'pm_card_threeDSecure2Required' })).id
    const res = await a.app.inject({ method: 'POST', url: `/v1/checkouts/client/${secret}/confirm`, payload: { customer_name: 'Two', customer_billing_address: { country: 'DE' }, confirmation_token_id: tok } })
    const checkoutId = res.json().id as string
    const intentId = (res.json().payment_processor_metadata.intent_client_secret as string).split('_secret_')[0]!
    fake.completeNextAction(intentId, 'succeed')
    const event = [...fake.events].reverse().find((e) => e.type === 'payment_intent.succeeded' && (e.data.object as { id: string }).id === intentId)!
    const send = (node: TestContext) => {
      const { payload, header } = fake.webhook(WHSEC, event)
      return node.app.inject({ method: 'POST', url: `/v1/integrations/stripe/webhook/${org.organizationId}`, payload, headers: { 'content-type': 'application/json', 'stripe-signature': header } })
    }
    const answers = await Promise.all([send(a), send(b), send(a), send(b)])
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200])
    expect(answers.filter((r) => r.json().handled === true)).toHaveLength(1)
    expect(answers.filter((r) => r.json().duplicate === true)).toHaveLength(3)
    const jobs = await a.deps.db.selectFrom('jobs').select('id').where('dedupe_key', '=', `${SETTLE_JOB}:${checkoutId}`).execute()
    expect(jobs).toHaveLength(1)
    // settlement itself, raced on both nodes, makes one order
    await Promise.all([settleCheckout(a.deps, checkoutId, null), settleCheckout(b.deps, checkoutId, null)])
    const orders = await a.deps.db.selectFrom('orders').select(['id', 'livemode']).where('checkout_id', '=', checkoutId).execute()
    expect(orders).toEqual([{ id: expect.any(String), livemode: false }])
  })
})

describe("an organization's own Stripe keys, live mode, next to an organization on the sandbox", async () => {
  let fake: FakeStripe
  const ctx = await createTestApp({ isolated: true, config: { encryptionKey: Buffer.alloc(32, 7).toString('base64') } })
  const LIVE_SK = 'sk_live_ownLiveKeyForKassa123'
  const LIVE_PK = 'pk_live_ownLiveKeyForKassa123'
  const OWN_WHSEC = 'whsec_ownSigningSecretForKassa123'
  beforeAll(async () => {
    fake = await startFakeStripe()
    ctx.deps.config.stripeApiUrl = fake.url
  })
  afterAll(() => fake?.close())

  async function visit(org: TestOrg) {
    const polar = await polarClient(ctx.app, org.token)
    const product = await polar.products.create({ name: 'Live print', prices: [{ amountType: 'fixed', priceAmount: 4000, priceCurrency: 'usd' }] })
    const link = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [product.id] })
    const res = await ctx.app.inject({ method: 'GET', url: `/buy/${link.clientSecret}?customer_email=live@example.com` })
    return { polar, secret: (res.headers.location as string).split('/checkout/')[1]!.split('?')[0]! }
  }

  it('sessions, orders and webhook payloads say livemode; the sandbox organization is untouched', async () => {
    const live = await createOrg(ctx)
    const put = await ctx.app.inject({ method: 'PUT', url: `/v1/organizations/${live.organizationId}/payment-settings`, headers: live.headers, payload: { processor: 'stripe', secret_key: LIVE_SK, publishable_key: LIVE_PK, webhook_secret: OWN_WHSEC } })
    expect(put.json()).toMatchObject({ processor: 'stripe' })
    expect(put.statusCode).toBe(200)
    await ctx.app.inject({ method: 'POST', url: '/v1/webhooks/endpoints', headers: live.headers, payload: { url: 'https://hooks.example.com/kassa', format: 'raw', events: ['checkout.updated', 'order.paid'] } })
    const { polar, secret } = await visit(live)
    const opened = await ctx.app.inject({ method: 'GET', url: `/v1/checkouts/client/${secret}` })
    expect(opened.json()).toMatchObject({ livemode: true, payment_processor_metadata: { publishable_key: LIVE_PK } })
    const liveStripe = stripeClient(LIVE_SK, { apiUrl: fake.url })
    const tok = (await liveStripe.testHelpers.confirmationTokens.create({ payment_method: 'pm_card_visa' })).id
    const res = await ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${secret}/confirm`, payload: { customer_name: 'Live', customer_billing_address: { country: 'DE' }, confirmation_token_id: tok } })
    expect(res.statusCode).toBe(200)
    expect(fake.requests.at(-1)!.path).toBe('/v1/payment_intents')
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
    const [order] = (await polar.orders.list({})).result.items
    const raw = (await ctx.app.inject({ method: 'GET', url: `/v1/orders/${order!.id}`, headers: live.headers })).json()
    expect(raw.livemode).toBe(true)
    const payloads = await ctx.deps.db.selectFrom('webhook_events').select(['type', 'payload']).where('organization_id', '=', live.organizationId).execute()
    const paid = payloads.find((p) => p.type === 'order.paid')!
    expect(JSON.parse(paid.payload as unknown as string).data.livemode).toBe(true)
    expect(payloads.filter((p) => p.type === 'checkout.updated').every((p) => JSON.parse(p.payload as unknown as string).data.livemode === true)).toBe(true)

    // its webhook is signed with its own secret: another secret is refused; a test-mode event is ignored
    const pi = [...fake.intents.values()].find((i) => i.livemode)!
    const event = fake.event('payment_intent.succeeded', pi)
    const wrong = fake.webhook('whsec_someoneElsesSecret123', event)
    expect((await ctx.app.inject({ method: 'POST', url: `/v1/integrations/stripe/webhook/${live.organizationId}`, payload: wrong.payload, headers: { 'content-type': 'application/json', 'stripe-signature': wrong.header } })).statusCode).toBe(400)
    const testEvent = fake.webhook(OWN_WHSEC, { ...event, livemode: false })
    expect((await ctx.app.inject({ method: 'POST', url: `/v1/integrations/stripe/webhook/${live.organizationId}`, payload: testEvent.payload, headers: { 'content-type': 'application/json', 'stripe-signature': testEvent.header } })).json()).toMatchObject({ handled: false })

    const sandbox = await createOrg(ctx)
    const s = await visit(sandbox)
    const sb = await ctx.app.inject({ method: 'GET', url: `/v1/checkouts/client/${s.secret}` })
    expect(sb.json()).toMatchObject({ livemode: false, payment_processor_metadata: {} })
    const before = fake.requests.length
    const paidSandbox = await ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${s.secret}/confirm`, payload: { customer_name: 'Sand', customer_billing_address: { country: 'DE' }, confirmation_token_id: 'tok_sandbox_success' } })
    expect(paidSandbox.statusCode).toBe(200)
    expect(fake.requests.length).toBe(before)
    const hook = await ctx.app.inject({ method: 'POST', url: `/v1/integrations/stripe/webhook/${sandbox.organizationId}`, payload: '{}', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=abc' } })
    expect(hook.statusCode).toBe(400)
  })
})
