import { computeAmounts } from '../checkouts/pricing'
import { getCustomerById } from '../customers/service'
import type { Executor } from '../db/index'
import type { Deps } from '../deps'
import { enqueue, enqueueMany } from '../jobs/queue'
import { newId } from '../lib/ids'
import { addInterval } from '../lib/time'
import { getOrderById } from '../orders/service'
import { stripeSettingsOf } from '../payment-settings/service'
import { emitEvent } from '../webhooks/service'
import { customerState } from '../subscriptions/customer-state'
import { chargeRenewalOnSandbox, chargeRenewalOnStripe, RenewalChargeUnavailable, type RenewalCharge } from './charge'
import type { SubscriptionRow } from '../subscriptions/repository'
import { endSubscriptionAtPeriodEnd, revokeForNonPayment } from '../subscriptions/lifecycle'
import { getSubscriptionById } from '../subscriptions/service'

/**
 * Renewals (issue 12), driven by the clock and the job queue. At `current_period_end` a live subscription
 * cycles (Polar's `cycle`): the period moves on and a `subscription_cycle` order is made `pending`, in one
 * transaction, with its charge queued; the charge runs with no transaction open, then its outcome is recorded:
 * paid (`order.updated`, `order.paid`; a trialing or past-due subscription becomes active), or failed
 * (Polar's dunning: `past_due`, retried after RENEWAL_RETRY_DAYS, and after the last failure the subscription
 * is revoked). A period cycles once: one job per subscription and period end (its dedupe key), one order per
 * subscription and period start (a unique index), whichever worker runs it.
 */

type D = Pick<Deps, 'db' | 'clock' | 'config' | 'wakeWorker'>

export const SCHEDULE_RENEWALS_JOB = 'subscriptions.schedule_renewals'
export const CYCLE_JOB = 'subscriptions.cycle'
export const CHARGE_RENEWAL_JOB = 'subscriptions.charge_renewal'

/** Polar's billable statuses: a past-due subscription cycles too (its unpaid order stays in dunning). */
const LIVE = ['active', 'trialing', 'past_due'] as const
const HOUR_MS = 3_600_000

/**
 * Queues a cycle for every live subscription whose period has ended, and a charge for every renewal order due
 * (new, or failed and due again). The scheduler's keys carry the hour: a job that gave up (its tries ran out
 * while Stripe was down) is queued afresh the next hour, and the work itself is fenced (the period end, the
 * order's attempt), so a second job for the same work does nothing.
 */
export async function scheduleRenewals(deps: D, batch = 5000): Promise<{ cycles: number; retries: number }> {
  const now = deps.clock.now()
  const hour = Math.floor(now.getTime() / HOUR_MS)
  let cycles = 0
  for (let after: { end: Date; id: string } | null = null; ; ) {
    let q = deps.db.selectFrom('subscriptions').select(['id', 'current_period_end']).where('status', 'in', [...LIVE]).where('current_period_end', '<=', now)
    if (after) {
      const a = after
      q = q.where((eb) => eb.or([eb('current_period_end', '>', a.end), eb.and([eb('current_period_end', '=', a.end), eb('id', '>', a.id)])]))
    }
    const rows = await q.orderBy('current_period_end').orderBy('id').limit(batch).execute()
    if (rows.length === 0) break
    await enqueueMany(deps.db, rows.map((r) => ({ kind: CYCLE_JOB, payload: { subscription_id: r.id, period_end: r.current_period_end.toISOString() }, dedupeKey: `${CYCLE_JOB}:${r.id}:${r.current_period_end.toISOString()}:${hour}` })), now)
    cycles += rows.length
    if (rows.length < batch) break
    after = { end: rows.at(-1)!.current_period_end, id: rows.at(-1)!.id }
  }
  let retries = 0
  for (let after: { at: Date; id: string } | null = null; ; ) {
    let q = deps.db
      .selectFrom('orders')
      .innerJoin('subscriptions', 'subscriptions.id', 'orders.subscription_id')
      .select(['orders.id', 'orders.payment_failures', 'orders.next_payment_attempt_at'])
      .where('orders.status', '=', 'pending')
      .where('orders.next_payment_attempt_at', 'is not', null)
      .where('orders.next_payment_attempt_at', '<=', now)
      .where('subscriptions.ended_at', 'is', null)
    if (after) {
      const a = after
      q = q.where((eb) => eb.or([eb('orders.next_payment_attempt_at', '>', a.at), eb.and([eb('orders.next_payment_attempt_at', '=', a.at), eb('orders.id', '>', a.id)])]))
    }
    const due = await q.orderBy('orders.next_payment_attempt_at').orderBy('orders.id').limit(batch).execute()
    if (due.length === 0) break
    await enqueueMany(deps.db, due.map((o) => ({ kind: CHARGE_RENEWAL_JOB, payload: { order_id: o.id, attempt: o.payment_failures }, dedupeKey: `${CHARGE_RENEWAL_JOB}:${o.id}:${o.payment_failures}:${hour}` })), now)
    retries += due.length
    if (due.length < batch) break
    after = { at: due.at(-1)!.next_payment_attempt_at!, id: due.at(-1)!.id }
  }
  if (cycles + retries > 0) deps.wakeWorker?.()
  return { cycles, retries }
}

