import type { AuthContext } from '../auth/types'
import type { Executor } from '../db/index'
import type { Deps } from '../deps'
import { ApiError, fieldError, PaymentError, PaymentsUnavailable } from '../http/errors'
import { iso, isoOrNull, paginated, type Page } from '../http/schemas'
import { newId } from '../lib/ids'
import { findOrderRow, lockOrderForRefund, recordRefundOnOrder } from '../orders/service'
import type { OrderRow } from '../orders/service'
import { stripeSettingsOf } from '../payment-settings/service'
import { createStripeRefund, StripeUnavailable, type StripeRefundOutcome } from '../payments/stripe'
import { emitEvent } from '../webhooks/service'
import * as repo from './repository'
import type { RefundRow } from './repository'
import type { Refund, RefundCreate, RefundListQuery } from './schemas'

/**
 * Polar's refunds (server/polar/refund/service.py). A refund never takes more than was paid, even under
 * concurrent requests: the order's row is locked while the amount is checked against what is refunded plus
 * what pending refunds hold back. On Stripe the refund is written `pending` and committed, Stripe is called
 * with no transaction open (keyed by the refund's id), then the outcome is recorded: `succeeded` (counted on
 * the order) or `failed` (the amount released). Sandbox orders refund at once.
 */

type D = Pick<Deps, 'db' | 'clock' | 'config'>

// ---- Polar's error answers ----

/** 403, Polar's `RefundedAlready`. */
export class RefundedAlready extends ApiError {
  constructor(orderId: string) {
    super(403, 'RefundedAlready', `Order is already fully refunded: ${orderId}`)
  }
}

/** 403, Polar's `RefundDisputedPayment` (Stripe's `charge_disputed`). */
export class RefundDisputedPayment extends ApiError {
  constructor(orderId: string) {
    super(403, 'RefundDisputedPayment', `Refund cannot be issued for order with disputed payment: ${orderId}`)
  }
}

/** 400, Polar's `RevokeSubscriptionBenefitsProhibited`. */
export class RevokeSubscriptionBenefitsProhibited extends ApiError {
  constructor() {
    super(400, 'RevokeSubscriptionBenefitsProhibited', 'Subscription benefits can only be revoked upon cancellation')
  }
}

/** 404, Polar's `RefundUnknownPayment`: the order has no successful payment (pending or void). */
export class RefundUnknownPayment extends ApiError {
  constructor(orderId: string) {
    super(404, 'RefundUnknownPayment', `Refund issued for unknown order: ${orderId}`)
  }
}

// ---- The API shape ----

export function toRefund(row: RefundRow): Refund {
  return {
    created_at: iso(row.created_at),
    modified_at: isoOrNull(row.modified_at),
    id: row.id,
    metadata: row.metadata,
    status: row.status,
    reason: row.reason as Refund['reason'],
    amount: row.amount,
    tax_amount: row.tax_amount,
    currency: row.currency,
    organization_id: row.organization_id,
    order_id: row.order_id,
    subscription_id: row.subscription_id,
    customer_id: row.customer_id,
    revoke_benefits: row.revoke_benefits,
    dispute: null,
  }
}

export async function listRefunds(deps: Pick<Deps, 'db'>, auth: AuthContext, query: RefundListQuery) {
  const page: Page = { page: query.page, limit: query.limit }
  if (query.organization_id && !query.organization_id.includes(auth.organizationId)) return paginated([], 0, page)
  const { rows, total } = await repo.listRefunds(
    deps.db,
    auth.organizationId,
    { ids: query.id, orderIds: query.order_id, subscriptionIds: query.subscription_id, customerIds: query.customer_id, externalCustomerIds: query.external_customer_id, succeeded: query.succeeded, sorting: query.sorting },
    page,
  )
  return paginated(rows.map(toRefund), total, page)
}

// ---- Amounts ----

const paidStatuses: OrderRow['status'][] = ['paid', 'partially_refunded']

