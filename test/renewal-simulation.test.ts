import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkoutJobHandlers, SETTLE_JOB } from '../src/checkouts/jobs'
import { runDueJobs } from '../src/jobs/worker'
import { stripeClient } from '../src/payments/stripe-client'
import { CHARGE_RENEWAL_JOB, CYCLE_JOB, renewalJobHandlers, replacePaymentMethod, scheduleRenewals } from '../src/renewals/service'
import { startFakeStripe, type FakeStripe } from './fake-stripe'
import { createOrg, createTestApp, FixedClock, polarClient } from './helpers'

// Issue 12 part 7: a year of monthly renewals for many subscriptions on Stripe (the local fake), with some
// failing and recovering, some failing for good, some canceled or revoked, some refunded. Afterwards every
// period has exactly one paid order or a recorded failure, and the money adds up: what the orders took
// minus what was refunded equals what Stripe was asked to move (its charges minus its refunds).
const SECRET = 'sk_test_simulationOfAYear123'
const DAY = 86_400_000
type Role = 'plain' | 'recovers' | 'fails' | 'cancels' | 'refunded' | 'revoked'
const ROLES: Role[] = ['plain', 'recovers', 'fails', 'cancels', 'refunded', 'revoked']

describe('a simulated year of renewals', async () => {
  const clock = new FixedClock('2026-01-01T12:00:00Z')
  const ctx = await createTestApp({ isolated: true, clock, config: { stripeSecretKey: SECRET, stripePublishableKey: 'pk_test_simulationOfAYear123', stripeWebhookSecret: 'whsec_simulationOfAYear123' } })
  let fake: FakeStripe
  beforeAll(async () => {
    fake = await startFakeStripe()
    ctx.deps.config.stripeApiUrl = fake.url
  })
  afterAll(() => fake?.close())

  it('every period has one paid order or a recorded failure, and orders − refunds = what Stripe moved', { timeout: 240_000 }, async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(ctx.app, org.token)
    const stripe = stripeClient(SECRET, { apiUrl: fake.url })
    const products = []
    for (let k = 0; k < 4; k++) products.push(await polar.products.create({ name: `Plan ${k}`, recurringInterval: 'month', prices: [{ amountType: 'fixed', priceAmount: 900 + 300 * k, priceCurrency: 'eur' }] }))
    const N = 36
    const subs: { id: string; role: Role; customer: string }[] = []
    for (let i = 0; i < N; i++) {
      const checkout = await polar.checkouts.create({ products: [products[i % 4]!.id], customerEmail: `sim-${i}@example.com` } as never)
      const tok = (await stripe.testHelpers.confirmationTokens.create({ payment_method: 'pm_card_visa' })).id
      const res = await ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${checkout.clientSecret}/confirm`, payload: { customer_name: `Buyer ${i}`, customer_billing_address: { country: 'DE' }, confirmation_token_id: tok } })
      expect(res.statusCode).toBe(200)
      subs.push({ id: '', role: ROLES[i % ROLES.length]!, customer: res.json().payment_processor_metadata.customer_id })
    }
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB], limit: 1000 })
    const rows = await ctx.deps.db.selectFrom('subscriptions').innerJoin('customers', 'customers.id', 'subscriptions.customer_id').select(['subscriptions.id', 'customers.stripe_customer_id']).where('subscriptions.organization_id', '=', org.organizationId).execute()
    for (const s of subs) s.id = rows.find((r) => r.stripe_customer_id === s.customer)!.id
    expect(subs.every((s) => s.id)).toBe(true)

    const of = (role: Role) => subs.filter((s) => s.role === role)
    const refund = async (subId: string, which: 'second' | 'latest', amount: 'part' | 'all') => {
      const orders = await ctx.deps.db.selectFrom('orders').selectAll().where('subscription_id', '=', subId).where('status', 'in', ['paid', 'partially_refunded']).orderBy('period_start').execute()
      const order = which === 'second' ? orders[1] : orders.at(-1)
      if (!order) return
      const res = await ctx.app.inject({ method: 'POST', url: '/v1/refunds/', headers: org.headers, payload: { order_id: order.id, reason: 'customer_request', amount: amount === 'part' ? 500 : order.net_amount - order.refunded_amount } })
      expect(res.statusCode).toBe(201)
    }
    const actions: Record<number, () => Promise<void>> = {
      // a card that starts failing before the 3rd renewal, replaced by a good one three days after it fails
      70: async () => { for (const s of of('recovers')) await replacePaymentMethod(ctx.deps, s.id, fake.savedCard(s.customer, 'pm_card_chargeDeclined').id) },
      93: async () => { for (const s of of('recovers')) await replacePaymentMethod(ctx.deps, s.id, fake.savedCard(s.customer, 'pm_card_visa').id) },
      // a card that fails for good from the 5th renewal: retried after 2, 5, 7 and 7 days, then revoked
      130: async () => { for (const s of of('fails')) await replacePaymentMethod(ctx.deps, s.id, fake.savedCard(s.customer, 'pm_card_chargeDeclinedInsufficientFunds').id) },
      100: async () => { for (const s of of('cancels')) expect((await ctx.app.inject({ method: 'PATCH', url: `/v1/subscriptions/${s.id}`, headers: org.headers, payload: { cancel_at_period_end: true, customer_cancellation_reason: 'too_expensive' } })).statusCode).toBe(200) },
      40: async () => { for (const s of of('refunded')) await refund(s.id, 'second', 'part') },
      200: async () => { for (const s of of('refunded')) await refund(s.id, 'latest', 'all') },
      250: async () => { for (const s of of('revoked')) expect((await ctx.app.inject({ method: 'DELETE', url: `/v1/subscriptions/${s.id}`, headers: org.headers })).statusCode).toBe(200) },
    }
    for (let day = 1; day <= 365; day++) {
      clock.advance(DAY)
      await actions[day]?.()
      await scheduleRenewals(ctx.deps)
      await runDueJobs(ctx.deps, renewalJobHandlers as never, { kinds: [CYCLE_JOB, CHARGE_RENEWAL_JOB], limit: 10_000 })
    }

    const orders = await ctx.deps.db.selectFrom('orders').selectAll().where('organization_id', '=', org.organizationId).orderBy('period_start').execute()
    const paidStatuses = ['paid', 'refunded', 'partially_refunded']
    let periods = 0
    let failures = 0
    for (const s of subs) {
      const mine = orders.filter((o) => o.subscription_id === s.id)
      // one order per period, contiguous from the first
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.period_start!.getTime()).toBe(mine[i - 1]!.period_end!.getTime())
      expect(new Set(mine.map((o) => o.period_start!.getTime())).size).toBe(mine.length)
      for (const o of mine) {
        const recordedFailure = o.status === 'pending' && o.payment_failures > 0
        expect(paidStatuses.includes(o.status) || recordedFailure).toBe(true)
        failures += o.payment_failures
      }
      periods += mine.length
    }
    const subsNow = await ctx.deps.db.selectFrom('subscriptions').select(['id', 'status', 'ended_at']).where('organization_id', '=', org.organizationId).execute()
    const statusOf = (id: string) => subsNow.find((x) => x.id === id)!.status
    expect(of('plain').every((s) => statusOf(s.id) === 'active')).toBe(true)
    expect(of('recovers').every((s) => statusOf(s.id) === 'active')).toBe(true)
    expect(of('fails').every((s) => statusOf(s.id) === 'canceled')).toBe(true)
    expect(of('cancels').every((s) => statusOf(s.id) === 'canceled')).toBe(true)
    expect(of('revoked').every((s) => statusOf(s.id) === 'canceled')).toBe(true)
    const plainOrders = orders.filter((o) => o.subscription_id === of('plain')[0]!.id)
    expect(plainOrders.length).toBeGreaterThanOrEqual(12)
    const recoveredOrders = orders.filter((o) => of('recovers').some((s) => s.id === o.subscription_id))
    expect(recoveredOrders.every((o) => paidStatuses.includes(o.status))).toBe(true)

    // the money
    const refunds = await ctx.deps.db.selectFrom('refunds').selectAll().where('organization_id', '=', org.organizationId).where('status', '=', 'succeeded').execute()
    const taken = orders.filter((o) => paidStatuses.includes(o.status)).reduce((a, o) => a + o.total_amount, 0)
    const refunded = refunds.reduce((a, r) => a + r.amount + r.tax_amount, 0)
    const customers = new Set(subs.map((s) => s.customer))
    const charges = [...fake.charges.values()].filter((c) => c.status === 'succeeded' && customers.has(String(c.customer)))
    const stripeRefunds = [...fake.refunds.values()].filter((r) => charges.some((c) => c.id === r.charge))
    const moved = charges.reduce((a, c) => a + c.amount, 0) - stripeRefunds.reduce((a, r) => a + r.amount, 0)
    expect(charges.length).toBe(orders.filter((o) => paidStatuses.includes(o.status)).length)
    expect(taken - refunded).toBe(moved)
    const recoveries = of('recovers').length
    console.log(`simulation: ${N} subscriptions, ${periods} orders over a year (${orders.filter((o) => o.billing_reason === 'subscription_cycle').length} renewals), ${failures} failed charges, ${recoveries} recoveries, ${of('fails').length} revoked after dunning, ${of('cancels').length} canceled, ${of('revoked').length} revoked by the merchant, ${refunds.length} refunds (${refunded} cents); orders ${taken} − refunds ${refunded} = ${taken - refunded} = Stripe's charges − refunds ${moved}`)
  })
})
