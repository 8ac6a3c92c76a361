import type { Executor } from '../db/index'
import type { Deps } from '../deps'
import { releaseRedemption } from '../discounts/service'
import { PaymentError } from '../http/errors'
import { enqueue } from '../jobs/queue'
import { cancelIntent, confirmStripeAttempt, retrieveIntent, StripeUnavailable, type IntentOutcome, type StripeAttempt } from '../payments/stripe'
import { stripeSettingsOf, type StripeSettings } from '../payment-settings/service'
import { loadContext } from './context'
import { RECONCILE_JOB, SETTLE_JOB } from './job-kinds'
import { emitCheckoutEvent, toCheckoutPublic } from './present'
import * as repo from './repository'
import type { CheckoutRow } from './repository'
import type { CheckoutPublic } from './schemas'

/**
 * A confirm on Stripe after its claim (confirm.ts): the call to Stripe with no transaction open, then the
 * outcome recorded under the session's row lock. The outcome reaches Kassa up to three ways, in any order:
 * confirm's own answer, Stripe's webhook, and reconciliation; `recordOutcome` takes each the same way and only
 * the first that finds the attempt still `confirmed` acts, so a payment settles once.
 */

type D = Pick<Deps, 'db' | 'clock' | 'config' | 'payments' | 'wakeWorker'>

export { RECONCILE_JOB }

/** How long a buyer may take over 3-D Secure before the attempt is cancelled. */
export const ABANDONED_AFTER_MS = 24 * 3_600_000

export interface ReconcilePayload {
  checkout_id: string
  attempt: number
  /** The attempt as it was sent to Stripe, to replay with the same idempotency key when its intent is unknown. */
  request: StripeAttempt
}

/** Queued with the claim: if nothing has settled or reopened the attempt by then, Stripe is asked. */
export async function scheduleReconciliation(tx: Executor, deps: Pick<Deps, 'config'>, a: StripeAttempt, now: Date, delayMs = deps.config.stripeReconcileAfterSeconds * 1000, tag = ''): Promise<void> {
  const payload: ReconcilePayload = { checkout_id: a.checkoutId, attempt: a.attempt, request: a }
  await enqueue(tx, { kind: RECONCILE_JOB, payload, runAt: new Date(now.getTime() + delayMs), dedupeKey: `${RECONCILE_JOB}:${a.checkoutId}:${a.attempt}${tag}`, maxAttempts: 12 }, now)
}

/** Confirm's phase two and three: Stripe, then the record. A decline is a 400 PaymentError and the session is open again. */
export async function payOnStripe(deps: D, settings: StripeSettings, a: StripeAttempt): Promise<CheckoutPublic> {
  let outcome: IntentOutcome
  try {
    outcome = await confirmStripeAttempt(settings, deps.config.stripeApiUrl, a)
  } catch (err) {
    if (!(err instanceof StripeUnavailable)) throw err
    // Stripe did not answer (after the library's retries): the intent may or may not exist. The session stays
    // `confirmed` (the page waits) and reconciliation replays the attempt soon.
    await deps.db.transaction().execute((tx) => scheduleReconciliation(tx, deps, a, deps.clock.now(), 15_000, ':soon'))
    return currentCheckout(deps, a.checkoutId)
  }
  const recorded = await recordOutcome(deps, { checkoutId: a.checkoutId, attempt: a.attempt }, outcome)
  // A decline is the buyer's answer even when Stripe's webhook recorded it first (the session is open again).
  if (outcome.kind === 'failed') throw new PaymentError(recorded.declined ?? outcome.message)
  return recorded.checkout ?? currentCheckout(deps, a.checkoutId)
}

async function currentCheckout(deps: D, checkoutId: string): Promise<CheckoutPublic> {
  const row = await repo.findCheckoutById(deps.db, checkoutId)
  if (!row) throw new Error(`checkout ${checkoutId} vanished`)
  return toCheckoutPublic(deps, row, await loadContext(deps.db, row), deps.clock.now())
}

/**
 * Records what Stripe did with an attempt. Acts only while the session is `confirmed` on that attempt (an
 * older attempt's news, or news after settlement, changes nothing): succeeded queues settlement (once per
 * session); requires action stores what the page needs for Stripe's next action; failed opens the session
 * again for another try and releases its discount redemption (Polar's `handle_payment_failure`).
 */
export async function recordOutcome(deps: D, target: OutcomeTarget, outcome: IntentOutcome & { customerId?: string | null }): Promise<Recorded> {
  const result = await deps.db.transaction().execute((tx) => recordOutcomeIn(tx, deps, target, outcome))
  if (result.settle) deps.wakeWorker?.()
  return result
}

