import { upsertCustomerForCheckout } from '../customers/service'
import type { Deps } from '../deps'
import { PaymentError, RequestValidationError, ResourceNotFound, type ValidationIssue } from '../http/errors'
import { enqueue } from '../jobs/queue'
import type { JobHandlers } from '../jobs/worker'
import { createOrderForCheckout } from '../orders/service'
import { sandboxProcessor } from '../payments/processor'
import { createSubscriptionForCheckout } from '../subscriptions/service'
import { isFilled } from '../custom-fields/values'
import { addInterval } from '../lib/time'
import { isDiscountApplicable } from './pricing'
import { emitEvent, hasSubscribers } from '../webhooks/service'
import { redeemDiscount, releaseRedemption } from '../discounts/service'
import * as repo from './repository'
import type { CheckoutConfirm, CheckoutPublic } from './schemas'
import {
  activeTrial,
  applyChanges,
  emitCheckoutEvent,
  assertOpen,
  discountTerms,
  isDiscountApplicableTo,
  loadContext,
  priceColumns,
  selectedProduct,
  toCheckoutPublic,
  type CheckoutContext,
  type CheckoutRow,
} from './service'

type D = Pick<Deps, 'db' | 'clock' | 'config' | 'payments' | 'wakeWorker'>

export const SETTLE_JOB = 'checkouts.settle'
export const EXPIRE_JOB = 'checkouts.expire'

/** What must be filled before paying: email, required custom fields, the billing address when asked. */
function missingFields(row: CheckoutRow, ctx: CheckoutContext): ValidationIssue[] {
  const issues: ValidationIssue[] = []
  if (!row.customer_email) issues.push({ loc: ['body', 'customer_email'], msg: 'Field required', type: 'missing' })
  for (const { custom_field: field, required } of selectedProduct(row, ctx)?.attached_custom_fields ?? []) {
    if (required && !isFilled(field, row.custom_field_data[field.slug])) {
      issues.push({ loc: ['body', 'custom_field_data', field.slug], msg: 'Field required', type: 'missing' })
    }
  }
  if (row.require_billing_address) {
    const a = row.customer_billing_address
    if (!a) issues.push({ loc: ['body', 'customer_billing_address'], msg: 'Field required', type: 'missing' })
    else for (const k of ['line1', 'city', 'postal_code'] as const) if (!a[k]) issues.push({ loc: ['body', 'customer_billing_address', k], msg: 'Field required', type: 'missing' })
  }
  return issues
}

class DiscountExhausted extends Error {}

/**
 * The buyer pays. Checks the session is complete, authorizes the payment (a decline is a 400 and
 * leaves the session open for another try), reserves the discount redemption, marks the session
 * confirmed and queues its settlement, all in one transaction under the session's row lock, so a
 * second confirm finds it no longer open and can never make a second order.
 */
export async function confirmCheckout(deps: D, clientSecret: string, input: CheckoutConfirm): Promise<CheckoutPublic & { status: 'confirmed'; customer_session_token: null }> {
  const processor = deps.payments ?? sandboxProcessor
  const { confirmation_token_id: token, ...changes } = input
  try {
    const confirmed = await deps.db.transaction().execute(async (tx) => {
      const now = deps.clock.now()
      const row = await repo.findCheckoutBySecret(tx, clientSecret, { forUpdate: true })
      if (!row) throw new ResourceNotFound()
      assertOpen(row, now)
      const { patch, row: next, ctx } = await applyChanges(tx, row, await loadContext(tx, row), changes, now, { merchant: false })

      // A discount that fits this product and currency but has ended or been used up since it was
      // applied (the totals above already dropped it) is refused, not silently charged at full price.
      const terms = next.discount_id && ctx.discount ? discountTerms(ctx.discount) : null
      const redeem = terms !== null && isDiscountApplicable({ ...terms, ends_at: null, max_redemptions: null }, next.product_id, next.currency, now)
      if (redeem && !isDiscountApplicableTo(next, ctx, now)) throw new DiscountExhausted()

      const missing = missingFields(next, ctx)
      const trial = activeTrial(next, selectedProduct(next, ctx))
      const due = next.total_amount > 0 && !trial
      const needsMethod = next.total_amount > 0 // a trial still needs a card to charge later
      if (needsMethod && !token) missing.push({ loc: ['body', 'confirmation_token_id'], msg: 'Field required', type: 'missing' })
      if (missing.length) throw new RequestValidationError(missing)

      if (token) {
        const auth = await processor.authorize({ token, amount: due ? next.total_amount : 0, currency: next.currency, checkoutId: next.id })
        if (!auth.ok) throw new PaymentError(auth.message)
      }
      // The conditional update settles the race between concurrent confirms (see redeemDiscount).
      if (redeem && !(await redeemDiscount(tx, next.discount_id!, next.id, now))) throw new DiscountExhausted()
      const saved = await repo.updateCheckout(tx, next.id, { ...patch, status: 'confirmed', confirmed_at: now, modified_at: now })
      await emitCheckoutEvent(tx, deps, 'checkout.updated', saved, now, ctx)
      await enqueue(tx, { kind: SETTLE_JOB, payload: { checkout_id: next.id, token: token ?? null }, dedupeKey: `${SETTLE_JOB}:${next.id}` }, now)
      return toCheckoutPublic({ ...deps, db: tx as never }, saved, ctx, now)
    })
    deps.wakeWorker?.()
    return { ...confirmed, status: 'confirmed', customer_session_token: null }
  } catch (err) {
    if (!(err instanceof DiscountExhausted)) throw err
    // The discount ran out between page load and payment: drop it so the buyer sees the real total.
    await dropDiscount(deps, clientSecret)
    throw new RequestValidationError([
      { loc: ['body', 'discount_code'], msg: 'This discount is no longer available; the total has been updated.', type: 'value_error' },
    ])
  }
}

