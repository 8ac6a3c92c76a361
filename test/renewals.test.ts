import type { Polar } from '@polar-sh/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stripeClient } from '../src/payments/stripe-client'
import { startFakeStripe, type FakeStripe } from './fake-stripe'
import { checkoutJobHandlers, SETTLE_JOB } from '../src/checkouts/jobs'
import { runDueJobs } from '../src/jobs/worker'
import { CHARGE_RENEWAL_JOB, CYCLE_JOB, cycleSubscription, renewalJobHandlers, replacePaymentMethod, scheduleRenewals } from '../src/renewals/service'
import { openPostgres } from '../src/db/index'
import { createOrg, createTestApp, FixedClock, isolatedDatabaseUrl, polarClient, type TestOrg } from './helpers'

// Issue 12 part 1 and 2: renewals and dunning, driven by the clock and the job queue (no sleeping).
describe('renewals', async () => {
  const clock = new FixedClock('2026-01-15T10:00:00Z')
  const ctx = await createTestApp({ isolated: true, clock })
  const DAY = 86_400_000

  async function buy(org: TestOrg, opts: { token?: string; trialDays?: number; discount?: { duration: 'once' | 'forever' | 'repeating'; months?: number } } = {}) {
    const polar = await polarClient(ctx.app, org.token)
    const product = await polar.products.create({
      name: 'Monthly plan', recurringInterval: 'month', prices: [{ amountType: 'fixed', priceAmount: 1000, priceCurrency: 'usd' }],
      ...(opts.trialDays ? { trialInterval: 'day' as const, trialIntervalCount: opts.trialDays } : {}),
    })
    let discountId: string | undefined
    if (opts.discount) {
      const d = await polar.discounts.create({ name: 'Off', type: 'percentage', basisPoints: 2000, duration: opts.discount.duration, ...(opts.discount.months ? { durationInMonths: opts.discount.months } : {}) } as never)
      discountId = d.id
    }
    const checkout = await polar.checkouts.create({ products: [product.id], customerEmail: `buyer-${Math.random().toString(36).slice(2)}@example.com`, ...(discountId ? { discountId } : {}) } as never)
    const res = await ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${checkout.clientSecret}/confirm`, payload: { customer_name: 'Ada', customer_billing_address: { country: 'DE' }, confirmation_token_id: opts.token ?? 'tok_sandbox_success' } })
    expect(res.statusCode).toBe(200)
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
    const sub = (await polar.subscriptions.list({})).result.items.find((s) => s.productId === product.id)!
    return { polar, sub }
  }

  /** Moves the clock and runs what the worker would: the scheduler, cycles and charges. */
  async function advance(ms: number) {
    clock.advance(ms)
    await scheduleRenewals(ctx.deps)
    await runDueJobs(ctx.deps, renewalJobHandlers as never, { kinds: [CYCLE_JOB, CHARGE_RENEWAL_JOB], limit: 10_000 })
  }

  const ordersOf = async (polar: Polar, subscriptionId: string) => (await polar.orders.list({ limit: 100 })).result.items.filter((o) => o.subscriptionId === subscriptionId).sort((a, b) => +a.createdAt - +b.createdAt)
  const events = async (org: TestOrg) => (await ctx.deps.db.selectFrom('webhook_events').select('type').where('organization_id', '=', org.organizationId).orderBy('created_at').execute()).map((e) => e.type)

  async function listen(org: TestOrg) {
    await ctx.app.inject({ method: 'POST', url: '/v1/webhooks/endpoints', headers: org.headers, payload: { url: 'https://hooks.example.com/x', format: 'raw', events: ['subscription.cycled', 'subscription.updated', 'subscription.past_due', 'subscription.active', 'subscription.revoked', 'subscription.canceled', 'order.created', 'order.updated', 'order.paid'] } })
  }

  it('at the period end a subscription cycles: a paid subscription_cycle order for the next period, the period moved on, Polar\'s events', async () => {
    const org = await createOrg(ctx)
    await listen(org)
    const { polar, sub } = await buy(org)
    const firstEnd = sub.currentPeriodEnd
    await advance(31 * DAY)
    const renewed = await polar.subscriptions.get({ id: sub.id })
    expect(renewed.status).toBe('active')
    expect(renewed.currentPeriodStart).toEqual(firstEnd)
    const orders = await ordersOf(polar, sub.id)
    expect(orders.map((o) => [o.billingReason, o.status, o.totalAmount])).toEqual([['subscription_create', 'paid', 1000], ['subscription_cycle', 'paid', 1000]])
    const types = await events(org)
    expect(types.slice(types.indexOf('subscription.cycled'))).toEqual(['subscription.cycled', 'subscription.updated', 'order.created', 'order.updated', 'order.paid'])
    // a year of monthly renewals: one order a period, contiguous
    for (let i = 0; i < 11; i++) await advance(31 * DAY)
    const year = await ordersOf(polar, sub.id)
    expect(year).toHaveLength(13)
    const rows = await ctx.deps.db.selectFrom('orders').select(['period_start', 'period_end']).where('subscription_id', '=', sub.id).orderBy('period_start').execute()
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.period_start!.getTime()).toBe(rows[i - 1]!.period_end!.getTime())
  })

  it('two workers and repeated scheduling never cycle the same period twice', async () => {
    const org = await createOrg(ctx)
    const { polar, sub } = await buy(org)
    clock.advance(31 * DAY)
    const periodEnd = (await polar.subscriptions.get({ id: sub.id })).currentPeriodEnd.toISOString()
    await Promise.all([scheduleRenewals(ctx.deps), scheduleRenewals(ctx.deps)])
    const jobs = await ctx.deps.db.selectFrom('jobs').select('id').where('kind', '=', CYCLE_JOB).where('dedupe_key', 'like', `%${sub.id}%`).execute()
    expect(jobs).toHaveLength(1)
    await Promise.all([cycleSubscription(ctx.deps, sub.id, periodEnd), cycleSubscription(ctx.deps, sub.id, periodEnd), cycleSubscription(ctx.deps, sub.id, periodEnd)])
    await runDueJobs(ctx.deps, renewalJobHandlers as never, { kinds: [CYCLE_JOB, CHARGE_RENEWAL_JOB] })
    expect((await ordersOf(polar, sub.id)).filter((o) => o.billingReason === 'subscription_cycle')).toHaveLength(1)
  })

  it('a trial ends with the first charge: trialing → active', async () => {
    const org = await createOrg(ctx)
    const { polar, sub } = await buy(org, { trialDays: 14 })
    expect(sub.status).toBe('trialing')
    await advance(10 * DAY)
    expect((await polar.subscriptions.get({ id: sub.id })).status).toBe('trialing')
    await advance(5 * DAY)
    const after = await polar.subscriptions.get({ id: sub.id })
    expect(after.status).toBe('active')
    expect((await ordersOf(polar, sub.id)).map((o) => o.totalAmount)).toEqual([0, 1000])
  })

  it('discounts follow their duration: once on the first paid period, repeating for its months, forever always', async () => {
    const org = await createOrg(ctx)
    const once = await buy(org, { discount: { duration: 'once' } })
    const repeating = await buy(org, { discount: { duration: 'repeating', months: 3 } })
    const forever = await buy(org, { discount: { duration: 'forever' } })
    const trialOnce = await buy(org, { discount: { duration: 'once' }, trialDays: 7 })
    for (let i = 0; i < 4; i++) await advance(31 * DAY)
    const totals = async (b: Awaited<ReturnType<typeof buy>>) => (await ordersOf(b.polar, b.sub.id)).map((o) => o.totalAmount)
    expect(await totals(once)).toEqual([800, 1000, 1000, 1000, 1000])
    expect(await totals(repeating)).toEqual([800, 800, 800, 1000, 1000])
    expect(await totals(forever)).toEqual([800, 800, 800, 800, 800])
    // with a trial, the first paid period is the first renewal
    expect((await totals(trialOnce)).slice(0, 3)).toEqual([0, 800, 1000])
  })

  it('a failed renewal makes it past_due, retries after 2, 5, 7 and 7 days, then the subscription is revoked', async () => {
    const org = await createOrg(ctx)
    await listen(org)
    const { polar, sub } = await buy(org, { token: 'tok_sandbox_fail_renewals' })
    expect(sub.status).toBe('active')
    await advance(31 * DAY)
    const pastDue = await polar.subscriptions.get({ id: sub.id })
    expect(pastDue.status).toBe('past_due')
    expect(pastDue.pastDueAt).not.toBeNull()
    const [, renewal] = await ordersOf(polar, sub.id)
    expect(renewal!.status).toBe('pending')
    const failures = async () => (await ctx.deps.db.selectFrom('orders').select(['payment_failures', 'next_payment_attempt_at']).where('id', '=', renewal!.id).executeTakeFirstOrThrow())
    expect((await failures()).payment_failures).toBe(1)
    await advance(1 * DAY)
    expect((await failures()).payment_failures).toBe(1) // not due yet
    await advance(1 * DAY + 1000)
    expect((await failures()).payment_failures).toBe(2)
    await advance(5 * DAY + 1000)
    expect((await failures()).payment_failures).toBe(3)
    await advance(7 * DAY + 1000)
    expect((await failures()).payment_failures).toBe(4)
    expect((await polar.subscriptions.get({ id: sub.id })).status).toBe('past_due')
    await advance(7 * DAY + 1000)
    expect(await failures()).toMatchObject({ payment_failures: 5, next_payment_attempt_at: null })
    const ended = await polar.subscriptions.get({ id: sub.id })
    expect(ended.status).toBe('canceled')
    expect(ended.endedAt).not.toBeNull()
    const types = await events(org)
    expect(types.filter((t) => t === 'subscription.past_due')).toHaveLength(1)
    expect(types).toContain('subscription.revoked')
    // an ended subscription never cycles again
    await advance(62 * DAY)
    expect(await ordersOf(polar, sub.id)).toHaveLength(2)
  })

  it('a failed renewal recovers when the payment method is replaced (the portal\'s hook): paid, active again', async () => {
    const org = await createOrg(ctx)
    const { polar, sub } = await buy(org, { token: 'tok_sandbox_fail_renewals' })
    await advance(31 * DAY)
    expect((await polar.subscriptions.get({ id: sub.id })).status).toBe('past_due')
    await replacePaymentMethod(ctx.deps, sub.id, 'tok_sandbox_success')
    await runDueJobs(ctx.deps, renewalJobHandlers as never, { kinds: [CYCLE_JOB, CHARGE_RENEWAL_JOB] })
    const back = await polar.subscriptions.get({ id: sub.id })
    expect(back.status).toBe('active')
    expect(back.pastDueAt).toBeNull()
    expect((await ordersOf(polar, sub.id)).map((o) => o.status)).toEqual(['paid', 'paid'])
    await advance(31 * DAY)
    expect((await ordersOf(polar, sub.id)).map((o) => o.status)).toEqual(['paid', 'paid', 'paid'])
  })

  it('a cycle or charge job that gave up (its tries ran out) is queued afresh within the hour, and the renewal still happens once', async () => {
    const org = await createOrg(ctx)
    const { polar, sub } = await buy(org)
    clock.advance(31 * DAY)
    await scheduleRenewals(ctx.deps)
    const kill = (kind: string) => ctx.deps.db.updateTable('jobs').set({ finished_at: clock.now(), last_error: 'dead' }).where('kind', '=', kind).where('dedupe_key', 'like', `%${sub.id}%`).where('finished_at', 'is', null).execute()
    await kill(CYCLE_JOB)
    clock.advance(2 * 3_600_000)
    await scheduleRenewals(ctx.deps)
    await runDueJobs(ctx.deps, renewalJobHandlers as never, { kinds: [CYCLE_JOB] })
    const [, renewal] = await ordersOf(polar, sub.id)
    expect(renewal!.status).toBe('pending')
    await ctx.deps.db.updateTable('jobs').set({ finished_at: clock.now(), last_error: 'dead' }).where('kind', '=', CHARGE_RENEWAL_JOB).where('payload', '@>', JSON.stringify({ order_id: renewal!.id }) as never).where('finished_at', 'is', null).execute()
    clock.advance(2 * 3_600_000)
    await scheduleRenewals(ctx.deps)
    await runDueJobs(ctx.deps, renewalJobHandlers as never, { kinds: [CYCLE_JOB, CHARGE_RENEWAL_JOB] })
    expect((await ordersOf(polar, sub.id)).map((o) => o.status)).toEqual(['paid', 'paid'])
  })

  it('canceled at period end: no order, the subscription ends at the period end', async () => {
    const org = await createOrg(ctx)
    const { polar, sub } = await buy(org)
    await ctx.deps.db.updateTable('subscriptions').set({ cancel_at_period_end: true, canceled_at: clock.now(), ends_at: sub.currentPeriodEnd }).where('id', '=', sub.id).execute()
    await advance(31 * DAY)
    const ended = await polar.subscriptions.get({ id: sub.id })
    expect(ended.status).toBe('canceled')
    expect(ended.endedAt).toEqual(sub.currentPeriodEnd)
    expect(await ordersOf(polar, sub.id)).toHaveLength(1)
  })
})

describe('renewals on Stripe: off-session on the saved card', async () => {
  const clock = new FixedClock(new Date())
  let fake: FakeStripe
  const SECRET = 'sk_test_renewalsOnStripe123'
  const ctx = await createTestApp({ isolated: true, clock, config: { stripeSecretKey: SECRET, stripePublishableKey: 'pk_test_renewalsOnStripe123', stripeWebhookSecret: 'whsec_renewalsOnStripe123' } })
  beforeAll(async () => {
    fake = await startFakeStripe()
    ctx.deps.config.stripeApiUrl = fake.url
  })
  afterAll(() => fake?.close())

  async function buy(pm: string) {
    const org = await createOrg(ctx)
    const polar = await polarClient(ctx.app, org.token)
    const product = await polar.products.create({ name: 'Pro', recurringInterval: 'month', prices: [{ amountType: 'fixed', priceAmount: 2000, priceCurrency: 'eur' }] })
    const checkout = await polar.checkouts.create({ products: [product.id], customerEmail: 'stripe-renewal@example.com' } as never)
    const stripe = stripeClient(SECRET, { apiUrl: fake.url })
    const tok = (await stripe.testHelpers.confirmationTokens.create({ payment_method: pm })).id
    const res = await ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${checkout.clientSecret}/confirm`, payload: { customer_name: 'Ada', customer_billing_address: { country: 'DE' }, confirmation_token_id: tok } })
    expect(res.statusCode).toBe(200)
    if (res.json().payment_processor_metadata.intent_status === 'requires_action') {
      const intentId = (res.json().payment_processor_metadata.intent_client_secret as string).split('_secret_')[0]!
      fake.completeNextAction(intentId, 'succeed')
      await ctx.app.inject({ method: 'GET', url: `/v1/checkouts/client/${checkout.clientSecret}` })
    }
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
    const sub = (await polar.subscriptions.list({})).result.items[0]!
    return { polar, sub }
  }
  async function advance(ms: number) {
    clock.advance(ms)
    await scheduleRenewals(ctx.deps)
    await runDueJobs(ctx.deps, renewalJobHandlers as never, { kinds: [CYCLE_JOB, CHARGE_RENEWAL_JOB] })
  }

  it('charges the saved card off-session with a key per order and attempt; the order records the intent and charge', async () => {
    const { polar, sub } = await buy('pm_card_visa')
    const row = await ctx.deps.db.selectFrom('subscriptions').select('payment_method_id').where('id', '=', sub.id).executeTakeFirstOrThrow()
    await advance(32 * 86_400_000)
    const orders = (await polar.orders.list({})).result.items.filter((o) => o.billingReason === 'subscription_cycle')
    expect(orders).toHaveLength(1)
    expect(orders[0]!.status).toBe('paid')
    const req = fake.requests.filter((r) => r.path === '/v1/payment_intents').at(-1)!
    expect(req.body).toMatchObject({ amount: '2000', currency: 'eur', payment_method: row.payment_method_id, off_session: 'true', confirm: 'true', metadata: { order_id: orders[0]!.id, subscription_id: sub.id, kind: 'renewal' } })
    expect(req.idempotencyKey).toBe(`kassa-renewal-${orders[0]!.id}-attempt-0`)
    const stored = await ctx.deps.db.selectFrom('orders').select(['payment_intent_id', 'stripe_charge_id']).where('id', '=', orders[0]!.id).executeTakeFirstOrThrow()
    expect(stored.payment_intent_id).toMatch(/^pi_/)
    expect(stored.stripe_charge_id).toMatch(/^ch_/)
  })

  it('a subscription bought on Stripe with no saved card fails its renewal (never "paid" by the sandbox)', async () => {
    const { polar, sub } = await buy('pm_card_visa')
    await ctx.deps.db.updateTable('subscriptions').set({ payment_method_id: null }).where('id', '=', sub.id).execute()
    await advance(32 * 86_400_000)
    expect((await polar.subscriptions.get({ id: sub.id })).status).toBe('past_due')
  })

  it('a card that asks for 3-D Secure cannot be charged off-session: a failed renewal, past_due', async () => {
    const { polar, sub } = await buy('pm_card_threeDSecure2Required')
    await advance(32 * 86_400_000)
    expect((await polar.subscriptions.get({ id: sub.id })).status).toBe('past_due')
    const renewal = await ctx.deps.db.selectFrom('orders').select(['status', 'payment_failures']).where('subscription_id', '=', sub.id).where('billing_reason', '=', 'subscription_cycle').executeTakeFirstOrThrow()
    expect(renewal).toEqual({ status: 'pending', payment_failures: 1 })
  })
})

