import Stripe from 'stripe'
import type { StripeSettings } from './settings'
import { stripeClient } from './stripe-client'

/**
 * Kassa's calls to Stripe for a checkout. Each runs with no transaction or row lock held (confirm records the
 * outcome afterwards) and is idempotent by its key, so a retry (the library's, or reconciliation's after a
 * crash) replays the first answer instead of charging twice.
 */

export interface StripeAttempt {
  checkoutId: string
  checkoutLinkId: string | null
  organizationId: string
  /** The confirm attempt: one PaymentIntent (or SetupIntent) per attempt, keyed by session and attempt. */
  attempt: number
  /** `payment`: charge `amount` now; `setup`: save the card for later charges only (a trial, or nothing due). */
  mode: 'payment' | 'setup'
  amount: number
  currency: string
  confirmationToken: string
  /** Keep the card for off-session renewals (recurring products). */
  saveForLater: boolean
  customer: { stripeId: string | null; email: string; name: string | null }
  description: string
  /** Where a redirect-based method (or 3-D Secure without Stripe.js) comes back to. */
  returnUrl: string
}

/** What happened at Stripe, as confirm, the webhook and reconciliation all record it. */
export type IntentOutcome =
  | { kind: 'succeeded'; intentId: string; customerId: string | null; paymentMethodId: string | null; paymentMethodType: string | null; chargeId: string | null; amount: number; currency: string; livemode: boolean }
  | { kind: 'requires_action' | 'processing'; intentId: string; customerId: string | null; clientSecret: string; status: string }
  | { kind: 'failed'; intentId: string | null; message: string; code: string | null }

/** A failure that says nothing about the payment (Stripe unreachable, a 5xx, a bad key): the attempt's outcome is unknown. */
export class StripeUnavailable extends Error {
  override name = 'StripeUnavailable'
}

const client = (settings: StripeSettings, apiUrl: string | undefined) => stripeClient(settings.secretKey, { apiUrl })

export const intentIdempotencyKey = (checkoutId: string, attempt: number) => `kassa-checkout-${checkoutId}-attempt-${attempt}`
const customerIdempotencyKey = (checkoutId: string) => `kassa-checkout-${checkoutId}-customer`

const idOf = (v: string | { id: string } | null | undefined): string | null => (v == null ? null : typeof v === 'string' ? v : v.id)

/** The outcome an intent's state stands for. */
export function intentOutcome(intent: Stripe.PaymentIntent | Stripe.SetupIntent): IntentOutcome {
  const customerId = idOf(intent.customer as string | { id: string } | null)
  const pm = intent.payment_method
  const paymentMethodId = idOf(pm as string | { id: string } | null)
  const paymentMethodType = pm && typeof pm === 'object' ? pm.type : paymentMethodId ? 'card' : null
  if (intent.status === 'succeeded') {
    const isPi = intent.object === 'payment_intent'
    return {
      kind: 'succeeded', intentId: intent.id, customerId, paymentMethodId, paymentMethodType,
      chargeId: isPi ? idOf((intent as Stripe.PaymentIntent).latest_charge as string | { id: string } | null) : null,
      amount: isPi ? (intent as Stripe.PaymentIntent).amount_received : 0,
      currency: isPi ? (intent as Stripe.PaymentIntent).currency : '',
      livemode: intent.livemode,
    }
  }
  if (intent.status === 'requires_action' || intent.status === 'processing' || intent.status === 'requires_confirmation' || intent.status === 'requires_capture') {
    return { kind: intent.status === 'requires_action' ? 'requires_action' : 'processing', intentId: intent.id, customerId, clientSecret: intent.client_secret ?? '', status: intent.status }
  }
  // requires_payment_method after a failed attempt, or canceled
  const err = intent.object === 'payment_intent' ? (intent as Stripe.PaymentIntent).last_payment_error : (intent as Stripe.SetupIntent).last_setup_error
  return { kind: 'failed', intentId: intent.id, message: err?.message ?? (intent.status === 'canceled' ? 'The payment was canceled.' : 'The payment was not completed.'), code: err?.decline_code ?? err?.code ?? null }
}

/** Stripe's message as Stripe wrote it (the library prefixes the request id: `[req_…] Your card was declined.`). */
export const stripeMessage = (err: InstanceType<typeof Stripe.errors.StripeError>) => ((err.raw as { message?: string } | undefined)?.message ?? err.message).replace(/^\[req_[A-Za-z0-9]+\]\s*/, '')