async function dropDiscount(deps: D, clientSecret: string): Promise<void> {
  await deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const row = await repo.findCheckoutBySecret(tx, clientSecret, { forUpdate: true })
    if (!row || row.status !== 'open') return
    const ctx = await loadContext(tx, row)
    const next = { ...row, discount_id: null }
    const saved = await repo.updateCheckout(tx, row.id, { discount_id: null, ...priceColumns(next, { ...ctx, discount: null }, now), modified_at: now })
    await emitCheckoutEvent(tx, deps, 'checkout.updated', saved, now, { ...ctx, discount: null })
  })
}

/**
 * Settlement (the job): captures the payment, then makes the customer, the subscription (recurring
 * products) and the order in one transaction. Idempotent: a session that is no longer `confirmed`
 * is left alone, and orders and subscriptions are unique per session.
 */
export async function settleCheckout(deps: D, checkoutId: string, token: string | null): Promise<void> {
  const processor = deps.payments ?? sandboxProcessor
  await deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const row = await repo.findCheckoutById(tx, checkoutId, { forUpdate: true })
    if (!row || row.status !== 'confirmed') return
    const ctx = await loadContext(tx, row)
    const product = selectedProduct(row, ctx)
    if (!product) throw new Error(`checkout ${checkoutId}: product ${row.product_id} not found`)
    const trial = activeTrial(row, product)

    const capture = await processor.capture({ token, amount: trial ? 0 : row.total_amount, currency: row.currency, checkoutId })
    if (!capture.ok) {
      await releaseRedemption(tx, checkoutId)
      const failed = await repo.updateCheckout(tx, checkoutId, { status: 'failed', payment_error: capture.message, modified_at: now })
      await emitCheckoutEvent(tx, deps, 'checkout.updated', failed, now, ctx)
      return
    }
    const org = row.organization_id
    const { customer, created: newCustomer } = await upsertCustomerForCheckout(tx, {
      organizationId: row.organization_id,
      email: row.customer_email!,
      name: row.customer_name,
      billingAddress: row.customer_billing_address,
      taxId: row.customer_tax_id,
      externalId: row.external_customer_id,
      metadata: row.customer_metadata,
      now,
    })
    const trialEnd = trial ? addInterval(now, trial.interval, trial.count) : null
    if (newCustomer) await emitEvent(tx, { organizationId: org, type: 'customer.created', data: customer, now })
    const sub = product.is_recurring
      ? await createSubscriptionForCheckout(tx, { organizationId: org, customerId: customer.id, checkout: row, product, trialEnd, now })
      : null
    const subscription = sub?.subscription ?? null
    if (sub?.created) {
      await emitEvent(tx, { organizationId: org, type: 'subscription.created', data: sub.subscription, now })
      if (sub.subscription.status === 'active') await emitEvent(tx, { organizationId: org, type: 'subscription.active', data: sub.subscription, now })
    }
    // A trial's first order is free: the first charge comes when the trial ends.
    const charged = trial ? { ...row, amount: 0, discount_amount: 0, net_amount: 0, tax_amount: 0, total_amount: 0 } : row
    const order = await createOrderForCheckout(tx, { organizationId: org, customerId: customer.id, subscriptionId: subscription?.id ?? null, checkout: charged, product, now })
    if (order.created) {
      await emitEvent(tx, { organizationId: org, type: 'order.created', data: order.order, now })
      await emitEvent(tx, { organizationId: org, type: 'order.paid', data: order.order, now })
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

export const checkoutJobHandlers: JobHandlers = {
  [SETTLE_JOB]: (deps, payload: { checkout_id: string; token: string | null }) => settleCheckout(deps, payload.checkout_id, payload.token),
  [EXPIRE_JOB]: async (deps) => {
    await expireCheckouts(deps)
  },
}