export interface OutcomeTarget {
  checkoutId: string
  /** The attempt the news is about; null: whichever attempt owns this intent (or has none yet). */
  attempt: number | null
  /** Only a session of this organization (Stripe's webhook names its organization in the URL). */
  organizationId?: string
}
export interface Recorded {
  checkout: CheckoutPublic | null
  acted: boolean
  declined?: string
  /** Settlement was queued: wake the worker after commit. */
  settle?: boolean
}

/** recordOutcome inside the caller's transaction (the webhook records its event id in the same one). */
export async function recordOutcomeIn(tx: Executor, deps: D, target: OutcomeTarget, outcome: IntentOutcome & { customerId?: string | null }): Promise<Recorded> {
  {
    const now = deps.clock.now()
    const row = await repo.findCheckoutById(tx, target.checkoutId, { forUpdate: true })
    if (!row || (target.organizationId && row.organization_id !== target.organizationId)) return { checkout: null, acted: false }
    const ctx = await loadContext(tx, row)
    const current = () => toCheckoutPublic({ ...deps, db: tx as never }, row, ctx, now)
    const sameAttempt = target.attempt === null ? row.payment_intent_id === null || row.payment_intent_id === outcome.intentId : row.payment_attempt === target.attempt
    if (row.status !== 'confirmed' || row.processor !== 'stripe' || !sameAttempt) return { checkout: await current(), acted: false }
    const meta = row.payment_processor_metadata ?? {}
    const customer = outcome.customerId ?? row.stripe_customer_id
    if (outcome.kind === 'succeeded') {
      const expected = row.total_amount
      if (outcome.amount !== 0 && (outcome.amount !== expected || outcome.currency !== row.currency)) {
        throw new Error(`checkout ${row.id}: Stripe intent ${outcome.intentId} is for ${outcome.amount} ${outcome.currency}, the session for ${expected} ${row.currency}; not settled`)
      }
      const saved = await repo.updateCheckout(tx, row.id, {
        payment_intent_id: outcome.intentId, stripe_customer_id: customer, payment_method_id: outcome.paymentMethodId,
        payment_method_type: outcome.paymentMethodType ?? row.payment_method_type,
        payment_processor_metadata: JSON.stringify({ ...meta, ...(customer ? { customer_id: customer } : {}), intent_status: 'succeeded' }), modified_at: now,
      })
      await enqueue(tx, { kind: SETTLE_JOB, payload: { checkout_id: row.id, token: null, charge_id: outcome.chargeId }, dedupeKey: `${SETTLE_JOB}:${row.id}` }, now)
      return { checkout: await toCheckoutPublic({ ...deps, db: tx as never }, saved, ctx, now), acted: true, settle: true }
    }
    if (outcome.kind === 'requires_action' || outcome.kind === 'processing') {
      const saved = await repo.updateCheckout(tx, row.id, {
        payment_intent_id: outcome.intentId, stripe_customer_id: customer,
        payment_processor_metadata: JSON.stringify({ ...meta, ...(customer ? { customer_id: customer } : {}), intent_client_secret: outcome.clientSecret, intent_status: outcome.status }), modified_at: now,
      })
      return { checkout: await toCheckoutPublic({ ...deps, db: tx as never }, saved, ctx, now), acted: true }
    }
    if (outcome.kind !== 'failed') throw new Error('unreachable')
    await releaseRedemption(tx, row.id)
    const { intent_client_secret: _s, intent_status: _st, ...kept } = meta
    const reopened = await repo.updateCheckout(tx, row.id, {
      status: 'open', payment_intent_id: outcome.intentId ?? row.payment_intent_id, stripe_customer_id: customer,
      payment_processor_metadata: JSON.stringify({ ...kept, ...(customer ? { customer_id: customer } : {}) }), modified_at: now,
    })
    // Open again, or, past its expiry, expired (the expiry job marks it and sends checkout.expired).
    await emitCheckoutEvent(tx, deps, 'checkout.updated', reopened, now, ctx)
    return { checkout: await toCheckoutPublic({ ...deps, db: tx as never }, reopened, ctx, now), acted: true, declined: outcome.message }
  }
}

/**
 * Reconciliation (the job): a Stripe attempt still `confirmed` after STRIPE_RECONCILE_AFTER_SECONDS (or soon,
 * when Stripe did not answer confirm) is looked up at Stripe, by its intent when known, else by replaying its
 * create with the same idempotency key (Stripe answers the first request's result; a request that never
 * arrived is made now). Throws while Stripe is unreachable, so the job retries with backoff.
 */
