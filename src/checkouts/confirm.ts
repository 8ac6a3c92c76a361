import type { Deps } from '../deps'
import { DiscountRedemptionLimitReached, PaymentError, RequestValidationError, ResourceNotFound, type ValidationIssue } from '../http/errors'
import { enqueue } from '../jobs/queue'
import { sandboxProcessor } from '../payments/processor'
import type { StripeAttempt } from '../payments/stripe'
import { processorSettingsFor, type StripeSettings } from '../payment-settings/service'
import { findCustomerByEmail } from '../customers/repository'
import { payOnStripe, scheduleReconciliation } from './stripe-confirm'
import { isFilled } from '../custom-fields/values'
import { customerLimitReached, redeemDiscount } from '../discounts/service'
import { applyChanges } from './changes'
import { activeTrial, assertOpen, billingAddressFields, type AddressField, discountTerms, isDiscountApplicableTo, loadContext, priceColumns, selectedProduct, type CheckoutContext, type CheckoutRow } from './context'
import { SETTLE_JOB } from './job-kinds'
import { withDiscountCodeAttempt, type BuyerMeta } from './discount-attempts'
import { isDiscountApplicable } from './pricing'
import { checkoutUrl, emitCheckoutEvent, toCheckoutPublic } from './present'
import * as repo from './repository'
import type { CheckoutConfirm, CheckoutPublic } from './schemas'

type D = Pick<Deps, 'db' | 'clock' | 'config' | 'payments' | 'wakeWorker'>

const required = (...loc: (string | number)[]): ValidationIssue => ({ loc: ['body', ...loc], msg: 'Field is required.', type: 'missing', input: null })

/**
 * What must be right before paying, all reported in one 422 as Polar's `_confirm_inner` does: the price
 * still on sale, the email, the product's required custom fields, the billing address the session asks
 * for (see `billingAddressFields`), a billing name for a business, and a payment token when money is due.
 */
function confirmIssues(row: CheckoutRow, ctx: CheckoutContext, paymentForm: boolean, token: string | null | undefined): ValidationIssue[] {
  const issues: ValidationIssue[] = []
  if (ctx.archivedPrice?.id === row.product_price_id) issues.push({ loc: ['body', 'product_price_id'], msg: 'Price is archived.', type: 'value_error', input: row.product_price_id })
  if (!row.customer_email) issues.push(required('customer_email'))
  for (const { custom_field: field, required: needed } of selectedProduct(row, ctx)?.attached_custom_fields ?? []) {
    const value = row.custom_field_data[field.slug]
    if (!needed || isFilled(field, value)) continue
    const loc = ['body', 'custom_field_data', field.slug]
    issues.push(field.type === 'checkbox' && value === false ? { loc, msg: 'Input should be True', type: 'literal_error', input: false, ctx: { expected: 'True' } } : { loc, msg: 'Field required', type: 'missing', input: row.custom_field_data })
  }
  const address = row.customer_billing_address
  if (paymentForm) {
    const modes = billingAddressFields(row)
    if (!address && modes.country === 'required') issues.push(required('customer_billing_address'))
    for (const [field, mode] of Object.entries(modes) as [AddressField, string][]) {
      if (mode === 'required' && !address?.[field]) issues.push(required('customer_billing_address', field))
    }
  }
  if ((row.require_billing_address || row.is_business_customer) && !(address?.line1 || address?.line2 || address?.city || address?.postal_code)) {
    issues.push({ loc: ['body', 'customer_billing_address'], msg: 'Full billing address is required.', type: 'value_error', input: address })
  }
  if (row.is_business_customer && !row.customer_billing_name) issues.push(required('customer_billing_name'))
  if (paymentForm && !token) issues.push({ loc: ['body', 'confirmation_token_id'], msg: 'Confirmation token is required.', type: 'missing', input: null })
  return issues
}

class DiscountExhausted extends Error {
  constructor(readonly discountId: string) {
    super('discount no longer redeemable')
  }
}

/** Phase one's answer: done (sandbox, nothing due), or a Stripe attempt to make outside the transaction. */
type Claimed =
  | { kind: 'done'; checkout: CheckoutPublic }
  | { kind: 'stripe'; checkout: CheckoutPublic; settings: StripeSettings; attempt: StripeAttempt }

/**
 * The buyer pays. Phase one, in one transaction under the session's row lock: checks the session is
 * complete, reserves the discount redemption and marks the session `confirmed`, so a second confirm finds it
 * no longer open and can never make a second order. With the sandbox (no network) the payment is authorized
 * in that transaction and settlement queued. With Stripe, the lock is released before Stripe is called
 * (stripe-confirm.ts): the PaymentIntent is created and confirmed, then its outcome recorded in a second
 * transaction: settled, waiting for 3-D Secure, or declined (a 400, and the session open again).
 */
export async function confirmCheckout(deps: D, clientSecret: string, input: CheckoutConfirm, meta: BuyerMeta = {}): Promise<CheckoutPublic & { status: 'confirmed'; customer_session_token: null }> {
  const claimed = await claimForPayment(deps, clientSecret, input, meta)
  if (claimed.kind === 'done') {
    deps.wakeWorker?.()
    return { ...claimed.checkout, status: 'confirmed', customer_session_token: null }
  }
  const recorded = await payOnStripe(deps, claimed.settings, claimed.attempt)
  return { ...recorded, status: 'confirmed', customer_session_token: null }
}

