import { parseFieldValue } from '../custom-fields/values'
import type { Executor } from '../db/index'
import type { NewRow } from '../db/types'
import { findDiscountByCode, getDiscountById } from '../discounts/service'
import type { Discount } from '../discounts/schemas'
import { RequestValidationError, fieldError, type ValidationIssue } from '../http/errors'
import { matchLocale } from '../lib/locales'
import { baseAmount, customAmountIssue, isDiscountApplicable } from './pricing'
import { discountTerms, priceColumns, priceTerms, selectedPrice, selectedProduct, type CheckoutContext, type CheckoutRow } from './context'
import type { CheckoutUpdate, CheckoutUpdatePublic } from './schemas'

/**
 * One set of changes to a session, from any of its callers: the merchant's create and update, the
 * buyer's client update and confirm, and the hosted page's form post, each parsed by its Zod schema first.
 */
export type Changes = Partial<Omit<CheckoutUpdate, 'allow_trial'> & Omit<CheckoutUpdatePublic, 'allow_trial'>> & {
  discount_code?: string | null
  allow_trial?: boolean | null
  min_units?: number | null
  max_units?: number | null
}

/**
 * Units, min_units and max_units belong to unit-based pricing, which no Kassa price is: any value but
 * `null` is Polar's answer for a price that is not unit-based (`checkout/service.py`), all in one 422.
 */
export function refuseUnits(changes: { units?: number | null; min_units?: number | null; max_units?: number | null }): void {
  const issues: ValidationIssue[] = []
  if (changes.units != null) issues.push({ loc: ['body', 'units'], msg: 'Units can only be set for unit-based pricing.', type: 'value_error', input: changes.units })
  if (changes.min_units != null) issues.push({ loc: ['body', 'min_units'], msg: 'min_units can only be set for unit-based pricing.', type: 'value_error', input: changes.min_units })
  if (changes.max_units != null) issues.push({ loc: ['body', 'max_units'], msg: 'max_units can only be set for unit-based pricing.', type: 'value_error', input: changes.max_units })
  if (issues.length) throw new RequestValidationError(issues)
}

export interface Applied {
  /** The columns to write (JSON columns as text); empty when nothing changed. */
  patch: Partial<NewRow<'checkouts'>>
  row: CheckoutRow
  ctx: CheckoutContext
}

const JSON_COLUMNS = new Set<keyof CheckoutRow>(['metadata', 'custom_field_data', 'customer_metadata', 'customer_billing_address'])

/**
 * Applies a set of changes to a session (in memory) and returns the columns to write, with the
 * totals recomputed. Business-rule failures are 422s on the field that caused them.
 */
export async function applyChanges(db: Executor, row: CheckoutRow, ctx: CheckoutContext, changes: Changes, now: Date, opts: { merchant: boolean }): Promise<Applied> {
  refuseUnits(changes)
  const next: CheckoutRow = { ...row }
  let context = selectProduct(next, ctx, changes, now)
  applyAmount(next, context, changes)
  context = await applyDiscount(db, next, context, changes, now, opts)
  applyCustomFields(next, context, changes)
  applyFields(next, changes, opts)

  Object.assign(next, priceColumns(next, context, now))
  // As Polar's `_reset_payment_form_fields_if_needed`: no payment form, no payment method.
  if (next.total_amount === 0) next.payment_method_type = null
  next.modified_at = now
  return { patch: diff(row, next), row: next, ctx: context }
}

/**
 * Product (or price) selection, among the session's products, with Polar's answers
 * (`checkout/service.py` `_update_checkout`). Choosing the session's own product again picks its current
 * price (how a session recovers when the merchant replaced the price it was opened with). Another product
 * clears the old one's field data, and a discount that does not apply to it is dropped, as Polar does.
 */