async function emitSubscription(tx: Executor, orgId: string, type: Parameters<typeof emitEvent>[1]['type'], subscriptionId: string, now: Date) {
  await emitEvent(tx, { organizationId: orgId, type, data: async () => (await getSubscriptionById(tx, orgId, subscriptionId))!, now })
}

async function emitOrder(tx: Executor, orgId: string, types: Parameters<typeof emitEvent>[1]['type'][], orderId: string, now: Date) {
  for (const type of types) await emitEvent(tx, { organizationId: orgId, type, data: async () => (await getOrderById(tx, orgId, orderId))!, now })
}

async function emitCustomerState(tx: Executor, sub: SubscriptionRow, now: Date) {
  await emitEvent(tx, { organizationId: sub.organization_id, type: 'customer.state_changed', data: async () => customerState(tx, (await getCustomerById(tx, sub.organization_id, sub.customer_id))!), now })
}

/**
 * The amounts of the period that starts at `periodStart`: the price as bought (the session's amount before
 * discount), and the discount as long as its duration lasts: `once` on the first charged period only (after a
 * free trial, the first renewal), `repeating` for `duration_in_months` from that period, `forever` on every one.
 */
async function periodAmounts(tx: Executor, sub: SubscriptionRow, periodStart: Date) {
  const checkout = sub.checkout_id ? await tx.selectFrom('checkouts').select(['amount']).where('id', '=', sub.checkout_id).executeTakeFirst() : undefined
  const base = checkout?.amount ?? sub.amount
  const discount = sub.discount_id ? await tx.selectFrom('discounts').selectAll().where('id', '=', sub.discount_id).executeTakeFirst() : undefined
  if (!discount) return computeAmounts(base, null)
  // The discount's first period: the earliest order it was applied to (paid or not: an unpaid renewal used it too).
  const first = await tx.selectFrom('orders').select('period_start').where('subscription_id', '=', sub.id).where('discount_amount', '>', 0).where('status', '!=', 'void').orderBy('period_start').limit(1).executeTakeFirst()
  const applies =
    discount.duration === 'forever' ||
    (discount.duration === 'once' && !first) ||
    (discount.duration === 'repeating' && periodStart.getTime() < addInterval(first?.period_start ?? periodStart, 'month', discount.duration_in_months ?? 1).getTime())
  return computeAmounts(base, applies ? discount : null)
}

