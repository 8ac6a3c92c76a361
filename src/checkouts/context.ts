import type { Executor } from '../db/index'
import type { CheckoutStatus } from '../db/types'
import type { Discount } from '../discounts/schemas'
import { getDiscountsByIds } from '../discounts/service'
import { ExpiredCheckoutError, NotOpenCheckout } from '../http/errors'
import type { ProductPrice } from '../products/schemas'
import type { EmbeddedProduct as Product } from '../products/service'
import { getPricesByIds, getProductsByIds } from '../products/service'
import { computeAmounts, baseAmount, isDiscountApplicable, type DiscountTerms, type PriceTerms } from './pricing'
import type * as repo from './repository'

export type CheckoutRow = repo.CheckoutRow

export const CHECKOUT_SECRET_PREFIX = 'polar_c_'

/**
 * What a session's answers are computed from: its products (with their live prices and fields), its
 * discount, and its own price when the merchant has since archived or replaced it (the session keeps
 * the price it was opened with, as Polar's does).
 */
export interface CheckoutContext {
  products: Product[]
  discount: Discount | null
  /** The session's selected price when it is no longer among its product's live prices. */
  archivedPrice?: ProductPrice
}

type ContextRow = Pick<CheckoutRow, 'organization_id' | 'product_ids' | 'discount_id' | 'product_price_id' | 'ad_hoc_price_ids'>

/**
 * The contexts of several sessions of one organization in one batch: one read of the products (with
 * prices and fields) and one of the discounts, however many sessions, plus one of archived prices
 * only when a session still holds one. Lists use this, so a page of sessions is not N+1 queries.
 */
export async function loadContexts(db: Executor, rows: ContextRow[]): Promise<CheckoutContext[]> {
  if (rows.length === 0) return []
  const organizationId = rows[0]!.organization_id
  const [products, discounts] = await Promise.all([
    getProductsByIds(db, organizationId, [...new Set(rows.flatMap((r) => r.product_ids))]),
    getDiscountsByIds(db, organizationId, rows.flatMap((r) => (r.discount_id ? [r.discount_id] : []))),
  ])
  const productById = new Map(products.map((p) => [p.id, p]))
  // Ad-hoc prices and prices archived since a session opened are read in one batch, only when a session has them.
  const adHocIds = new Set(rows.flatMap((r) => r.ad_hoc_price_ids ?? []))
  const livePrice = new Set([...products.flatMap((p) => p.prices.map((price) => price.id)), ...adHocIds])
  const missing = [...new Set(rows.flatMap((r) => (r.product_price_id && !livePrice.has(r.product_price_id) ? [r.product_price_id] : [])))]
  const extra = new Map((missing.length || adHocIds.size ? await getPricesByIds(db, organizationId, [...missing, ...adHocIds]) : []).map((p) => [p.id, p]))
  const archived = new Map(missing.flatMap((id) => (extra.has(id) ? [[id, extra.get(id)!] as const] : [])))
  const discountById = new Map(discounts.map((d) => [d.id, d]))
  return rows.map((r) => ({
    products: r.product_ids.flatMap((id) => (productById.has(id) ? [withAdHocPrices(productById.get(id)!, r.ad_hoc_price_ids ?? [], extra)] : [])),
    discount: (r.discount_id && discountById.get(r.discount_id)) || null,
    ...(r.product_price_id && archived.has(r.product_price_id) ? { archivedPrice: archived.get(r.product_price_id)! } : {}),
  }))
}

/** In a session with ad-hoc prices for the product, those are its prices there (Polar's `CheckoutProduct.ad_hoc_prices`). */
export function withAdHocPrices(product: Product, adHocIds: readonly string[], prices: Map<string, ProductPrice>): Product {
  if (adHocIds.length === 0) return product
  const own = adHocIds.flatMap((id) => (prices.get(id)?.product_id === product.id ? [prices.get(id)!] : []))
  return own.length ? { ...product, prices: own } : product
}

export async function loadContext(db: Executor, row: ContextRow): Promise<CheckoutContext> {
  return (await loadContexts(db, [row]))[0]!
}

export function discountTerms(d: Discount): DiscountTerms {
  return {
    id: d.id,
    type: d.type,
    basis_points: d.type === 'percentage' ? d.basis_points : null,
    amount: d.type === 'fixed' ? d.amount : null,
    currency: d.type === 'fixed' ? d.currency : null,
    starts_at: d.starts_at,
    ends_at: d.ends_at,
    max_redemptions: d.max_redemptions,
    redemptions_count: d.redemptions_count,
    product_ids: d.products.map((p) => p.id),
  }
}

/** Readers never see an open session past its expiry, whether or not the expiry job has run. */
export function statusAt(row: Pick<CheckoutRow, 'status' | 'expires_at'>, now: Date): CheckoutStatus {
  return row.status === 'open' && new Date(row.expires_at) <= now ? 'expired' : row.status
}

/**
 * A session can only change while open and unexpired, with Polar's answers: the buyer's routes find a
 * session past its expiry gone (410 `ExpiredCheckoutError`, `get_by_client_secret`); any other status, and
 * for the merchant an expired one too, is 403 `NotOpenCheckout` naming the status (`_update_checkout`).
 */