async function claimForPayment(deps: D, clientSecret: string, input: CheckoutConfirm, meta: BuyerMeta): Promise<Claimed> {
  const processor = deps.payments ?? sandboxProcessor
  const { confirmation_token_id: token, ...changes } = input
  try {
    return await withDiscountCodeAttempt(deps, clientSecret, changes.discount_code, meta, () => deps.db.transaction().execute(async (tx): Promise<Claimed> => {
      const now = deps.clock.now()
      const row = await repo.findCheckoutBySecret(tx, clientSecret, { forUpdate: true })
      if (!row) throw new ResourceNotFound()
      assertOpen(row, now, 'buyer')
      const { patch, row: next, ctx } = await applyChanges(tx, row, await loadContext(tx, row), changes, now, { merchant: false })

      // A discount that fits this product and currency but has ended or been used up since it was
      // applied (the totals above already dropped it) is refused, not silently charged at full price.
      const terms = next.discount_id && ctx.discount ? discountTerms(ctx.discount) : null
      const redeem = terms !== null && isDiscountApplicable({ ...terms, ends_at: null, max_redemptions: null }, next.product_id, next.currency, now)
      if (redeem && !isDiscountApplicableTo(next, ctx, now)) throw new DiscountExhausted(next.discount_id!)

      const product = selectedProduct(next, ctx)
      const trial = activeTrial(next, product)
      const due = next.total_amount > 0 && !trial
      // a trial still needs a card to charge later: the payment form is needed whenever there is a total
      const paymentForm = next.total_amount > 0
      const issues = confirmIssues(next, ctx, paymentForm, token)
      if (issues.length) throw new RequestValidationError(issues)

      // Polar checks the per-customer limit before any payment is made, under a lock that serializes the
      // buyer's concurrent confirms (here the discount's row: see customerLimitReached).
      if (redeem && (await customerLimitReached(tx, ctx.discount!, next.id, next.customer_email))) throw new DiscountRedemptionLimitReached()

      const settings = await processorSettingsFor(deps, next.organization_id, tx)
      const onStripe = settings.processor === 'stripe' && paymentForm && token
      let paymentMethodType: string | null = null
      if (token && !onStripe) {
        const auth = await processor.authorize({ token, amount: due ? next.total_amount : 0, currency: next.currency, checkoutId: next.id })
        if (!auth.ok) throw new PaymentError(auth.message)
        paymentMethodType = auth.paymentMethodType ?? next.payment_method_type ?? 'card'
      }
      // The conditional update settles the race between concurrent confirms (see redeemDiscount).
      if (redeem && !(await redeemDiscount(tx, next.discount_id!, next.id, now))) throw new DiscountExhausted(next.discount_id!)
      const attempt = next.payment_attempt + 1
      const stripePatch = onStripe
        ? { processor: 'stripe', livemode: settings.livemode, payment_attempt: attempt, payment_intent_id: null, payment_processor_metadata: JSON.stringify({ publishable_key: settings.publishableKey }) }
        : { processor: settings.processor === 'stripe' && !paymentForm ? 'stripe' : 'sandbox', livemode: settings.livemode }
      const saved = await repo.updateCheckout(tx, next.id, { ...patch, ...stripePatch, payment_method_type: onStripe ? (next.payment_method_type ?? 'card') : paymentMethodType, status: 'confirmed', confirmed_at: now, modified_at: now })
      await emitCheckoutEvent(tx, deps, 'checkout.updated', saved, now, ctx)
      const checkout = await toCheckoutPublic({ ...deps, db: tx as never }, saved, ctx, now)
      if (!onStripe) {
        await enqueue(tx, { kind: SETTLE_JOB, payload: { checkout_id: next.id, token: token ?? null }, dedupeKey: `${SETTLE_JOB}:${next.id}` }, now)
        return { kind: 'done', checkout }
      }
      const known = next.customer_email ? await findCustomerByEmail(tx, next.organization_id, next.customer_email) : undefined
      const stripeAttempt: StripeAttempt = {
        checkoutId: next.id,
        checkoutLinkId: next.checkout_link_id,
        organizationId: next.organization_id,
        attempt,
        mode: due ? 'payment' : 'setup',
        amount: next.total_amount,
        currency: next.currency,
        confirmationToken: token,
        saveForLater: product?.is_recurring ?? false,
        customer: { stripeId: known?.stripe_customer_id ?? next.stripe_customer_id, email: next.customer_email!, name: next.customer_billing_name ?? next.customer_name },
        description: product?.name ?? 'Checkout',
        returnUrl: `${checkoutUrl(deps.config, next.client_secret)}/confirmation`,
      }
      // Written with the claim, so a crash during the call to Stripe still leaves a way back: the
      // reconciliation replays this attempt (same idempotency key) and records what Stripe did.
      await scheduleReconciliation(tx, deps, stripeAttempt, now)
      return { kind: 'stripe', checkout, settings, attempt: stripeAttempt }
    }))
  } catch (err) {
    if (!(err instanceof DiscountExhausted)) throw err
    // The discount ran out between page load and payment: drop it so the buyer sees the real total.
    await dropDiscount(deps, clientSecret)
    throw new RequestValidationError([{ loc: ['body', 'discount_id'], msg: 'Discount is no longer redeemable.', type: 'value_error', input: err.discountId }])
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