function selectProduct(next: CheckoutRow, ctx: CheckoutContext, changes: Changes, now: Date): CheckoutContext {
  let productId = changes.product_id ?? undefined
  if (changes.product_price_id != null && productId === undefined) {
    const owner = ctx.products.find((p) => p.prices.some((pr) => pr.id === changes.product_price_id))
    if (!owner) throw fieldError(['body', 'product_price_id'], 'Price is not available in this checkout.', changes.product_price_id)
    productId = owner.id
  }
  if (productId === undefined) return ctx
  const product = ctx.products.find((p) => p.id === productId)
  if (!product) throw fieldError(['body', 'product_id'], 'Product is not available in this checkout.', productId)
  if (product.is_archived) throw fieldError(['body', 'product_id'], 'Product is archived.', productId)
  const current = product.prices.find((p) => p.id === next.product_price_id)
  if (productId === next.product_id && current && (changes.product_price_id == null || changes.product_price_id === current.id)) return ctx
  let price = product.prices.find((p) => p.price_currency === next.currency) ?? product.prices[0]
  if (changes.product_price_id != null) {
    price = product.prices.find((p) => p.id === changes.product_price_id)
    if (!price) throw fieldError(['body', 'product_price_id'], 'Price is not available in this checkout.', changes.product_price_id)
  }
  if (!price) throw fieldError(['body', 'product_id'], 'Product is not available in the specified currency.', productId)
  if (product.id !== next.product_id) next.custom_field_data = {}
  next.product_id = product.id
  next.product_price_id = price.id
  next.currency = price.price_currency
  next.amount = baseAmount(priceTerms(price), null) // the new price's own default applies
  let discount = ctx.discount
  if (discount && !isDiscountApplicable(discountTerms(discount), product.id, price.price_currency, now)) {
    next.discount_id = null
    discount = null
  }
  return { products: ctx.products, discount }
}

/**
 * A pay-what-you-want amount, checked against the price's bounds and the currency's (Polar's
 * `validate_custom_price_amount`). 0 is a valid choice when the minimum allows it, so it is never read as
 * "unset"; an amount sent for a fixed price is ignored, as Polar does.
 */
function applyAmount(next: CheckoutRow, ctx: CheckoutContext, changes: Changes): void {
  if (changes.amount == null) return
  const price = selectedPrice(next, ctx)
  if (price?.amount_type !== 'custom') return
  const issue = customAmountIssue(priceTerms(price), changes.amount)
  if (issue) throw fieldError(['body', 'amount'], issue.msg, changes.amount, issue.type, issue.ctx)
  next.amount = changes.amount
}

/** No discount can apply to a product whose every price is free (Polar's `is_discount_applicable`). */
const isFreeProduct = (ctx: CheckoutContext, productId: string | null) => {
  const product = ctx.products.find((p) => p.id === productId)
  return Boolean(product?.prices.length) && product!.prices.every((p) => p.amount_type === 'fixed' && p.price_amount === 0)
}

/**
 * Discounts: by code (the buyer) or by id (the merchant), in Polar's words (`_get_validated_discount`):
 * every reason a code cannot be used (unknown, ended, not started, used up, other products, other currency)
 * is "Discount does not exist." with no input echoed, so the answer tells nothing about the merchant's codes.
 * On a session that takes no codes, a code is ignored, as Polar ignores it.
 */
async function applyDiscount(db: Executor, next: CheckoutRow, ctx: CheckoutContext, changes: Changes, now: Date, opts: { merchant: boolean }): Promise<CheckoutContext> {
  const validated = async (loc: 'discount_code' | 'discount_id', find: () => Promise<Discount | undefined>, input: unknown) => {
    if (isFreeProduct(ctx, next.product_id)) throw fieldError(['body', loc], 'Discounts are not applicable to this product.', input)
    const d = await find()
    if (!d || !isDiscountApplicable(discountTerms(d), next.product_id, next.currency, now)) throw fieldError(['body', loc], 'Discount does not exist.', input)
    return d
  }
  let discount = ctx.discount
  if (changes.discount_code !== undefined && next.allow_discount_codes) {
    const code = changes.discount_code?.trim()
    discount = code == null ? null : await validated('discount_code', () => findDiscountByCode(db, next.organization_id, code), null)
  }
  if (opts.merchant && changes.discount_id !== undefined) {
    const id = changes.discount_id
    discount = id === null ? null : await validated('discount_id', () => getDiscountById(db, next.organization_id, id), id)
  }
  next.discount_id = discount?.id ?? null
  return discount === ctx.discount ? ctx : { ...ctx, discount }
}