describe('two workers on one database, racing over the same due subscriptions', async () => {
  const clock = new FixedClock('2026-03-01T09:00:00Z')
  const a = await createTestApp({ isolated: true, clock })
  // On PostgreSQL the second worker has its own pool (another process's connections); PGlite is one process.
  const url = isolatedDatabaseUrl(a.database)
  const own = url ? await openPostgres(url) : null
  const b = own ? await createTestApp({ database: own, clock }) : await createTestApp({ database: a.database, clock })
  afterAll(async () => {
    await b.app.close()
    await own?.close()
  })

  it('never cycle the same period twice: one order per subscription and period', async () => {
    const org = await createOrg(a)
    const polar = await polarClient(a.app, org.token)
    const product = await polar.products.create({ name: 'Raced plan', recurringInterval: 'month', prices: [{ amountType: 'fixed', priceAmount: 700, priceCurrency: 'usd' }] })
    for (let i = 0; i < 20; i++) {
      const c = await polar.checkouts.create({ products: [product.id], customerEmail: `race-${i}@example.com` } as never)
      await a.app.inject({ method: 'POST', url: `/v1/checkouts/client/${c.clientSecret}/confirm`, payload: { customer_name: 'R', customer_billing_address: { country: 'DE' }, confirmation_token_id: 'tok_sandbox_success' } })
    }
    await runDueJobs(a.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB], limit: 100 })
    for (let month = 0; month < 3; month++) {
      clock.advance(31 * 86_400_000)
      const work = (node: typeof a) => (async () => {
        await scheduleRenewals(node.deps)
        await runDueJobs(node.deps, renewalJobHandlers as never, { kinds: [CYCLE_JOB, CHARGE_RENEWAL_JOB], limit: 1000, batchSize: 5 })
      })()
      await Promise.all([work(a), work(b), work(a), work(b)])
    }
    const orders = await a.deps.db.selectFrom('orders').select(['subscription_id', 'period_start', 'status']).where('organization_id', '=', org.organizationId).where('billing_reason', '=', 'subscription_cycle').execute()
    expect(orders).toHaveLength(60)
    expect(new Set(orders.map((o) => `${o.subscription_id}:${o.period_start!.toISOString()}`)).size).toBe(60)
    expect(orders.every((o) => o.status === 'paid')).toBe(true)
  })
})