export async function reconcileStripeAttempt(deps: D, payload: ReconcilePayload): Promise<void> {
  const row = await repo.findCheckoutById(deps.db, payload.checkout_id)
  if (!row || row.status !== 'confirmed' || row.processor !== 'stripe' || row.payment_attempt !== payload.attempt) return
  const settings = await stripeSettingsOf(deps, row.organization_id)
  if (!settings) return
  let outcome = row.payment_intent_id
    ? await retrieveIntent(settings, deps.config.stripeApiUrl, row.payment_intent_id)
    : await confirmStripeAttempt(settings, deps.config.stripeApiUrl, payload.request)
  // A buyer who left 3-D Secure open for a day is gone: the intent is cancelled (so it cannot succeed later
  // with no session waiting for it) and the session opened again, to expire or be paid anew.
  const abandoned = row.confirmed_at !== null && deps.clock.now().getTime() - row.confirmed_at.getTime() > ABANDONED_AFTER_MS
  if (abandoned && outcome.kind === 'requires_action') outcome = await cancelIntent(settings, deps.config.stripeApiUrl, outcome.intentId)
  const recorded = await recordOutcome(deps, { checkoutId: row.id, attempt: payload.attempt }, outcome)
  // Still waiting for the buyer's 3-D Secure (or a slow method): look again later, until the job's attempts run out.
  if (recorded.acted && (outcome.kind === 'requires_action' || outcome.kind === 'processing')) {
    throw new Error(`checkout ${row.id}: intent ${outcome.intentId} still ${outcome.kind}`)
  }
}

const lastRefresh = new Map<string, number>()
const REFRESH_EVERY_MS = 2000
const REFRESH_MEMORY = 10_000

/** Whether a session is waiting on its buyer at Stripe (3-D Secure, or a method that takes a while). */
export const waitsOnStripe = (row: Pick<CheckoutRow, 'status' | 'processor' | 'payment_intent_id' | 'payment_processor_metadata'>) =>
  row.status === 'confirmed' && row.processor === 'stripe' && row.payment_intent_id !== null && ['requires_action', 'processing'].includes(row.payment_processor_metadata?.intent_status ?? '')

/**
 * The page polls a session while its buyer completes 3-D Secure: Kassa asks Stripe about the intent (at most
 * every 2 s per session, whatever the polling rate), so the buyer is not left waiting for a webhook that may
 * be late or not set up. Stripe being unreachable leaves the session as it is. Returns whether it changed.
 */
export async function refreshWaitingIntent(deps: D, row: CheckoutRow): Promise<boolean> {
  const nowMs = deps.clock.now().getTime()
  if ((lastRefresh.get(row.id) ?? 0) > nowMs - REFRESH_EVERY_MS) return false
  if (lastRefresh.size >= REFRESH_MEMORY) lastRefresh.clear()
  lastRefresh.set(row.id, nowMs)
  const settings = await stripeSettingsOf(deps, row.organization_id)
  if (!settings) return false
  let outcome: IntentOutcome
  try {
    outcome = await retrieveIntent(settings, deps.config.stripeApiUrl, row.payment_intent_id!)
  } catch (err) {
    if (err instanceof StripeUnavailable) return false
    throw err
  }
  if (outcome.kind === 'requires_action' || outcome.kind === 'processing') return false
  return (await recordOutcome(deps, { checkoutId: row.id, attempt: row.payment_attempt }, outcome)).acted
}

const HOUR_MS = 3_600_000

/**
 * The safety net behind reconciliation (a periodic job): an attempt still `confirmed` twice the reconciliation
 * delay after it was made, with none of its reconciliation jobs left to run (their tries ran out while Stripe
 * was unreachable, or the buyer never finished 3-D Secure), gets a new one, at most one an hour. The attempt
 * as sent to Stripe comes from its first reconciliation job, written with the claim.
 */
export async function sweepUnreconciled(deps: D, limit = 100): Promise<number> {
  const now = deps.clock.now()
  const stale = await repo.findLongConfirmedStripeAttempts(deps.db, new Date(now.getTime() - 2 * deps.config.stripeReconcileAfterSeconds * 1000), limit)
  const bucket = Math.floor(now.getTime() / HOUR_MS)
  let queued = 0
  for (const { id, payment_attempt: attempt } of stale) {
    const base = `${RECONCILE_JOB}:${id}:${attempt}`
    const jobs = await deps.db.selectFrom('jobs').select(['dedupe_key', 'payload', 'finished_at']).where('dedupe_key', 'in', [base, `${base}:soon`, `${base}:sweep:${bucket - 1}`, `${base}:sweep:${bucket}`]).execute()
    const first = jobs.find((j) => j.dedupe_key === base)
    if (!first || jobs.some((j) => j.finished_at === null)) continue
    const payload = first.payload as unknown as ReconcilePayload
    await enqueue(deps.db, { kind: RECONCILE_JOB, payload, dedupeKey: `${base}:sweep:${bucket}`, maxAttempts: 12 }, now)
    queued++
  }
  return queued
}