/** What is left to refund: the order's amounts less what is refunded and what pending refunds hold back. */
async function refundable(tx: Executor, order: OrderRow): Promise<{ amount: number; tax: number }> {
  const pending = await repo.pendingTotals(tx, order.id)
  return {
    amount: Math.max(0, order.net_amount - order.refunded_amount - pending.amount),
    tax: Math.max(0, order.tax_amount - order.refunded_tax_amount - pending.tax),
  }
}

/** Polar's `calculate_refunded_tax_from_subtotal`: the tax in proportion; the rest of it on the last refund. */
function taxFromSubtotal(order: OrderRow, amount: number, left: { amount: number; tax: number }): number {
  if (amount === left.amount) return left.tax
  if (order.tax_amount <= 0 || order.net_amount <= 0) return 0
  return Math.min(Math.round((amount * order.tax_amount) / order.net_amount), left.tax)
}

/** Polar's `calculate_refunded_tax_from_total`: a processor's refund (net plus tax) split in proportion. */
function splitFromTotal(order: OrderRow, total: number): { amount: number; taxAmount: number } {
  const leftNet = Math.max(0, order.net_amount - order.refunded_amount)
  const leftTax = Math.max(0, order.tax_amount - order.refunded_tax_amount)
  if (total >= leftNet + leftTax) return { amount: leftNet, taxAmount: leftTax }
  if (order.tax_amount <= 0 || order.total_amount <= 0) return { amount: total, taxAmount: 0 }
  const taxAmount = Math.min(Math.round((order.tax_amount * total) / order.total_amount), leftTax)
  return { amount: total - taxAmount, taxAmount }
}

// ---- Creating a refund ----

export async function createRefund(deps: D, auth: AuthContext, input: RefundCreate): Promise<Refund> {
  const { organizationId } = auth
  const onStripe = await findOrderRow(deps.db, organizationId, input.order_id)
  const settings = onStripe?.payment_intent_id ? await stripeSettingsOf(deps, organizationId) : null
  if (onStripe?.payment_intent_id && (!settings || settings.livemode !== onStripe.livemode)) {
    throw new PaymentsUnavailable(`Refunds of this order need the organization's ${onStripe.livemode ? 'live' : 'test'}-mode Stripe keys, which are not set.`)
  }

  // Phase one: the checks and the pending refund, under the order's lock.
  const created = await deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const order = await lockOrderForRefund(tx, organizationId, input.order_id)
    if (!order) throw fieldError(['body', 'order_id'], 'Order not found', input.order_id)
    if (order.status === 'refunded') throw new RefundedAlready(order.id)
    if (input.revoke_benefits && order.subscription_id) throw new RevokeSubscriptionBenefitsProhibited()
    const left = await refundable(tx, order)
    if (input.amount > left.amount) throw fieldError(['body', 'amount'], 'Refund amount exceeds refundable amount', input.amount)
    if (!paidStatuses.includes(order.status)) throw new RefundUnknownPayment(order.id)
    const stripe = order.payment_intent_id !== null
    const row = await repo.insertRefund(tx, {
      id: newId(),
      organization_id: organizationId,
      order_id: order.id,
      subscription_id: order.subscription_id,
      customer_id: order.customer_id,
      status: 'pending',
      reason: input.reason,
      amount: input.amount,
      tax_amount: taxFromSubtotal(order, input.amount, left),
      currency: order.currency,
      comment: input.comment ?? null,
      metadata: JSON.stringify(input.metadata ?? {}),
      revoke_benefits: input.revoke_benefits,
      processor: stripe ? 'stripe' : 'sandbox',
      processor_refund_id: null,
      failure_reason: null,
      created_at: now,
    })
    await emitEvent(tx, { organizationId, type: 'refund.created', data: toRefund(row), now })
    // The sandbox moves no money: the refund succeeds in the same transaction.
    if (!stripe) return { row: await succeed(tx, order, row, null, now), order }
    return { row, order }
  })
  if (created.row.status !== 'pending' || !created.order.payment_intent_id || !settings) return toRefund(created.row)

  // Phase two: Stripe, with no transaction open.
  const { row, order } = created
  let outcome: StripeRefundOutcome
  try {
    outcome = await createStripeRefund(settings, deps.config.stripeApiUrl, {
      refundId: row.id,
      orderId: order.id,
      organizationId,
      paymentIntentId: order.payment_intent_id!,
      amount: row.amount + row.tax_amount,
      reason: row.reason === 'duplicate' ? 'duplicate' : 'requested_by_customer',
    })
  } catch (err) {
    if (!(err instanceof StripeUnavailable)) throw err
    // No answer: Stripe may have refunded. The refund stays pending, holding its amount, until Stripe's
    // `charge.refunded` (or a repeat of this refund's keyed request) tells.
    throw new PaymentsUnavailable('Stripe did not answer: the refund stays pending until Stripe reports it.')
  }

  // Phase three: the outcome, under the order's lock again.
  const result = outcome
  const saved = await deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const locked = await lockOrderForRefund(tx, organizationId, order.id)
    const current = await repo.findRefundForUpdate(tx, organizationId, row.id)
    if (!locked || !current) throw new Error(`refund ${row.id}: order or refund vanished`)
    if (current.status !== 'pending') return current
    if (result.kind === 'succeeded') return succeed(tx, locked, current, result.refundId, now)
    if (result.kind === 'pending') return repo.updateRefund(tx, current.id, { processor_refund_id: result.refundId, modified_at: now })
    const failed = await repo.updateRefund(tx, current.id, { status: 'failed', failure_reason: failureReason(result.code), processor_refund_id: result.refundId, modified_at: now })
    await emitEvent(tx, { organizationId, type: 'refund.updated', data: toRefund(failed), now })
    return failed
  })
  if (outcome.kind === 'failed' && saved.status === 'failed') {
    if (outcome.code === 'charge_already_refunded') throw new RefundedAlready(order.id)
    if (outcome.code === 'charge_disputed') throw new RefundDisputedPayment(order.id)
    throw new PaymentError(outcome.message)
  }
  return toRefund(saved)
}

