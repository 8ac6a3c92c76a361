import { parseFieldValue } from '../custom-fields/values'
import type { Executor } from '../db/index'
import type { NewRow } from '../db/types'
import { findDiscountByCode, getDiscountById } from '../discounts/service'
import { fieldError } from '../http/errors'
import { matchLocale } from '../lib/locales'
import { baseAmount, isAmountAllowed, isDiscountApplicable } from './pricing'
import { discountTerms, priceColumns, priceTerms, selectedPrice, selectedProduct, type CheckoutContext, type CheckoutRow } from './context'
import type { CheckoutUpdate, CheckoutUpdatePublic } from './schemas'

/**
 * One set of changes to a session, from any of its callers: the merchant's create and update, the
 * buyer's client update and confirm, and the hosted page's form post, each parsed by its Zod schema first.
 */
export type Changes = Partial<Omit<CheckoutUpdate, 'allow_trial'> & Omit<CheckoutUpdatePublic, 'allow_trial'>> & {
  discount_code?: string | null
  allow_trial?: boolean | null
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
  const next: CheckoutRow = { ...row }
  let context = selectProduct(next, ctx, changes)
  applyAmount(next, context, changes)
  context = await applyDiscount(db, next, context, changes, now, opts)
  applyCustomFields(next, context, changes)
  applyFields(next, changes, opts)

  Object.assign(next, priceColumns(next, context, now))
  next.modified_at = now
  return { patch: diff(row, next), row: next, ctx: context }
}

/** Product (or price) selection, among the session's products. Another product clears the old one's field data. */
function selectProduct(next: CheckoutRow, ctx: CheckoutContext, changes: Changes): CheckoutContext {
  let productId = changes.product_id ?? undefined
  if (changes.product_price_id != null && productId === undefined) {
    const owner = ctx.products.find((p) => p.prices.some((pr) => pr.id === changes.product_price_id))
    if (!owner) throw fieldError(['body', 'product_price_id'], 'Product price does not exist on this checkout.', changes.product_price_id)
    productId = owner.id
  }
  if (productId === undefined || productId === next.product_id) return ctx
  const product = ctx.products.find((p) => p.id === productId && !p.is_archived)
  if (!product) throw fieldError(['body', 'product_id'], 'Product does not exist on this checkout.', productId)
  const price =
    (changes.product_price_id ? product.prices.find((p) => p.id === changes.product_price_id) : undefined) ??
    product.prices.find((p) => p.price_currency === next.currency) ??
    product.prices[0]
  if (!price) throw fieldError(['body', 'product_id'], 'Product has no price.', productId)
  next.product_id = product.id
  next.product_price_id = price.id
  next.currency = price.price_currency
  next.amount = baseAmount(priceTerms(price), null) // the new price's own default applies
  next.custom_field_data = {}
  return ctx
}

/** 0 is a valid pay-what-you-want choice (minimum 0), so it is never read as "unset". */
function applyAmount(next: CheckoutRow, ctx: CheckoutContext, changes: Changes): void {
  if (changes.amount == null) return
  const price = selectedPrice(next, ctx)
  if (price?.amount_type !== 'custom') return
  if (!isAmountAllowed(priceTerms(price), changes.amount)) {
    const max = price.maximum_amount
    throw fieldError(
      ['body', 'amount'],
      max != null ? `Amount must be between ${price.minimum_amount} and ${max}.` : `Amount must be at least ${price.minimum_amount}.`,
      changes.amount,
    )
  }
  next.amount = changes.amount
}

/** Discounts: by code (the buyer) or by id (the merchant). */
async function applyDiscount(db: Executor, next: CheckoutRow, ctx: CheckoutContext, changes: Changes, now: Date, opts: { merchant: boolean }): Promise<CheckoutContext> {
  let context = ctx
  if (changes.discount_code !== undefined) {
    if (!next.allow_discount_codes) throw fieldError(['body', 'discount_code'], 'Discount codes are not allowed on this checkout.', changes.discount_code)
    if (changes.discount_code === null || changes.discount_code.trim() === '') {
      next.discount_id = null
      context = { ...context, discount: null }
    } else {
      const d = await findDiscountByCode(db, next.organization_id, changes.discount_code.trim())
      if (!d || !isDiscountApplicable(discountTerms(d), next.product_id, next.currency, now)) {
        throw fieldError(['body', 'discount_code'], 'Discount code is invalid or does not apply to this product.', changes.discount_code)
      }
      next.discount_id = d.id
      context = { ...context, discount: d }
    }
  }
  if (opts.merchant && changes.discount_id !== undefined) {
    if (changes.discount_id === null) {
      next.discount_id = null
      context = { ...context, discount: null }
    } else {
      const d = await getDiscountById(db, next.organization_id, changes.discount_id)
      if (!d) throw fieldError(['body', 'discount_id'], 'Discount does not exist.', changes.discount_id)
      next.discount_id = d.id
      context = { ...context, discount: d }
    }
  }
  return context
}

/** Custom field data: validated against the selected product's fields; unknown slugs are ignored. */
function applyCustomFields(next: CheckoutRow, ctx: CheckoutContext, changes: Changes): void {
  if (changes.custom_field_data === undefined) return
  const fields = selectedProduct(next, ctx)?.attached_custom_fields ?? []
  const data: Record<string, string | number | boolean | null> = {}
  for (const { custom_field: field } of fields) {
    if (!(field.slug in changes.custom_field_data)) continue
    const r = parseFieldValue(field, changes.custom_field_data[field.slug])
    if (!r.ok) throw fieldError(['body', 'custom_field_data', field.slug], r.msg, changes.custom_field_data[field.slug])
    data[field.slug] = r.value
  }
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
  if (!opts.merchant) return
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