export function assertOpen(row: Pick<CheckoutRow, 'id' | 'status' | 'expires_at'>, now: Date, by: 'buyer' | 'merchant'): void {
  const status = statusAt(row, now)
  if (status === 'open') return
  if (status === 'expired' && by === 'buyer') throw new ExpiredCheckoutError()
  throw new NotOpenCheckout(`Checkout ${row.id} is not open: ${status}`)
}

/** The buyer's routes never show a session past its expiry: it is gone for them (Polar answers 410). */
export function assertNotExpired(row: Pick<CheckoutRow, 'status' | 'expires_at'>, now: Date): void {
  if (statusAt(row, now) === 'expired') throw new ExpiredCheckoutError()
}

export function selectedProduct(row: Pick<CheckoutRow, 'product_id'>, ctx: CheckoutContext): Product | undefined {
  return ctx.products.find((p) => p.id === row.product_id)
}

export function selectedPrice(row: Pick<CheckoutRow, 'product_price_id'>, ctx: CheckoutContext): ProductPrice | undefined {
  for (const p of ctx.products) for (const price of p.prices) if (price.id === row.product_price_id) return price
  return ctx.archivedPrice?.id === row.product_price_id ? ctx.archivedPrice : undefined
}

/** The trial this session would start: the session's (link) override, else the product's. */
export function activeTrial(row: Pick<CheckoutRow, 'allow_trial' | 'trial_interval' | 'trial_interval_count'>, product: Product | undefined) {
  if (!product?.is_recurring || !row.allow_trial) return null
  const interval = row.trial_interval ?? product.trial_interval
  const count = row.trial_interval ? row.trial_interval_count : product.trial_interval_count
  return interval && count ? { interval, count } : null
}

export function priceTerms(price: ProductPrice): PriceTerms {
  return price.amount_type === 'fixed'
    ? { amount_type: 'fixed', price_currency: price.price_currency, price_amount: price.price_amount, minimum_amount: null, maximum_amount: null, preset_amount: null }
    : { amount_type: 'custom', price_currency: price.price_currency, price_amount: null, minimum_amount: price.minimum_amount, maximum_amount: price.maximum_amount, preset_amount: price.preset_amount }
}

export function isDiscountApplicableTo(row: Pick<CheckoutRow, 'product_id' | 'currency'>, ctx: CheckoutContext, now: Date): boolean {
  return Boolean(ctx.discount && isDiscountApplicable(discountTerms(ctx.discount), row.product_id, row.currency, now))
}

/**
 * Recomputes the money columns from the selected price, the chosen amount and the discount. A session
 * whose price is gone altogether (only possible for a row written by hand) keeps the columns it has.
 */
export function priceColumns(
  row: Pick<CheckoutRow, 'product_id' | 'product_price_id' | 'amount' | 'currency' | 'discount_amount' | 'net_amount' | 'tax_amount' | 'total_amount'>,
  ctx: CheckoutContext,
  now: Date,
): Pick<CheckoutRow, 'amount' | 'discount_amount' | 'net_amount' | 'tax_amount' | 'total_amount' | 'currency'> {
  const price = selectedPrice(row, ctx)
  if (!price) {
    const { amount, discount_amount, net_amount, tax_amount, total_amount, currency } = row
    return { amount, discount_amount, net_amount, tax_amount, total_amount, currency }
  }
  const amount = baseAmount(priceTerms(price), row.amount)
  const discount = ctx.discount && isDiscountApplicable(discountTerms(ctx.discount), row.product_id, price.price_currency, now) ? ctx.discount : null
  return { ...computeAmounts(amount, discount ? discountTerms(discount) : null), currency: price.price_currency }
}

export type FieldMode = 'required' | 'optional' | 'disabled'
export type AddressField = 'country' | 'state' | 'line1' | 'line2' | 'city' | 'postal_code'

/** The full address is asked for: by the link or merchant, for a business, or (Polar's rule) for a US buyer. */
export const needsFullAddress = (row: Pick<CheckoutRow, 'require_billing_address' | 'is_business_customer' | 'customer_billing_address'>) =>
  row.require_billing_address || row.is_business_customer || row.customer_billing_address?.country === 'US'

/**
 * Which billing address fields the buyer must fill, as Polar's `Checkout.billing_address_fields`: a full
 * address when `needsFullAddress`, a state for the US and Canada. One difference, on purpose: Polar always
 * requires the country, which it fills from the buyer's IP address; Kassa does no IP geolocation, so the
 * country is required only with a full address (or once given).
 */
export function billingAddressFields(row: Pick<CheckoutRow, 'require_billing_address' | 'is_business_customer' | 'customer_billing_address'>): Record<AddressField, FieldMode> {
  const country = row.customer_billing_address?.country ?? null
  const full = needsFullAddress(row)
  const line: FieldMode = full ? 'required' : 'disabled'
  return {
    country: full || country ? 'required' : 'optional',
    state: country === 'US' || country === 'CA' ? 'required' : full ? 'optional' : 'disabled',
    line1: line,
    line2: full ? 'optional' : 'disabled',
    city: line,
    postal_code: line,
  }
}
