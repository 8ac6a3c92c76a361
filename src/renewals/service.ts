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
import { chargeRenewalOnSandbox, chargeRenewalOnStripe, type RenewalCharge } from './charge'
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

const LIVE = ['active', 'trialing'] as const

/** Queues a cycle for every live subscription whose period has ended, and a charge for every failed renewal due again. */
export async function scheduleRenewals(deps: D, batch = 5000): Promise<{ cycles: number; retries: number }> {
  const now = deps.clock.now()
  let cycles = 0
  for (let after: Date | null = null; ; ) {
    let q = deps.db.selectFrom('subscriptions').select(['id', 'current_period_end']).where('status', 'in', [...LIVE]).where('current_period_end', '<=', now)
    if (after) q = q.where('current_period_end', '>', after)
    // Same-instant ends are taken together: the page stops after a whole instant.
    const rows = await q.orderBy('current_period_end').limit(batch).execute()
    if (rows.length === 0) break
    await enqueueMany(deps.db, rows.map((r) => ({ kind: CYCLE_JOB, payload: { subscription_id: r.id, period_end: r.current_period_end.toISOString() }, dedupeKey: `${CYCLE_JOB}:${r.id}:${r.current_period_end.toISOString()}` })), now)
    cycles += rows.length
    if (rows.length < batch) break
    const last = rows.at(-1)!.current_period_end
    if (after && last.getTime() === after.getTime()) break
    after = last
  }
  const due = await deps.db.selectFrom('orders').select(['id', 'payment_failures']).where('status', '=', 'pending').where('next_payment_attempt_at', '<=', now).limit(batch).execute()
  await enqueueMany(deps.db, due.map((o) => ({ kind: CHARGE_RENEWAL_JOB, payload: { order_id: o.id, attempt: o.payment_failures }, dedupeKey: `${CHARGE_RENEWAL_JOB}:${o.id}:${o.payment_failures}` })), now)
  if (cycles + due.length > 0) deps.wakeWorker?.()
  return { cycles, retries: due.length }
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
 * discount), and the discount as long as its duration lasts: `once` on the first paid period only,
 * `repeating` for `duration_in_months` from the first paid period, `forever` on every one.
 */
async function periodAmounts(tx: Executor, sub: SubscriptionRow, periodStart: Date) {
  const checkout = sub.checkout_id ? await tx.selectFrom('checkouts').select(['amount']).where('id', '=', sub.checkout_id).executeTakeFirst() : undefined
  const base = checkout?.amount ?? sub.amount
  const discount = sub.discount_id ? await tx.selectFrom('discounts').selectAll().where('id', '=', sub.discount_id).executeTakeFirst() : undefined
  if (!discount) return computeAmounts(base, null)
  const firstPaid = await tx.selectFrom('orders').select('period_start').where('subscription_id', '=', sub.id).where('subtotal_amount', '>', 0).where('status', 'in', ['paid', 'refunded', 'partially_refunded']).orderBy('period_start').limit(1).executeTakeFirst()
  const applies =
    discount.duration === 'forever' ||
    (discount.duration === 'once' && !firstPaid) ||
    (discount.duration === 'repeating' && periodStart.getTime() < addInterval(firstPaid?.period_start ?? periodStart, 'month', discount.duration_in_months ?? 1).getTime())
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
        custom_field_data: JSON.stringify(sub.custom_field_data ?? {}), period_start: start, period_end: end, livemode: await livemodeOf(tx, sub), created_at: now,
      })
      .onConflict((oc) => oc.columns(['subscription_id', 'period_start']).where('billing_reason', '=', 'subscription_cycle').doNothing())
      .returning('id')
      .executeTakeFirst()
    if (!inserted) return
    await tx.updateTable('subscriptions').set({ current_period_start: start, current_period_end: end, amount: amounts.net_amount, modified_at: now }).where('id', '=', sub.id).execute()
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
  if (order.total_amount === 0) result = { ok: true, paymentIntentId: null, chargeId: null }
  else if (sub.payment_method_id?.startsWith('pm_')) {
    const settings = await stripeSettingsOf(deps, sub.organization_id)
    const customer = await deps.db.selectFrom('customers').select('stripe_customer_id').where('id', '=', sub.customer_id).executeTakeFirst()
    result = settings ? await chargeRenewalOnStripe(settings, deps.config.stripeApiUrl, { ...input, stripeCustomerId: customer?.stripe_customer_id ?? null }) : { ok: false, message: 'The organization has no Stripe keys to charge with.', code: 'processor_unavailable' }
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
      if (!sub.ended_at && (sub.status === 'trialing' || sub.status === 'past_due') && !otherDue) {
        await tx.updateTable('subscriptions').set({ status: 'active', past_due_at: null, renewal_failures: 0, next_renewal_attempt_at: null, modified_at: now }).where('id', '=', sub.id).execute()
        await emitSubscription(tx, org, 'subscription.active', sub.id, now)
        await emitSubscription(tx, org, 'subscription.updated', sub.id, now)
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
      if (firstFailure) await emitSubscription(tx, org, 'subscription.past_due', sub.id, now)
      await emitSubscription(tx, org, 'subscription.updated', sub.id, now)
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