/** The cycle job: moves the period on, makes its order `pending` and queues its charge; ends a subscription canceled at period end. */
export async function cycleSubscription(deps: D, subscriptionId: string, periodEnd: string): Promise<void> {
  await deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const sub = await tx.selectFrom('subscriptions').selectAll().where('id', '=', subscriptionId).forUpdate().executeTakeFirst()
    if (!sub || !(LIVE as readonly string[]).includes(sub.status) || sub.current_period_end.toISOString() !== periodEnd) return
    const org = sub.organization_id
    if (sub.cancel_at_period_end) {
      await endSubscriptionAtPeriodEnd(tx, deps, sub, now)
      return
    }
    const start = sub.current_period_end
    const end = addInterval(start, sub.recurring_interval, sub.recurring_interval_count)
    const amounts = await periodAmounts(tx, sub, start)
    const product = await tx.selectFrom('products').select('name').where('id', '=', sub.product_id).executeTakeFirst()
    const orderId = newId()
    const inserted = await tx
      .insertInto('orders')
      .values({
        id: orderId, organization_id: org, customer_id: sub.customer_id, product_id: sub.product_id, product_price_id: sub.product_price_id,
        discount_id: amounts.discount_amount > 0 ? sub.discount_id : null, subscription_id: sub.id, checkout_id: null, status: 'pending', billing_reason: 'subscription_cycle',
        subtotal_amount: amounts.amount, discount_amount: amounts.discount_amount, net_amount: amounts.net_amount, tax_amount: amounts.tax_amount, total_amount: amounts.total_amount,
        currency: sub.currency, billing_name: null, billing_address: null, description: product?.name ?? 'Subscription', metadata: JSON.stringify(sub.metadata ?? {}),
        custom_field_data: JSON.stringify(sub.custom_field_data ?? {}), period_start: start, period_end: end, livemode: await livemodeOf(tx, sub),
        // the charge is queued now; were that job lost, the scheduler charges the order an hour on
        next_payment_attempt_at: new Date(now.getTime() + HOUR_MS), created_at: now,
      })
      .onConflict((oc) => oc.columns(['subscription_id', 'period_start']).where('billing_reason', '=', 'subscription_cycle').doNothing())
      .returning('id')
      .executeTakeFirst()
    if (!inserted) return
    // Polar's cycle: a trial that ends becomes active at once (its first charge may still fail: past_due then).
    await tx.updateTable('subscriptions').set({ current_period_start: start, current_period_end: end, amount: amounts.net_amount, ...(sub.status === 'trialing' ? { status: 'active' as const } : {}), modified_at: now }).where('id', '=', sub.id).execute()
    await emitSubscription(tx, org, 'subscription.cycled', sub.id, now)
    await emitSubscription(tx, org, 'subscription.updated', sub.id, now)
    await emitOrder(tx, org, ['order.created'], orderId, now)
    await enqueue(tx, { kind: CHARGE_RENEWAL_JOB, payload: { order_id: orderId, attempt: 0 }, dedupeKey: `${CHARGE_RENEWAL_JOB}:${orderId}:0` }, now)
  })
  deps.wakeWorker?.()
}

async function livemodeOf(tx: Executor, sub: SubscriptionRow): Promise<boolean> {
  if (!sub.checkout_id) return false
  return (await tx.selectFrom('orders').select('livemode').where('checkout_id', '=', sub.checkout_id).executeTakeFirst())?.livemode ?? false
}

/** The charge job: charges a pending renewal order (attempt `attempt`), then records the outcome. */
export async function chargeRenewal(deps: D, orderId: string, attempt: number): Promise<void> {
  const order = await deps.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst()
  if (!order || order.status !== 'pending' || order.payment_failures !== attempt || !order.subscription_id) return
  const sub = await deps.db.selectFrom('subscriptions').selectAll().where('id', '=', order.subscription_id).executeTakeFirst()
  if (!sub || sub.ended_at) return
  const input = {
    orderId, subscriptionId: sub.id, organizationId: sub.organization_id, attempt, amount: order.total_amount, currency: order.currency,
    paymentMethodId: sub.payment_method_id, stripeCustomerId: null as string | null, description: order.description,
  }
  let result: RenewalCharge
  // The processor the subscription was bought with (its session's), not a guess from the saved method's id.
  const bought = sub.checkout_id ? await deps.db.selectFrom('checkouts').select('processor').where('id', '=', sub.checkout_id).executeTakeFirst() : undefined
  const onStripe = bought?.processor === 'stripe' || (sub.payment_method_id?.startsWith('pm_') ?? false)
  if (order.total_amount === 0) result = { ok: true, paymentIntentId: null, chargeId: null }
  else if (onStripe) {
    const settings = await stripeSettingsOf(deps, sub.organization_id)
    // Keys missing or unopenable is the shop's problem, not the buyer's: retried, never a failed payment.
    if (!settings) throw new RenewalChargeUnavailable(`organization ${sub.organization_id} has no Stripe keys to charge renewal ${orderId}`)
    const customer = await deps.db.selectFrom('customers').select('stripe_customer_id').where('id', '=', sub.customer_id).executeTakeFirst()
    result = await chargeRenewalOnStripe(settings, deps.config.stripeApiUrl, { ...input, stripeCustomerId: customer?.stripe_customer_id ?? null })
  } else result = chargeRenewalOnSandbox(input)
  await recordRenewalCharge(deps, orderId, attempt, result)
}

