import { upsertCustomerForCheckout } from '../customers/service'
import type { Deps } from '../deps'
import { releaseRedemption } from '../discounts/service'
import type { JobHandlers } from '../jobs/worker'
import { addInterval } from '../lib/time'
import { createOrderForCheckout } from '../orders/service'
import { sandboxProcessor } from '../payments/processor'
import { deleteAdHocPrices } from '../products/service'
import { createSubscriptionForCheckout } from '../subscriptions/service'
import { customerState } from '../subscriptions/customer-state'
import { emitEvent, hasSubscribers } from '../webhooks/service'
import { activeTrial, loadContext, selectedProduct } from './context'
import { emitCheckoutEvent } from './present'
import * as repo from './repository'
import { reconcileStripeAttempt, sweepUnreconciled, type ReconcilePayload } from './stripe-confirm'

/** The checkout domain's background work: settlement after confirm, expiry, and retention. */

type D = Pick<Deps, 'db' | 'clock' | 'config' | 'payments' | 'wakeWorker'>

import { EXPIRE_JOB, PRUNE_CHECKOUTS_JOB, RECONCILE_JOB, RECONCILE_SWEEP_JOB, SETTLE_JOB } from './job-kinds'
export { EXPIRE_JOB, PRUNE_CHECKOUTS_JOB, RECONCILE_JOB, RECONCILE_SWEEP_JOB, SETTLE_JOB }
const PRUNE_BATCH = 5000

/**
 * Settlement (the job): captures the payment, then makes the customer, the subscription (recurring
 * products) and the order in one transaction. Idempotent: a session that is no longer `confirmed`
 * is left alone, and orders and subscriptions are unique per session.
 */
export async function settleCheckout(deps: D, checkoutId: string, token: string | null, chargeId: string | null = null): Promise<void> {
  const processor = deps.payments ?? sandboxProcessor
  await deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const row = await repo.findCheckoutById(tx, checkoutId, { forUpdate: true })
    if (!row || row.status !== 'confirmed') return
    const ctx = await loadContext(tx, row)
    const product = selectedProduct(row, ctx)
    if (!product) throw new Error(`checkout ${checkoutId}: product ${row.product_id} not found`)
    const trial = activeTrial(row, product)

    // Stripe's payment is already made (the intent succeeded, captured automatically): only the sandbox captures here.
    const capture = row.processor === 'stripe' ? ({ ok: true } as const) : await processor.capture({ token, amount: trial ? 0 : row.total_amount, currency: row.currency, checkoutId })
    if (!capture.ok) {
      await releaseRedemption(tx, checkoutId)
      const failed = await repo.updateCheckout(tx, checkoutId, { status: 'failed', payment_error: capture.message, modified_at: now })
      await emitCheckoutEvent(tx, deps, 'checkout.updated', failed, now, ctx)
      return
    }
    const org = row.organization_id
    const { customer, created: newCustomer, updated: customerUpdated } = await upsertCustomerForCheckout(tx, {
      organizationId: row.organization_id,
      email: row.customer_email!,
      name: row.customer_name,
      billingAddress: row.customer_billing_address,
      taxId: row.customer_tax_id,
      externalId: row.external_customer_id,
      metadata: row.customer_metadata,
      stripeCustomerId: row.stripe_customer_id,
      now,
    })
    const trialEnd = trial ? addInterval(now, trial.interval, trial.count) : null
    if (newCustomer) await emitEvent(tx, { organizationId: org, type: 'customer.created', data: customer, now })
    if (customerUpdated) await emitEvent(tx, { organizationId: org, type: 'customer.updated', data: customer, now })
    const sub = product.is_recurring
      ? await createSubscriptionForCheckout(tx, { organizationId: org, customerId: customer.id, checkout: row, product, trialEnd, paymentMethodId: row.payment_method_id ?? (row.processor === 'sandbox' ? token : null), now })
      : null
    const subscription = sub?.subscription ?? null
    if (sub?.created) {
      await emitEvent(tx, { organizationId: org, type: 'subscription.created', data: sub.subscription, now })
      if (sub.subscription.status === 'active') await emitEvent(tx, { organizationId: org, type: 'subscription.active', data: sub.subscription, now })
      // Polar (subscription/service.py) sends `subscription.updated` right after creation too: integrations rely on it.
      await emitEvent(tx, { organizationId: org, type: 'subscription.updated', data: sub.subscription, now })
    }
    // A trial's first order is free: the first charge comes when the trial ends.
    const charged = trial ? { ...row, amount: 0, discount_amount: 0, net_amount: 0, tax_amount: 0, total_amount: 0 } : row
    const order = await createOrderForCheckout(tx, { organizationId: org, customerId: customer.id, subscriptionId: subscription?.id ?? null, checkout: charged, product, period: subscription ? { start: new Date(subscription.current_period_start), end: new Date(subscription.current_period_end) } : null, chargeId, now })
    if (order.created) {
      // Polar's order/service.py `_on_order_created`: a paid order is created, then updated (to paid), then paid.
      await emitEvent(tx, { organizationId: org, type: 'order.created', data: order.order, now })
      await emitEvent(tx, { organizationId: org, type: 'order.updated', data: order.order, now })
      await emitEvent(tx, { organizationId: org, type: 'order.paid', data: order.order, now })
    }
    // Polar sends customer.state_changed after a customer is created or updated (customer/service.py `webhook`)
    // and after a subscription starts (subscription/service.py); its job debounces them into one, as here.
    if (newCustomer || customerUpdated || sub?.created) {
      await emitEvent(tx, { organizationId: org, type: 'customer.state_changed', data: () => customerState(tx, customer), now })
    }
    const succeeded = await repo.updateCheckout(tx, checkoutId, { status: 'succeeded', customer_id: customer.id, modified_at: now })
    await emitCheckoutEvent(tx, deps, 'checkout.updated', succeeded, now, ctx)
  })
}