/** The buyer-facing answer when the merchant's Stripe key is revoked or lacks a permission (the operator sees Stripe's own in the log). */
export const MERCHANT_STRIPE_PROBLEM = 'This shop cannot take payments right now. You have not been charged.'

/**
 * What a Stripe error says about the attempt. A decline, a refused token, or a request Stripe will never
 * accept (an amount below its minimum, an unsupported currency, a revoked or under-permitted key) is final:
 * the attempt failed and the buyer may try again. Only a failure to get an answer (no connection, Stripe's
 * 5xx, rate limiting, an idempotency clash with a request still running) leaves the outcome unknown.
 */
function outcomeOfError(err: unknown): IntentOutcome {
  if (!(err instanceof Stripe.errors.StripeError)) throw err
  const raw = err.raw as { payment_intent?: { id: string }; setup_intent?: { id: string } } | undefined
  const intentId = raw?.payment_intent?.id ?? raw?.setup_intent?.id ?? null
  if (err instanceof Stripe.errors.StripeCardError || err instanceof Stripe.errors.StripeInvalidRequestError) {
    return { kind: 'failed', intentId, message: stripeMessage(err), code: err.decline_code ?? err.code ?? null }
  }
  if (err instanceof Stripe.errors.StripeAuthenticationError || err instanceof Stripe.errors.StripePermissionError) {
    return { kind: 'failed', intentId, message: MERCHANT_STRIPE_PROBLEM, code: err.type }
  }
  throw new StripeUnavailable(`${err.type}: ${stripeMessage(err)}`)
}

/** Stripe metadata values are strings of at most 500 characters; keys at most 40. */
function metadata(a: StripeAttempt): Record<string, string> {
  return { checkout_id: a.checkoutId, ...(a.checkoutLinkId ? { checkout_link_id: a.checkoutLinkId } : {}), organization_id: a.organizationId, attempt: String(a.attempt), source: 'kassa' }
}

/**
 * The Stripe Customer the payment is made for: the buyer's known one, else a new one (keyed by session, so a
 * repeated attempt reuses it).
 */
async function ensureCustomer(stripe: Stripe, a: StripeAttempt): Promise<string> {
  if (a.customer.stripeId) return a.customer.stripeId
  const customer = await stripe.customers.create(
    { email: a.customer.email, ...(a.customer.name ? { name: a.customer.name } : {}), metadata: { organization_id: a.organizationId, checkout_id: a.checkoutId } },
    { idempotencyKey: customerIdempotencyKey(a.checkoutId) },
  )
  return customer.id
}

/**
 * Creates and confirms the attempt's intent (Polar's checkout service: a PaymentIntent with
 * `automatic_payment_methods`, `confirm`, the confirmation token, the customer, metadata and `return_url`;
 * `setup_future_usage: off_session` when the card is kept; a SetupIntent when nothing is charged now).
 * Replaying it (same attempt) returns the same intent: that is what reconciliation does after a crash.
 */
export async function confirmStripeAttempt(settings: StripeSettings, apiUrl: string | undefined, a: StripeAttempt): Promise<IntentOutcome & { customerId: string | null }> {
  const stripe = client(settings, apiUrl)
  let customerId: string
  try {
    customerId = await ensureCustomer(stripe, a)
  } catch (err) {
    if (err instanceof Stripe.errors.StripeInvalidRequestError && err.code === 'resource_missing' && a.customer.stripeId) {
      // the stored customer is gone (deleted in Stripe's dashboard): make a new one
      try {
        customerId = await ensureCustomer(stripe, { ...a, customer: { ...a.customer, stripeId: null } })
      } catch (again) {
        return { ...outcomeOfError(again), customerId: null }
      }
    } else return { ...outcomeOfError(err), customerId: null }
  }
  const common = {
    automatic_payment_methods: { enabled: true },
    confirm: true,
    confirmation_token: a.confirmationToken,
    customer: customerId,
    description: a.description.slice(0, 1000),
    metadata: metadata(a),
    return_url: a.returnUrl,
    expand: ['payment_method'],
  }
  const opts = { idempotencyKey: intentIdempotencyKey(a.checkoutId, a.attempt) }
  try {
    const intent = a.mode === 'payment'
      ? await stripe.paymentIntents.create({ ...common, amount: a.amount, currency: a.currency, ...(a.saveForLater ? { setup_future_usage: 'off_session' as const } : {}) }, opts)
      : await stripe.setupIntents.create({ ...common, usage: 'off_session' }, opts)
    return { ...intentOutcome(intent), customerId }
  } catch (err) {
    return { ...outcomeOfError(err), customerId }
  }
}