/** Polar's `RefundFailureReason` for Stripe's error code or refund failure reason. */
function failureReason(code: string | null): string {
  if (code === 'charge_disputed' || code === 'charge_for_pending_refund_disputed') return 'disputed'
  if (code === 'insufficient_funds') return 'insufficient_funds'
  if (code === 'expired_or_canceled_card') return 'card_expired'
  if (code === 'lost_or_stolen_card') return 'card_lost'
  if (code === 'merchant_request') return 'merchant_request'
  return 'unknown'
}

/** A pending refund succeeded: `refund.updated`, and its amounts counted on the order (once: only a pending refund gets here). */
async function succeed(tx: Executor, order: OrderRow, refund: RefundRow, processorRefundId: string | null, now: Date): Promise<RefundRow> {
  const saved = await repo.updateRefund(tx, refund.id, { status: 'succeeded', processor_refund_id: processorRefundId ?? refund.processor_refund_id, modified_at: now })
  await emitEvent(tx, { organizationId: refund.organization_id, type: 'refund.updated', data: toRefund(saved), now })
  await recordRefundOnOrder(tx, order, { amount: saved.amount, taxAmount: saved.tax_amount }, now)
  return saved
}

// ---- Refunds the processor reports ----

/** What Stripe's `charge.refunded` says: the charge's cumulative refunded total, and its refunds when the event carries them. */
export interface ProcessorRefunds {
  amountRefunded: number
  refunds?: { id: string; amount: number; status: string | null; metadata: Record<string, string> | null }[]
}

/**
 * Stripe's `charge.refunded`, the order's row locked by the caller. Each refund the event lists is matched to
 * Kassa's (by Stripe's id, or the `refund_id` Kassa gave it) and a pending one succeeds; one Kassa never made
 * (Stripe's dashboard) gets its own refund row. Whatever the charge's cumulative `amount_refunded` still
 * exceeds, beyond what is recorded and what Kassa's pending refunds will bring, is recorded as one refund
 * made at Stripe (its Stripe id unknown). So a refund made through the API and then reported is counted once,
 * the order ends at the charge's total, and repeated or out-of-order news lowers nothing.
 * Answers whether anything changed.
 */