/** Records a renewal charge's outcome under the order's row lock (once per attempt). */
export async function recordRenewalCharge(deps: D, orderId: string, attempt: number, result: RenewalCharge): Promise<void> {
  await deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const order = await tx.selectFrom('orders').selectAll().where('id', '=', orderId).forUpdate().executeTakeFirst()
    if (!order || order.status !== 'pending' || order.payment_failures !== attempt || !order.subscription_id) return
    const sub = await tx.selectFrom('subscriptions').selectAll().where('id', '=', order.subscription_id).forUpdate().executeTakeFirstOrThrow()
    const org = order.organization_id
    if (result.ok) {
      await tx.updateTable('orders').set({ status: 'paid', next_payment_attempt_at: null, payment_intent_id: result.paymentIntentId, stripe_charge_id: result.chargeId, modified_at: now }).where('id', '=', orderId).execute()
      await emitOrder(tx, org, ['order.updated', 'order.paid'], orderId, now)
      // No other failed renewal left: the subscription is in good standing again (Polar checks the same).
      const otherDue = await tx.selectFrom('orders').select('id').where('subscription_id', '=', sub.id).where('status', '=', 'pending').where('id', '!=', orderId).executeTakeFirst()
      if (!sub.ended_at && sub.status === 'past_due' && !otherDue) {
        await tx.updateTable('subscriptions').set({ status: 'active', past_due_at: null, renewal_failures: 0, next_renewal_attempt_at: null, modified_at: now }).where('id', '=', sub.id).execute()
        // Polar's _after_subscription_updated: subscription.updated, then what the change was
        await emitSubscription(tx, org, 'subscription.updated', sub.id, now)
        await emitSubscription(tx, org, 'subscription.active', sub.id, now)
        await emitCustomerState(tx, sub, now)
      } else if (sub.renewal_failures > 0 && !otherDue) {
        await tx.updateTable('subscriptions').set({ renewal_failures: 0, next_renewal_attempt_at: null, modified_at: now }).where('id', '=', sub.id).execute()
      }
      return
    }
    const failures = attempt + 1
    const retryDays = deps.config.renewalRetryDays
    const next = failures <= retryDays.length && !sub.ended_at ? new Date(now.getTime() + retryDays[failures - 1]! * 86_400_000) : null
    await tx.updateTable('orders').set({ payment_failures: failures, next_payment_attempt_at: next, modified_at: now }).where('id', '=', orderId).execute()
    await emitOrder(tx, org, ['order.updated'], orderId, now)
    if (sub.ended_at) return
    if (next) {
      const firstFailure = sub.status !== 'past_due'
      await tx.updateTable('subscriptions').set({ status: 'past_due', past_due_at: sub.past_due_at ?? now, renewal_failures: failures, next_renewal_attempt_at: next, modified_at: now }).where('id', '=', sub.id).execute()
      await emitSubscription(tx, org, 'subscription.updated', sub.id, now)
      if (firstFailure) await emitSubscription(tx, org, 'subscription.past_due', sub.id, now)
      if (firstFailure) await emitCustomerState(tx, sub, now)
      return
    }
    // The last retry failed: Polar revokes the subscription.
    await tx.updateTable('subscriptions').set({ renewal_failures: failures, next_renewal_attempt_at: null }).where('id', '=', sub.id).execute()
    await revokeForNonPayment(tx, sub, now)
  })
}

/**
 * The hook for replacing a subscription's payment method (the customer portal, a later issue): the new method is
 * kept and a failed renewal is tried again at once with it.
 */
export async function replacePaymentMethod(deps: D, subscriptionId: string, paymentMethodId: string): Promise<void> {
  await deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    await tx.updateTable('subscriptions').set({ payment_method_id: paymentMethodId, modified_at: now }).where('id', '=', subscriptionId).execute()
    await tx.updateTable('orders').set({ next_payment_attempt_at: now }).where('subscription_id', '=', subscriptionId).where('status', '=', 'pending').where('next_payment_attempt_at', 'is not', null).execute()
  })
  await scheduleRenewals(deps)
}

export const renewalJobHandlers = {
  [SCHEDULE_RENEWALS_JOB]: async (deps: D) => {
    await scheduleRenewals(deps)
  },
  [CYCLE_JOB]: (deps: D, payload: { subscription_id: string; period_end: string }) => cycleSubscription(deps, payload.subscription_id, payload.period_end),
  [CHARGE_RENEWAL_JOB]: (deps: D, payload: { order_id: string; attempt: number }) => chargeRenewal(deps, payload.order_id, payload.attempt),
}