/** Marks every open session past its expiry as expired, in batches of `batch` (one transaction each). */
export async function expireCheckouts(deps: Pick<Deps, 'db' | 'clock' | 'config'>, batch = 1000): Promise<number> {
  let total = 0
  for (;;) {
    const n = await deps.db.transaction().execute(async (tx) => {
      const now = deps.clock.now()
      const rows = await repo.expireCheckouts(tx, now, batch)
      // One subscriber check per organization, not per session.
      const listening = new Map<string, boolean>()
      for (const row of rows) {
        if (!listening.has(row.organization_id)) listening.set(row.organization_id, await hasSubscribers(tx, row.organization_id, 'checkout.expired'))
        if (listening.get(row.organization_id)) await emitCheckoutEvent(tx, deps, 'checkout.expired', row, now)
      }
      return rows.length
    })
    total += n
    if (n < batch) return total
  }
}

/**
 * Retention: deletes sessions that expired more than `CHECKOUT_RETENTION_DAYS` ago without being confirmed,
 * with their ad-hoc prices, in batches of `batch` (one transaction each); 0 days keeps everything. Sessions
 * that were confirmed stay, with what they made. Their webhook events are not touched: those are the log of
 * what was sent, pruned on their own schedule (webhooks/jobs.ts).
 */
export async function pruneCheckouts(deps: Pick<Deps, 'db' | 'clock' | 'config'>, batch = PRUNE_BATCH): Promise<number> {
  const days = deps.config.checkoutRetentionDays
  if (days <= 0) return 0
  const before = new Date(deps.clock.now().getTime() - days * 86_400_000)
  let total = 0
  for (;;) {
    const n = await deps.db.transaction().execute(async (tx) => {
      const gone = await repo.deleteExpiredCheckouts(tx, before, batch)
      await deleteAdHocPrices(tx, gone.adHocPriceIds)
      return gone.count
    })
    total += n
    if (n < batch) return total
  }
}

export const checkoutJobHandlers: JobHandlers = {
  [SETTLE_JOB]: (deps, payload: { checkout_id: string; token: string | null; charge_id?: string | null }) => settleCheckout(deps, payload.checkout_id, payload.token, payload.charge_id ?? null),
  [RECONCILE_JOB]: (deps, payload: ReconcilePayload) => reconcileStripeAttempt(deps, payload),
  [RECONCILE_SWEEP_JOB]: async (deps) => {
    await sweepUnreconciled(deps)
  },
  [EXPIRE_JOB]: async (deps) => {
    await expireCheckouts(deps)
  },
  [PRUNE_CHECKOUTS_JOB]: async (deps) => {
    await pruneCheckouts(deps)
  },
}
