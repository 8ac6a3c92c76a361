import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stripeClient, stripeKeyMode } from '../src/payments/stripe-client'
import { startFakeStripe, type FakeStripe } from './fake-stripe'

// Driven only through the official library, so the fake is proven to speak what the library sends.
describe('fake Stripe, through the official client', () => {
  let fake: FakeStripe
  let stripe: Stripe
  beforeAll(async () => {
    fake = await startFakeStripe()
    stripe = stripeClient('sk_test_kassa123', { apiUrl: fake.url })
  })
  afterAll(() => fake.close())

  const token = (payment_method: string) => stripe.testHelpers.confirmationTokens.create({ payment_method })
  const pay = async (pm: string, extra: Partial<Stripe.PaymentIntentCreateParams> = {}, opts: Stripe.RequestOptions = {}) =>
    stripe.paymentIntents.create({ amount: 2500, currency: 'eur', confirm: true, confirmation_token: (await token(pm)).id, automatic_payment_methods: { enabled: true, allow_redirects: 'never' }, metadata: { checkout_id: 'co_1' }, ...extra }, opts)

  it('memoizes one client per key and URL; tells test keys from live ones', () => {
    expect(stripeClient('sk_test_kassa123', { apiUrl: fake.url })).toBe(stripe)
    expect(stripeClient('sk_test_other', { apiUrl: fake.url })).not.toBe(stripe)
    expect(stripeKeyMode('sk_test_abc')).toBe('test')
    expect(stripeKeyMode('sk_live_abc')).toBe('live')
  })

  it('creates and updates a customer', async () => {
    const c = await stripe.customers.create({ email: 'a@example.com', metadata: { org: 'o1' } })
    expect(c.id).toMatch(/^cus_/)
    expect(c.livemode).toBe(false)
    const u = await stripe.customers.update(c.id, { name: 'Ada', metadata: { org: '' } })
    expect(u).toMatchObject({ name: 'Ada', metadata: {} })
    expect((await stripe.customers.retrieve(c.id)).id).toBe(c.id)
    const req = fake.requests.find((r) => r.path === '/v1/customers')!
    expect(req.body).toEqual({ email: 'a@example.com', metadata: { org: 'o1' } })
    expect(req.idempotencyKey).toMatch(/^stripe-node-retry-/)
    expect(req.stripeVersion).toBeTruthy()
  })

  it('a visa payment succeeds with a charge and a card payment method', async () => {
    const customer = await stripe.customers.create({ email: 'b@example.com' })
    const pi = await pay('pm_card_visa', { customer: customer.id, setup_future_usage: 'off_session', expand: ['payment_method'] })
    expect(pi.status).toBe('succeeded')
    expect(pi.latest_charge).toMatch(/^ch_/)
    const pm = pi.payment_method as Stripe.PaymentMethod
    expect(pm.card).toMatchObject({ brand: 'visa', last4: '4242' })
    expect(fake.requests.at(-1)!.body).toMatchObject({ automatic_payment_methods: { enabled: 'true' }, metadata: { checkout_id: 'co_1' }, expand: ['payment_method'] })
    const ch = await stripe.charges.retrieve(pi.latest_charge as string)
    expect(ch).toMatchObject({ status: 'succeeded', amount: 2500, payment_intent: pi.id })
    const re = await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 })
    expect(re).toMatchObject({ status: 'succeeded', amount: 1000, charge: ch.id })
    expect((await stripe.charges.retrieve(ch.id)).amount_refunded).toBe(1000)
  })

  it('a declined card raises StripeCardError carrying the intent', async () => {
    const err = await pay('pm_card_chargeDeclined').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError)
    const e = err as Stripe.errors.StripeCardError
    expect(e).toMatchObject({ code: 'card_declined', decline_code: 'generic_decline', statusCode: 402 })
    expect(e.message).toContain('Your card was declined.')
    expect(e.payment_intent?.status).toBe('requires_payment_method')
  })

  it('a confirmation token is single-use; validation errors name the param', async () => {
    const t = await token('pm_card_visa')
    await stripe.paymentIntents.create({ amount: 900, currency: 'usd', confirm: true, confirmation_token: t.id })
    const again = await stripe.paymentIntents.create({ amount: 900, currency: 'usd', confirm: true, confirmation_token: t.id }).catch((e: unknown) => e)
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError)
    expect(again).toMatchObject({ statusCode: 400, param: 'confirmation_token' })
    const bad = await stripe.paymentIntents.create({ amount: 10, currency: 'usd' }).catch((e: unknown) => e)
    expect(bad).toMatchObject({ param: 'amount', code: 'amount_too_small' })
    const noReturn = await stripe.paymentIntents.create({ amount: 900, currency: 'usd', confirm: true, confirmation_token: (await token('pm_card_visa')).id, automatic_payment_methods: { enabled: true } }).catch((e: unknown) => e)
    expect(noReturn).toMatchObject({ param: 'return_url' })
  })

  it('3-D Secure: requires_action, then the buyer completes it', async () => {
    const pi = await pay('pm_card_threeDSecure2Required')
    expect(pi.status).toBe('requires_action')
    expect(pi.next_action?.type).toBe('use_stripe_sdk')
    expect(pi.client_secret).toMatch(new RegExp(`^${pi.id}_secret_`))
    fake.completeNextAction(pi.id, 'succeed')
    const after = await stripe.paymentIntents.retrieve(pi.id)
    expect(after.status).toBe('succeeded')
    expect(after.latest_charge).toMatch(/^ch_/)
  })

  it('a setup intent saves a card', async () => {
    const customer = await stripe.customers.create({})
    const si = await stripe.setupIntents.create({ customer: customer.id, confirm: true, confirmation_token: (await token('pm_card_visa')).id, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } })
    expect(si.status).toBe('succeeded')
    expect(si.payment_method).toMatch(/^pm_/)
    expect((await stripe.setupIntents.retrieve(si.id)).status).toBe('succeeded')
  })

  it('idempotency: same key and params replay; different params are an idempotency error', async () => {
    const t = (await token('pm_card_visa')).id
    const params = { amount: 1200, currency: 'usd', confirm: true, confirmation_token: t }
    const a = await stripe.paymentIntents.create(params, { idempotencyKey: 'k-replay' })
    const b = await stripe.paymentIntents.create(params, { idempotencyKey: 'k-replay' })
    expect(b.id).toBe(a.id)
    expect(b.lastResponse.headers['idempotent-replayed']).toBe('true')
    const c = await stripe.paymentIntents.create({ ...params, amount: 1300 }, { idempotencyKey: 'k-replay' }).catch((e: unknown) => e)
    expect(c).toBeInstanceOf(Stripe.errors.StripeIdempotencyError)
  })

  it('a connection dropped after processing: the retry with the same key replays, one intent exists', async () => {
    const t = (await token('pm_card_visa')).id
    const before = fake.intents.size
    fake.failNext('POST', '/v1/payment_intents', 'drop-after-processing')
    const result = await stripe.paymentIntents.create({ amount: 4000, currency: 'usd', confirm: true, confirmation_token: t, metadata: { checkout_id: 'co_drop' } }).catch((e: unknown) => e)
    expect(fake.intents.size).toBe(before + 1)
    const tries = fake.requests.filter((r) => r.body.metadata && (r.body.metadata as Record<string, string>).checkout_id === 'co_drop')
    if (result instanceof Error) expect(result).toBeInstanceOf(Stripe.errors.StripeConnectionError)
    else {
      expect(tries.length).toBe(2)
      expect(tries[1]!.idempotencyKey).toBe(tries[0]!.idempotencyKey)
      expect((result as Stripe.PaymentIntent).status).toBe('succeeded')
    }
  })

  it('a 500 is retried by the library', async () => {
    fake.failNext('POST', '/v1/customers', 'status-500')
    const c = await stripe.customers.create({ email: 'retry@example.com' })
    expect(fake.customers.has(c.id)).toBe(true)
  })

  it('a bad key is a 401 in Stripe format', async () => {
    const bad = stripeClient('sk_test_', { apiUrl: fake.url })
    await expect(bad.customers.create({})).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError)
  })

  it('webhooks built by the fake verify with constructEvent; tampered ones do not', async () => {
    const pi = [...fake.intents.values()].find((i) => i.status === 'succeeded')!
    const ev = fake.event('payment_intent.succeeded', pi)
    expect(ev.id).toMatch(/^evt_/)
    const { payload, header } = fake.webhook('whsec_test', ev)
    const got = stripe.webhooks.constructEvent(payload, header, 'whsec_test')
    expect(got.type).toBe('payment_intent.succeeded')
    expect(got.data.object).toMatchObject({ id: pi.id })
    expect(() => stripe.webhooks.constructEvent(payload.replace('succeeded', 'canceled'), header, 'whsec_test')).toThrow(Stripe.errors.StripeSignatureVerificationError)
    expect(fake.events.some((e) => e.type === 'payment_intent.succeeded')).toBe(true)
  })
})
