import Stripe from 'stripe'
import { recordOutcomeIn } from '../checkouts/stripe-confirm'
import { isUuid } from '../db/helpers'
import type { Deps } from '../deps'
import { ApiError, BadRequest, ResourceNotFound } from '../http/errors'
import { findOrganizationById } from '../organizations/repository'
import { findOrderByStripePayment } from '../orders/repository'
import { recordDispute } from '../orders/service'
import { recordProcessorRefundUpdate, recordProcessorRefunds } from '../refunds/service'
import { intentOutcome } from '../payments/stripe'
import { stripeClient } from '../payments/stripe-client'
import { stripeSettingsOf } from '../payment-settings/service'
import { findCheckoutById } from '../checkouts/repository'
import { insertEventOnce } from './repository'

/**
 * Stripe's webhooks to Kassa, one endpoint per organization (`/v1/integrations/stripe/webhook/{organization
 * id}`, under Polar's path): the signature is verified with the organization's signing secret
 * (`webhooks.constructEvent`), each event is handled once (its id is stored in the transaction that handles
 * it, so a repeated delivery, or the same delivery to two processes, does nothing the second time), and a
 * handler that fails rolls the id back with it, so Stripe's retry runs it again.
 */

type D = Pick<Deps, 'db' | 'clock' | 'config' | 'payments' | 'wakeWorker'>

/** 409: the event is about a payment whose order is still being made; Stripe retries it later. */
export class StripeEventNotReady extends ApiError {
  constructor(message: string) {
    super(409, 'StripeEventNotReady', message)
  }
}

export const HANDLED_EVENTS = [
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.processing',
  'payment_intent.requires_action',
  'payment_intent.canceled',
  'setup_intent.succeeded',
  'setup_intent.setup_failed',
  'charge.refunded',
  'charge.refund.updated',
  'refund.updated',
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
] as const

export type StripeWebhookResult = { received: true; handled: boolean; duplicate?: boolean }

export async function handleStripeWebhook(deps: D, organizationId: string, rawBody: Buffer | undefined, signature: string | undefined): Promise<StripeWebhookResult> {
  if (!isUuid(organizationId) || !(await findOrganizationById(deps.db, organizationId))) throw new ResourceNotFound()
  // The organization's Stripe account even when it pays with the sandbox now: payments made before the switch still report in.
  const settings = await stripeSettingsOf(deps, organizationId)
  if (!settings || !settings.webhookSecret) throw new BadRequest('Stripe webhooks are not set up for this organization: set its webhook signing secret in the payment settings.')
  if (!rawBody || !signature) throw new BadRequest('Missing Stripe-Signature header or body.')
  let event: Stripe.Event
  try {
    event = stripeClient(settings.secretKey, { apiUrl: deps.config.stripeApiUrl }).webhooks.constructEvent(rawBody, signature, settings.webhookSecret)
  } catch {
    // Stripe's own message would tell a forger what was checked; say only that it failed.
    throw new BadRequest('Invalid Stripe webhook signature.')
  }
  // A test-mode event on a live-mode organization (or the reverse) is not about its payments.
  if (event.livemode !== settings.livemode || !(HANDLED_EVENTS as readonly string[]).includes(event.type)) return { received: true, handled: false }

  let settle = false
  const outcome = await deps.db.transaction().execute(async (tx): Promise<StripeWebhookResult> => {
    const now = deps.clock.now()
    if (!(await insertEventOnce(tx, { organization_id: organizationId, id: event.id, type: event.type, livemode: event.livemode, received_at: now }))) return { received: true, handled: false, duplicate: true }
    switch (event.type) {
      case 'payment_intent.succeeded':
      case 'payment_intent.payment_failed':
      case 'payment_intent.processing':
      case 'payment_intent.requires_action':
      case 'payment_intent.canceled':
      case 'setup_intent.succeeded':
      case 'setup_intent.setup_failed': {
        const intent = event.data.object
        if (!intent || typeof intent !== 'object') return { received: true, handled: false }
        const { checkout_id: checkoutId, attempt, organization_id: org } = intent.metadata ?? {}
        if (!checkoutId || !isUuid(checkoutId) || org !== organizationId) return { received: true, handled: false }
        const recorded = await recordOutcomeIn(tx, deps, { checkoutId, attempt: attempt && /^\d+$/.test(attempt) ? Number(attempt) : null, organizationId }, intentOutcome(intent))
        settle = recorded.settle === true
        return { received: true, handled: recorded.acted }
      }
      case 'charge.refunded': {
        const charge = event.data.object
        if (!charge || typeof charge !== 'object') return { received: true, handled: false }
        const order = await orderOf(tx, organizationId, charge.payment_intent, charge.id, charge.metadata)
        if (!order) return { received: true, handled: false }
        const refunds = charge.refunds?.data.map((r) => ({ id: r.id, amount: r.amount, status: r.status, metadata: r.metadata }))
        return { received: true, handled: await recordProcessorRefunds(tx, order, { amountRefunded: charge.amount_refunded, refunds }, now) }
      }
      case 'charge.refund.updated':
      case 'refund.updated': {
        const refund = event.data.object
        if (!refund || typeof refund !== 'object') return { received: true, handled: false }
        const order = await orderOf(tx, organizationId, refund.payment_intent, refund.charge, null)
        if (!order) return { received: true, handled: false }
        const update = { id: refund.id, status: refund.status, metadata: refund.metadata, failureReason: refund.failure_reason ?? null }
        return { received: true, handled: await recordProcessorRefundUpdate(tx, order, update, now) }
      }
      case 'charge.dispute.created':
      case 'charge.dispute.updated':
      case 'charge.dispute.closed': {
        const dispute = event.data.object
        if (!dispute || typeof dispute !== 'object') return { received: true, handled: false }
        const order = await orderOf(tx, organizationId, dispute.payment_intent, dispute.charge, null)
        if (!order) return { received: true, handled: false }
        const d = { id: dispute.id, status: dispute.status, amount: dispute.amount, reason: dispute.reason ?? null, createdAt: new Date(dispute.created * 1000) }
        return { received: true, handled: (await recordDispute(tx, order, d, now)) !== null }
      }
      default:
        return { received: true, handled: false }
    }
  })
  if (settle) deps.wakeWorker?.()
  return outcome
}

const refId = (v: string | { id: string } | null | undefined) => (v == null ? null : typeof v === 'string' ? v : v.id)

/**
 * The order of a Stripe payment. A payment of a Kassa session whose order is not made yet (settlement is a job
 * away) is a 409, so Stripe delivers the event again; a payment Kassa did not make is ignored.
 */
async function orderOf(tx: Parameters<typeof findOrderByStripePayment>[0], organizationId: string, intent: string | { id: string } | null, charge: string | { id: string } | null, metadata: Record<string, string> | null) {
  const order = await findOrderByStripePayment(tx, organizationId, { paymentIntentId: refId(intent), chargeId: refId(charge) })
  if (order) return order
  const checkoutId = metadata?.checkout_id
  if (checkoutId && isUuid(checkoutId) && metadata?.organization_id === organizationId) {
    const checkout = await findCheckoutById(tx, checkoutId)
    if (checkout && checkout.organization_id === organizationId && checkout.status === 'confirmed') throw new StripeEventNotReady('The order of this payment is being made; deliver the event again.')
  }
  return undefined
}
