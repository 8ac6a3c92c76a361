import type { NewRow } from '../db/types'
import type { Executor } from '../db/index'
import type { Deps } from '../deps'
import { ResourceNotFound } from '../http/errors'
import { iso, isoOrNull } from '../http/schemas'
import { addInterval } from '../lib/time'
import { getOrganization } from '../organizations/service'
import type { EmbeddedProduct as Product } from '../products/service'
import { emitEvent, type WebhookEventType } from '../webhooks/service'
import { activeTrial, billingAddressFields, isDiscountApplicableTo, loadContext, priceColumns, selectedPrice, selectedProduct, statusAt, type CheckoutContext, type CheckoutRow } from './context'
import type { Checkout, CheckoutPublic } from './schemas'

/** How a session is shown: the merchant's view, the buyer's view, and its webhook events. */

export const checkoutUrl = (config: Deps['config'], clientSecret: string) => `${config.publicUrl}/checkout/${clientSecret}`

export function successUrl(config: Deps['config'], row: Pick<CheckoutRow, 'id' | 'client_secret' | 'success_url'>): string {
  const url = row.success_url ?? `${checkoutUrl(config, row.client_secret)}/confirmation`
  return url.replaceAll('{CHECKOUT_ID}', row.id)
}

function checkoutProduct(p: Product) {
  const { attached_custom_fields: _omit, ...rest } = p
  return rest
}

/** The buyer's and the merchant's shared view of a session. */
function toCheckoutBase(deps: Pick<Deps, 'config'>, stored: CheckoutRow, ctx: CheckoutContext, now: Date) {
  // An open session shows today's totals: a discount that ended (or was used up, or deleted) since
  // the last change no longer counts, exactly as confirm would compute it. Paid sessions keep theirs.
  const row: CheckoutRow =
    statusAt(stored, now) === 'open' && selectedPrice(stored, ctx) ? { ...stored, ...priceColumns(stored, ctx, now) } : stored
  const product = selectedProduct(row, ctx) ?? null
  const price = selectedPrice(row, ctx) ?? null
  const trial = activeTrial(row, product ?? undefined)
  const isFree = price?.amount_type === 'fixed' && price.price_amount === 0
  const paymentRequired = row.total_amount > 0 && !trial
  const setupRequired = Boolean(product?.is_recurring) && row.total_amount > 0 && Boolean(trial)
  return {
    id: row.id,
    created_at: iso(row.created_at),
    modified_at: isoOrNull(row.modified_at),
    custom_field_data: row.custom_field_data,
    payment_processor: 'stripe' as const,
    status: statusAt(row, now),
    client_secret: row.client_secret,
    url: checkoutUrl(deps.config, row.client_secret),
    expires_at: iso(row.expires_at),
    success_url: successUrl(deps.config, row),
    return_url: row.return_url,
    embed_origin: row.embed_origin,
    amount: row.amount,
    seats: row.seats,
    min_seats: null,
    max_seats: null,
    discount_amount: row.discount_amount,
    net_amount: row.net_amount,
    tax_amount: row.tax_amount,
    tax_behavior: null,
    total_amount: row.total_amount,
    currency: row.currency,
    units: null,
    min_units: null,
    max_units: null,
    payment_method_type: row.payment_method_type,
    allow_trial: row.allow_trial,
    active_trial_interval: trial?.interval ?? null,
    active_trial_interval_count: trial?.count ?? null,
    trial_end: trial ? iso(addInterval(now, trial.interval, trial.count)) : null,
    organization_id: row.organization_id,
    product_id: row.product_id,
    product_price_id: row.product_price_id,
    discount_id: row.discount_id,
    allow_discount_codes: row.allow_discount_codes,
    require_billing_address: row.require_billing_address,
    is_discount_applicable: isDiscountApplicableTo(row, ctx, now),
    is_free_product_price: isFree,
    is_payment_required: paymentRequired,
    is_payment_setup_required: setupRequired,
    is_payment_form_required: paymentRequired || setupRequired,
    customer_id: row.customer_id,
    is_business_customer: row.is_business_customer,
    customer_name: row.customer_name,
    customer_email: row.customer_email,
    customer_ip_address: row.customer_ip_address,
    customer_billing_name: row.customer_billing_name,
    customer_billing_address: row.customer_billing_address,
    customer_tax_id: row.customer_tax_id,
    locale: row.locale,
    payment_processor_metadata: row.payment_processor_metadata ?? {},
    livemode: row.livemode,
    billing_address_fields: billingAddressFields(row),
    products: ctx.products.map(checkoutProduct),
    product: product ? checkoutProduct(product) : null,
    product_price: price,
    prices: Object.fromEntries(ctx.products.map((p) => [p.id, p.prices])),
    discount: ctx.discount,
    attached_custom_fields: product?.attached_custom_fields ?? [],
  }
}

export function toCheckout(deps: Pick<Deps, 'config'>, row: CheckoutRow, ctx: CheckoutContext, now: Date): Checkout {
  return {
    ...toCheckoutBase(deps, row, ctx, now),
    trial_interval: row.trial_interval,
    trial_interval_count: row.trial_interval_count,
    metadata: row.metadata,
    external_customer_id: row.external_customer_id,
    subscription_id: null,
    customer_metadata: row.customer_metadata,
    checkout_link_id: row.checkout_link_id,
  } as Checkout
}

type OrganizationRow = NonNullable<Awaited<ReturnType<typeof getOrganization>>>

/** `org`: the session's organization when the caller has it already (one read fewer). */
export async function toCheckoutPublic(deps: Pick<Deps, 'config' | 'db'>, row: CheckoutRow, ctx: CheckoutContext, now: Date, preloaded?: OrganizationRow): Promise<CheckoutPublic> {
  const org = preloaded ?? (await getOrganization(deps, row.organization_id))
  if (!org) throw new ResourceNotFound()
  return {
    ...toCheckoutBase(deps, row, ctx, now),
    organization: {
      created_at: iso(org.created_at),
      modified_at: isoOrNull(org.modified_at),
      id: org.id,
      name: org.name,
      slug: org.slug,
      avatar_url: null,
      proration_behavior: 'invoice',
      allow_customer_updates: false,
    },
  } as CheckoutPublic
}

/**
 * A `checkout.*` webhook event for a session, inside the caller's transaction. The payload (the
 * merchant's view of the session) is only built when an endpoint listens.
 */
export function emitCheckoutEvent(
  tx: Executor,
  deps: Pick<Deps, 'config'>,
  type: Extract<WebhookEventType, `checkout.${string}`>,
  row: CheckoutRow,
  now: Date,
  ctx?: CheckoutContext,
): Promise<void> {
  return emitEvent(tx, { organizationId: row.organization_id, type, data: async () => toCheckout(deps, row, ctx ?? (await loadContext(tx, row)), now), now })
}

/** JSON columns are written as text. */
export function rowForInsert(row: CheckoutRow): NewRow<'checkouts'> {
  return {
    ...row,
    metadata: JSON.stringify(row.metadata),
    custom_field_data: JSON.stringify(row.custom_field_data),
    customer_metadata: JSON.stringify(row.customer_metadata),
    payment_processor_metadata: JSON.stringify(row.payment_processor_metadata),
    customer_billing_address: row.customer_billing_address ? JSON.stringify(row.customer_billing_address) : null,
  }
}

