import Stripe from 'stripe'
import { SANDBOX_TOKENS } from '../payments/processor'
import { stripeMessage } from '../payments/stripe'
import { stripeClient } from '../payments/stripe-client'
import type { StripeSettings } from '../payments/settings'

/**
 * Charging a renewal order, with no transaction open. Each attempt has its own idempotency key (order and
 * attempt), so the job that retries after a crash replays Stripe's first answer instead of charging twice.
 */

export type RenewalCharge =
  | { ok: true; paymentIntentId: string | null; chargeId: string | null }
  | { ok: false; message: string; code: string | null }

/** Stripe did not answer (network, 5xx, rate limit): the outcome is unknown, the job retries the same attempt. */
export class RenewalChargeUnavailable extends Error {
  override name = 'RenewalChargeUnavailable'
}

export interface RenewalChargeInput {
  orderId: string
  subscriptionId: string
  organizationId: string
  attempt: number
  amount: number
  currency: string
  /** Stripe: the saved payment method (`pm_…`); sandbox: the token the first payment was made with. */
  paymentMethodId: string | null
  stripeCustomerId: string | null
  description: string
}

/**
 * The sandbox's renewals: succeed, except with the tokens meant to fail (`tok_sandbox_fail_renewals`, card
 * 4000 0000 0000 9995: the first payment succeeds, every renewal is declined; and the declined card's).
 */
export function chargeRenewalOnSandbox(input: RenewalChargeInput): RenewalCharge {
  if (input.paymentMethodId === SANDBOX_TOKENS.failRenewals || input.paymentMethodId === SANDBOX_TOKENS.decline) {
    return { ok: false, message: 'Your card has insufficient funds.', code: 'insufficient_funds' }
  }
  return { ok: true, paymentIntentId: null, chargeId: null }
}

/**
 * Stripe: an off-session PaymentIntent on the saved payment method (`off_session`, `confirm`). A card that asks
 * for 3-D Secure cannot be authenticated with the buyer away: Stripe declines it (`authentication_required`),
 * and that is a failed renewal like any decline.
 */
export async function chargeRenewalOnStripe(settings: StripeSettings, apiUrl: string | undefined, input: RenewalChargeInput): Promise<RenewalCharge> {
  if (!input.paymentMethodId || !input.stripeCustomerId) return { ok: false, message: 'No saved payment method to charge.', code: 'payment_method_missing' }
  const stripe = stripeClient(settings.secretKey, { apiUrl })
  try {
    const pi = await stripe.paymentIntents.create(
      {
        amount: input.amount,
        currency: input.currency,
        customer: input.stripeCustomerId,
        payment_method: input.paymentMethodId,
        off_session: true,
        confirm: true,
        description: input.description.slice(0, 1000),
        metadata: { order_id: input.orderId, subscription_id: input.subscriptionId, organization_id: input.organizationId, attempt: String(input.attempt), source: 'kassa', kind: 'renewal' },
      },
      { idempotencyKey: `kassa-renewal-${input.orderId}-attempt-${input.attempt}` },
    )
    if (pi.status === 'succeeded' || pi.status === 'processing') {
      return { ok: true, paymentIntentId: pi.id, chargeId: typeof pi.latest_charge === 'string' ? pi.latest_charge : (pi.latest_charge?.id ?? null) }
    }
    return { ok: false, message: pi.last_payment_error?.message ?? 'The renewal payment was not completed.', code: pi.last_payment_error?.decline_code ?? pi.last_payment_error?.code ?? pi.status }
  } catch (err) {
    // Another worker's request with this key still running, or a clash: the outcome is not known yet.
    if (err instanceof Stripe.errors.StripeIdempotencyError || (err instanceof Stripe.errors.StripeError && (err.statusCode === 409 || err.code === 'idempotency_key_in_use'))) {
      throw new RenewalChargeUnavailable(`${err.type}: ${err.message}`)
    }
    if (err instanceof Stripe.errors.StripeCardError || err instanceof Stripe.errors.StripeInvalidRequestError) {
      return { ok: false, message: stripeMessage(err), code: err.decline_code ?? err.code ?? null }
    }
    if (err instanceof Stripe.errors.StripeAuthenticationError || err instanceof Stripe.errors.StripePermissionError) {
      return { ok: false, message: 'The shop\'s Stripe key was refused.', code: err.type }
    }
    if (err instanceof Stripe.errors.StripeError) throw new RenewalChargeUnavailable(`${err.type}: ${err.message}`)
    throw err
  }
}