/** The intent's state now (reconciliation, and a page waiting after 3-D Secure). */
export async function retrieveIntent(settings: StripeSettings, apiUrl: string | undefined, intentId: string): Promise<IntentOutcome> {
  const stripe = client(settings, apiUrl)
  try {
    const intent = intentId.startsWith('seti_')
      ? await stripe.setupIntents.retrieve(intentId, { expand: ['payment_method'] })
      : await stripe.paymentIntents.retrieve(intentId, { expand: ['payment_method'] })
    return intentOutcome(intent)
  } catch (err) {
    // Not knowing an intent Kassa made (keys of another account now, a revoked key) says nothing about the
    // payment: never a reason to open the session for a second payment. Reconciliation keeps asking and logs it.
    if (err instanceof Stripe.errors.StripeError) throw new StripeUnavailable(`${err.type}: ${stripeMessage(err)}`)
    throw err
  }
}

/**
 * Cancels an intent its buyer never finished (3-D Secure left open), so it can no longer succeed behind the
 * session's back; answers its state after (a `succeeded` one, if the buyer finished meanwhile, stays so).
 */
export async function cancelIntent(settings: StripeSettings, apiUrl: string | undefined, intentId: string): Promise<IntentOutcome> {
  const stripe = client(settings, apiUrl)
  try {
    const intent = intentId.startsWith('seti_')
      ? await stripe.setupIntents.cancel(intentId, { cancellation_reason: 'abandoned' })
      : await stripe.paymentIntents.cancel(intentId, { cancellation_reason: 'abandoned' })
    return intentOutcome(intent)
  } catch (err) {
    // "cannot cancel … status of succeeded": the buyer finished after all; the intent says how
    if (err instanceof Stripe.errors.StripeInvalidRequestError) return retrieveIntent(settings, apiUrl, intentId)
    if (err instanceof Stripe.errors.StripeError) throw new StripeUnavailable(`${err.type}: ${stripeMessage(err)}`)
    throw err
  }
}

/** A refund to make on Stripe: `amount` is the total (net plus tax) in the payment's minor unit. */
export interface StripeRefundRequest {
  refundId: string
  orderId: string
  organizationId: string
  paymentIntentId: string
  amount: number
  reason: 'duplicate' | 'requested_by_customer'
}

export type StripeRefundOutcome =
  | { kind: 'succeeded'; refundId: string }
  | { kind: 'pending'; refundId: string }
  | { kind: 'failed'; refundId: string | null; code: string | null; message: string }

export const refundIdempotencyKey = (refundId: string) => `kassa-refund-${refundId}`

/**
 * Refunds on Stripe, keyed by Kassa's refund id (a repeat replays the first answer). A refusal (already
 * refunded, disputed, more than is left, a revoked key) is final; no answer at all throws `StripeUnavailable`.
 */
export async function createStripeRefund(settings: StripeSettings, apiUrl: string | undefined, r: StripeRefundRequest): Promise<StripeRefundOutcome> {
  const stripe = stripeClient(settings.secretKey, { apiUrl })
  try {
    const refund = await stripe.refunds.create(
      { payment_intent: r.paymentIntentId, amount: r.amount, reason: r.reason, metadata: { refund_id: r.refundId, order_id: r.orderId, organization_id: r.organizationId } },
      { idempotencyKey: refundIdempotencyKey(r.refundId) },
    )
    if (refund.status === 'succeeded') return { kind: 'succeeded', refundId: refund.id }
    if (refund.status === 'failed' || refund.status === 'canceled') return { kind: 'failed', refundId: refund.id, code: refund.failure_reason ?? null, message: `The refund ${refund.status} at Stripe.` }
    return { kind: 'pending', refundId: refund.id }
  } catch (err) {
    if (!(err instanceof Stripe.errors.StripeError)) throw err
    if (err instanceof Stripe.errors.StripeCardError || err instanceof Stripe.errors.StripeInvalidRequestError) return { kind: 'failed', refundId: null, code: err.code ?? null, message: stripeMessage(err) }
    if (err instanceof Stripe.errors.StripeAuthenticationError || err instanceof Stripe.errors.StripePermissionError) return { kind: 'failed', refundId: null, code: err.type, message: 'Stripe refused the organization\'s key: check the Stripe keys in the payment settings.' }
    throw new StripeUnavailable(`${err.type}: ${stripeMessage(err)}`)
  }
}