/**
 * Custom field data, checked against the selected product's fields (every bad field reported at once);
 * unknown slugs are dropped, and what is sent is merged into what the session has, as Polar does.
 */
function applyCustomFields(next: CheckoutRow, ctx: CheckoutContext, changes: Changes): void {
  if (changes.custom_field_data === undefined) return
  const sent = changes.custom_field_data
  const data: Record<string, string | number | boolean | null> = { ...next.custom_field_data }
  const issues: ValidationIssue[] = []
  for (const { custom_field: field } of selectedProduct(next, ctx)?.attached_custom_fields ?? []) {
    if (!Object.hasOwn(sent, field.slug)) continue
    const r = parseFieldValue(field, sent[field.slug])
    if (r.ok) data[field.slug] = r.value
    else issues.push({ loc: ['body', 'custom_field_data', field.slug], msg: r.msg, type: r.type, input: sent[field.slug], ...(r.ctx ? { ctx: r.ctx } : {}) })
  }
  if (issues.length) throw new RequestValidationError(issues)
  next.custom_field_data = data
}

/** The plain fields: the buyer's, then the ones only the merchant may set. */
function applyFields(next: CheckoutRow, changes: Changes, opts: { merchant: boolean }): void {
  const set = <K extends keyof CheckoutRow>(key: K, value: CheckoutRow[K] | undefined) => {
    if (value !== undefined) next[key] = value
  }
  set('customer_name', changes.customer_name)
  set('customer_email', changes.customer_email)
  set('customer_billing_name', changes.customer_billing_name)
  set('customer_billing_address', changes.customer_billing_address as CheckoutRow['customer_billing_address'])
  set('customer_tax_id', changes.customer_tax_id)
  if (changes.is_business_customer != null) next.is_business_customer = changes.is_business_customer
  if (changes.locale !== undefined) next.locale = changes.locale === null ? null : (matchLocale(changes.locale) ?? next.locale)
  if (changes.allow_trial === false) next.allow_trial = false
  if (!opts.merchant) {
    set('payment_method_type', changes.payment_method_type)
    return
  }
  if (changes.allow_trial === true) next.allow_trial = true
  set('metadata', changes.metadata)
  set('customer_metadata', changes.customer_metadata ?? undefined)
  set('customer_ip_address', changes.customer_ip_address)
  set('success_url', changes.success_url)
  set('return_url', changes.return_url)
  set('embed_origin', changes.embed_origin)
  if (changes.allow_discount_codes != null) next.allow_discount_codes = changes.allow_discount_codes
  if (changes.require_billing_address != null) next.require_billing_address = changes.require_billing_address
  if (changes.trial_interval !== undefined || changes.trial_interval_count !== undefined) {
    const interval = changes.trial_interval !== undefined ? changes.trial_interval : next.trial_interval
    const count = changes.trial_interval_count !== undefined ? changes.trial_interval_count : next.trial_interval_count
    if ((interval == null) !== (count == null)) throw fieldError(['body', 'trial_interval'], 'trial_interval and trial_interval_count must be set together.')
    next.trial_interval = interval ?? null
    next.trial_interval_count = count ?? null
  }
}

/** The columns that differ, JSON columns as text. */
function diff(row: CheckoutRow, next: CheckoutRow): Partial<NewRow<'checkouts'>> {
  const patch: Record<string, unknown> = {}
  for (const key of Object.keys(next) as (keyof CheckoutRow)[]) {
    if (next[key] === row[key]) continue
    const v = next[key]
    patch[key] = JSON_COLUMNS.has(key) ? (v === null ? null : JSON.stringify(v)) : v
  }
  return patch as Partial<NewRow<'checkouts'>>
}