export async function recordProcessorRefunds(tx: Executor, order: OrderRow, news: ProcessorRefunds, now: Date): Promise<boolean> {
  let row = order
  let changed = false
  for (const r of news.refunds ?? []) {
    if (r.status !== 'succeeded') continue
    const kassaId = r.metadata?.refund_id
    const known = (await repo.findRefundByProcessorId(tx, row.organization_id, r.id)) ?? (kassaId && /^[0-9a-f-]{36}$/i.test(kassaId) ? await repo.findRefundForUpdate(tx, row.organization_id, kassaId) : undefined)
    if (known && known.order_id === row.id) {
      if (known.status === 'pending' || known.status === 'failed') {
        await succeed(tx, row, known, r.id, now)
        row = (await lockOrderForRefund(tx, row.organization_id, row.id))!
        changed = true
      }
      continue
    }
    if (known) continue
    row = await recordExternal(tx, row, r.amount, r.id, now)
    changed = true
  }
  const pending = await repo.pendingTotals(tx, row.id)
  const recorded = row.refunded_amount + row.refunded_tax_amount
  const missing = Math.min(row.total_amount - recorded, news.amountRefunded - recorded - pending.amount - pending.tax)
  if (missing > 0) {
    await recordExternal(tx, row, missing, null, now)
    changed = true
  }
  return changed
}

/** A refund made at the processor, not through Kassa: a succeeded refund row, `refund.created`, counted on the order. */
async function recordExternal(tx: Executor, order: OrderRow, total: number, processorRefundId: string | null, now: Date): Promise<OrderRow> {
  const split = splitFromTotal(order, total)
  // Only tax left to refund (a rounding cent): a refund's net amount is positive, so there is nothing to record.
  if (split.amount <= 0) return order
  const refund = await repo.insertRefund(tx, {
    id: newId(),
    organization_id: order.organization_id,
    order_id: order.id,
    subscription_id: order.subscription_id,
    customer_id: order.customer_id,
    status: 'succeeded',
    reason: 'other',
    amount: split.amount,
    tax_amount: split.taxAmount,
    currency: order.currency,
    comment: null,
    metadata: JSON.stringify({}),
    processor: 'stripe',
    processor_refund_id: processorRefundId,
    failure_reason: null,
    created_at: now,
  })
  await emitEvent(tx, { organizationId: order.organization_id, type: 'refund.created', data: toRefund(refund), now })
  return (await recordRefundOnOrder(tx, order, split, now)).row
}

/** A refund as the processor reports its change (Stripe's `charge.refund.updated`, `refund.updated`). */
export interface ProcessorRefundUpdate {
  id: string
  status: string | null
  metadata: Record<string, string> | null
  failureReason: string | null
}

/**
 * Stripe's news about one of Kassa's refunds, the order's row locked by the caller: a pending (or failed)
 * refund that succeeded is counted on the order; a pending one that failed or was canceled releases its
 * amount. A refund Kassa never made is left to `charge.refunded`, which records it once. Answers whether
 * anything changed.
 */
export async function recordProcessorRefundUpdate(tx: Executor, order: OrderRow, r: ProcessorRefundUpdate, now: Date): Promise<boolean> {
  const kassaId = r.metadata?.refund_id
  const known = (await repo.findRefundByProcessorId(tx, order.organization_id, r.id)) ?? (kassaId && /^[0-9a-f-]{36}$/i.test(kassaId) ? await repo.findRefundForUpdate(tx, order.organization_id, kassaId) : undefined)
  if (!known || known.order_id !== order.id) return false
  if (r.status === 'succeeded' && (known.status === 'pending' || known.status === 'failed')) {
    await succeed(tx, order, known, r.id, now)
    return true
  }
  if ((r.status === 'failed' || r.status === 'canceled') && known.status === 'pending') {
    const failed = await repo.updateRefund(tx, known.id, { status: r.status, failure_reason: failureReason(r.failureReason), processor_refund_id: r.id, modified_at: now })
    await emitEvent(tx, { organizationId: order.organization_id, type: 'refund.updated', data: toRefund(failed), now })
    return true
  }
  return false
}
