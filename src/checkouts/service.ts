import type { Executor } from '../db/index'
import type { CheckoutStatus, NewRow, Row } from '../db/types'
import type { Deps } from '../deps'
import { findDiscountByCode, getDiscountById } from '../discounts/service'
import type { Discount } from '../discounts/schemas'
import { parseFieldValue } from '../custom-fields/values'
import { ExpiredCheckoutError, NotOpenCheckout, ResourceNotFound, fieldError } from '../http/errors'
import { iso, isoOrNull, paginated, type Page } from '../http/schemas'
import { newId, newSecret } from '../lib/ids'
import { matchLocale } from '../lib/locales'
import { addInterval } from '../lib/time'
import { getOrganization, assertOwnOrganization, type AuthContext } from '../organizations/service'
import type { Product, ProductPrice } from '../products/schemas'
import { findPriceProductId, getProductsByIds } from '../products/service'
import { baseAmount, computeAmounts, isAmountAllowed, isDiscountApplicable, type DiscountTerms } from './pricing'
import { emitEvent, type WebhookEventType } from '../webhooks/service'
import * as repo from './repository'
import type { Checkout, CheckoutCreate, CheckoutListQuery, CheckoutPublic, CheckoutUpdate, CheckoutUpdatePublic } from './schemas'

type D = Pick<Deps, 'db' | 'clock' | 'config'>
export type CheckoutRow = repo.CheckoutRow

export const CHECKOUT_SECRET_PREFIX = 'polar_c_'

/** What a session's answers are computed from: its products (with prices and fields) and its discount. */
export interface CheckoutContext {
  products: Product[]
  discount: Discount | null
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

export const checkoutUrl = (config: Deps['config'], clientSecret: string) => `${config.publicUrl}/checkout/${clientSecret}`

export function successUrl(config: Deps['config'], row: Pick<CheckoutRow, 'id' | 'client_secret' | 'success_url'>): string {
  const url = row.success_url ?? `${checkoutUrl(config, row.client_secret)}/confirmation`
  return url.replaceAll('{CHECKOUT_ID}', row.id)
}

/** Readers never see an open session past its expiry, whether or not the expiry job has run. */
export function statusAt(row: Pick<CheckoutRow, 'status' | 'expires_at'>, now: Date): CheckoutStatus {
  return row.status === 'open' && new Date(row.expires_at) <= now ? 'expired' : row.status
}

export async function loadContext(db: Executor, row: CheckoutRow): Promise<CheckoutContext> {
  const [products, discount] = await Promise.all([
    getProductsByIds(db, row.organization_id, row.product_ids),
    row.discount_id ? getDiscountById(db, row.organization_id, row.discount_id) : Promise.resolve(undefined),
  ])
  return { products, discount: discount ?? null }
}

export function selectedProduct(row: Pick<CheckoutRow, 'product_id'>, ctx: CheckoutContext): Product | undefined {
  return ctx.products.find((p) => p.id === row.product_id)
}

export function selectedPrice(row: Pick<CheckoutRow, 'product_price_id'>, ctx: CheckoutContext): ProductPrice | undefined {
  for (const p of ctx.products) for (const price of p.prices) if (price.id === row.product_price_id) return price
  return undefined
}

/** The trial this session would start: the session's (link) override, else the product's. */
export function activeTrial(row: Pick<CheckoutRow, 'allow_trial' | 'trial_interval' | 'trial_interval_count'>, product: Product | undefined) {
  if (!product?.is_recurring || !row.allow_trial) return null
  const interval = row.trial_interval ?? product.trial_interval
  const count = row.trial_interval ? row.trial_interval_count : product.trial_interval_count
  return interval && count ? { interval, count } : null
}

function priceTerms(price: ProductPrice) {
  return price.amount_type === 'fixed'
    ? { amount_type: 'fixed' as const, price_currency: price.price_currency, price_amount: price.price_amount, minimum_amount: null, maximum_amount: null, preset_amount: null }
    : { amount_type: 'custom' as const, price_currency: price.price_currency, price_amount: null, minimum_amount: price.minimum_amount, maximum_amount: price.maximum_amount, preset_amount: price.preset_amount }
}

/** Recomputes the money columns from the selected price, the chosen amount and the discount. */
export function priceColumns(
  row: Pick<CheckoutRow, 'product_id' | 'product_price_id' | 'amount'>,
  ctx: CheckoutContext,
  now: Date,
): Pick<CheckoutRow, 'amount' | 'discount_amount' | 'net_amount' | 'tax_amount' | 'total_amount' | 'currency'> {
  const price = selectedPrice(row, ctx)
  if (!price) throw new Error('checkout without a selected price')
  const amount = baseAmount(priceTerms(price), row.amount)
  const discount = ctx.discount && isDiscountApplicable(discountTerms(ctx.discount), row.product_id, price.price_currency, now) ? ctx.discount : null
  return { ...computeAmounts(amount, discount ? discountTerms(discount) : null), currency: price.price_currency }
}

export function isDiscountApplicableTo(row: Pick<CheckoutRow, 'product_id' | 'currency'>, ctx: CheckoutContext, now: Date): boolean {
  return Boolean(ctx.discount && isDiscountApplicable(discountTerms(ctx.discount), row.product_id, row.currency, now))
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
  const required = row.require_billing_address
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
    payment_processor_metadata: {},
    billing_address_fields: required
      ? { country: 'required' as const, state: 'optional' as const, city: 'required' as const, postal_code: 'required' as const, line1: 'required' as const, line2: 'optional' as const }
      : { country: 'optional' as const, state: 'disabled' as const, city: 'disabled' as const, postal_code: 'disabled' as const, line1: 'disabled' as const, line2: 'disabled' as const },
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

export async function toCheckoutPublic(deps: Pick<Deps, 'config' | 'db'>, row: CheckoutRow, ctx: CheckoutContext, now: Date): Promise<CheckoutPublic> {
  const org = await getOrganization(deps, row.organization_id)
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

// ---- changes: one path for the merchant API, the checkout page and confirm -------------------------

type Changes = Partial<Omit<CheckoutUpdate, 'allow_trial'> & Omit<CheckoutUpdatePublic, 'allow_trial'>> & {
  discount_code?: string | null
  allow_trial?: boolean | null
}

/**
 * Applies a set of changes to a session (in memory) and returns the columns to write, with the
 * totals recomputed. Business-rule failures are 422s on the field that caused them.
 */
export async function applyChanges(
  db: Executor,
  row: CheckoutRow,
  ctx: CheckoutContext,
  changes: Changes,
  now: Date,
  opts: { merchant: boolean },
): Promise<{ patch: Partial<NewRow<'checkouts'>>; row: CheckoutRow; ctx: CheckoutContext }> {
  const next: CheckoutRow = { ...row }
  let context = ctx

  // Product (or price) selection, among the session's products.
  let productId = changes.product_id ?? undefined
  if (changes.product_price_id != null && productId === undefined) {
    const owner = context.products.find((p) => p.prices.some((pr) => pr.id === changes.product_price_id))
    if (!owner) throw fieldError(['body', 'product_price_id'], 'Product price does not exist on this checkout.', changes.product_price_id)
    productId = owner.id
  }
  if (productId !== undefined && productId !== next.product_id) {
    const product = context.products.find((p) => p.id === productId && !p.is_archived)
    if (!product) throw fieldError(['body', 'product_id'], 'Product does not exist on this checkout.', productId)
    const price =
      (changes.product_price_id ? product.prices.find((p) => p.id === changes.product_price_id) : undefined) ??
      product.prices.find((p) => p.price_currency === next.currency) ??
      product.prices[0]
    if (!price) throw fieldError(['body', 'product_id'], 'Product has no price.', productId)
    next.product_id = product.id
    next.product_price_id = price.id
    next.amount = baseAmount(priceTerms(price), null) // the new price's own default applies
    next.custom_field_data = {}
  }
  const price = selectedPrice(next, context)!

  // 0 is a valid pay-what-you-want choice (minimum 0), so it is never read as "unset".
  if (changes.amount != null) {
    if (price.amount_type === 'custom') {
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
  }

  // Discounts: by code (buyer) or by id (merchant).
  if (changes.discount_code !== undefined) {
    if (!next.allow_discount_codes) throw fieldError(['body', 'discount_code'], 'Discount codes are not allowed on this checkout.', changes.discount_code)
    if (changes.discount_code === null || changes.discount_code.trim() === '') {
      next.discount_id = null
      context = { ...context, discount: null }
    } else {
      const d = await findDiscountByCode(db, next.organization_id, changes.discount_code.trim())
      if (!d || !isDiscountApplicable(discountTerms(d), next.product_id, price.price_currency, now)) {
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

  // Custom field data: validated against the selected product's fields; unknown slugs are ignored.
  if (changes.custom_field_data !== undefined) {
    const fields = selectedProduct(next, context)?.attached_custom_fields ?? []
    const data: Record<string, string | number | boolean | null> = {}
    for (const { custom_field: field } of fields) {
      if (!(field.slug in changes.custom_field_data)) continue
      const r = parseFieldValue(field, changes.custom_field_data[field.slug])
      if (!r.ok) throw fieldError(['body', 'custom_field_data', field.slug], r.msg, changes.custom_field_data[field.slug])
      data[field.slug] = r.value
    }
    next.custom_field_data = data
  }

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
  if (opts.merchant) {
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

  Object.assign(next, priceColumns(next, context, now))
  next.modified_at = now

  const patch: Partial<NewRow<'checkouts'>> = {}
  for (const key of Object.keys(next) as (keyof CheckoutRow)[]) {
    if (next[key] === row[key]) continue
    const v = next[key]
    ;(patch as Record<string, unknown>)[key] =
      key === 'metadata' || key === 'custom_field_data' || key === 'customer_metadata' || key === 'customer_billing_address'
        ? v === null ? null : JSON.stringify(v)
        : v
  }
  return { patch, row: next, ctx: context }
}

/** A session can only change while open and unexpired. */
export function assertOpen(row: CheckoutRow, now: Date): void {
  const status = statusAt(row, now)
  if (status === 'expired') throw new ExpiredCheckoutError()
  if (status !== 'open') throw new NotOpenCheckout()
}

// ---- merchant API -----------------------------------------------------------------------------------

export async function createCheckout(deps: D, auth: AuthContext, input: CheckoutCreate & { organization_id?: string | null }): Promise<Checkout> {
  assertOwnOrganization(auth, input.organization_id)
  const now = deps.clock.now()
  let productIds = input.products
  if (!productIds && input.product_id) productIds = [input.product_id]
  if (!productIds && input.product_price_id) {
    const owner = await findPriceProductId(deps.db, auth.organizationId, input.product_price_id)
    if (!owner) throw fieldError(['body', 'product_price_id'], 'Product price does not exist.', input.product_price_id)
    productIds = [owner]
  }
  if (!productIds) throw fieldError(['body', 'products'], 'Field required', undefined, 'missing')
  const dup = productIds.findIndex((id, i) => productIds!.indexOf(id) !== i)
  if (dup >= 0) throw fieldError(['body', 'products', dup], 'A product can only be listed once.', productIds[dup])

  const products = await getProductsByIds(deps.db, auth.organizationId, productIds)
  productIds.forEach((id, i) => {
    const p = products.find((x) => x.id === id)
    if (!p) throw fieldError(['body', 'products', i], 'Product does not exist.', id)
    if (p.is_archived) throw fieldError(['body', 'products', i], 'Product is archived.', id)
    if (p.prices.length === 0) throw fieldError(['body', 'products', i], 'Product has no price.', id)
  })
  if (input.customer_id || input.subscription_id) {
    throw fieldError(['body', input.customer_id ? 'customer_id' : 'subscription_id'], 'Not supported yet: pass customer_email instead.')
  }
  const first = products[0]!
  const price = (input.currency ? first.prices.find((p) => p.price_currency === input.currency) : undefined) ?? first.prices[0]!
  const ctx: CheckoutContext = { products, discount: null }
  const base: CheckoutRow = {
    id: newId(),
    organization_id: auth.organizationId,
    client_secret: newSecret(CHECKOUT_SECRET_PREFIX),
    checkout_link_id: null,
    status: 'open',
    expires_at: new Date(now.getTime() + deps.config.checkoutTtlSeconds * 1000),
    product_ids: productIds,
    product_id: first.id,
    product_price_id: price.id,
    currency: price.price_currency,
    amount: baseAmount(priceTerms(price), null),
    discount_amount: 0,
    net_amount: 0,
    tax_amount: 0,
    total_amount: 0,
    discount_id: null,
    allow_discount_codes: input.allow_discount_codes,
    require_billing_address: input.require_billing_address,
    allow_trial: input.allow_trial,
    trial_interval: null,
    trial_interval_count: null,
    seats: input.seats ?? null,
    customer_id: null,
    customer_name: null,
    customer_email: null,
    customer_ip_address: null,
    customer_billing_name: null,
    customer_billing_address: null,
    customer_tax_id: null,
    is_business_customer: false,
    external_customer_id: input.external_customer_id ?? null,
    customer_metadata: {},
    locale: null,
    success_url: null,
    return_url: null,
    embed_origin: null,
    metadata: {},
    custom_field_data: {},
    link_query: null,
    payment_error: null,
    created_at: now,
    modified_at: null,
    confirmed_at: null,
  }
  const { product_id: _p, products: _ps, product_price_id: _pp, ...changes } = input
  const { row } = await applyChanges(deps.db, base, ctx, changes, now, { merchant: true })
  row.modified_at = null
  return deps.db.transaction().execute(async (tx) => {
    const inserted = await repo.insertCheckoutReturning(tx, rowForInsert(row))
    const checkout = toCheckout(deps, inserted, await loadContext(tx, inserted), now)
    await emitEvent(tx, { organizationId: inserted.organization_id, type: 'checkout.created', data: checkout, now })
    return checkout
  })
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
    customer_billing_address: row.customer_billing_address ? JSON.stringify(row.customer_billing_address) : null,
  }
}

export async function getCheckoutOrThrow(deps: Pick<Deps, 'db' | 'config' | 'clock'>, auth: AuthContext, id: string): Promise<Checkout> {
  const row = await repo.findCheckout(deps.db, auth.organizationId, id)
  if (!row) throw new ResourceNotFound()
  return toCheckout(deps, row, await loadContext(deps.db, row), deps.clock.now())
}

export async function listCheckouts(deps: Pick<Deps, 'db' | 'config' | 'clock'>, auth: AuthContext, query: CheckoutListQuery) {
  const page: Page = { page: query.page, limit: query.limit }
  if (query.organization_id && !query.organization_id.includes(auth.organizationId)) return paginated([], 0, page)
  const now = deps.clock.now()
  const { rows, total } = await repo.listCheckouts(
    deps.db,
    auth.organizationId,
    {
      productIds: query.product_id,
      customerIds: query.customer_id,
      externalCustomerIds: query.external_customer_id,
      linkIds: query.checkout_link_id,
      statuses: query.status,
      query: query.query,
      sorting: query.sorting,
    },
    page,
    now,
  )
  const items = await Promise.all(rows.map(async (row) => toCheckout(deps, row, await loadContext(deps.db, row), now)))
  return paginated(items, total, page)
}

export async function updateCheckout(deps: D, auth: AuthContext, id: string, input: CheckoutUpdate): Promise<Checkout> {
  return deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const row = await repo.findCheckout(tx, auth.organizationId, id, { forUpdate: true })
    if (!row) throw new ResourceNotFound()
    assertOpen(row, now)
    const { patch, row: next, ctx } = await applyChanges(tx, row, await loadContext(tx, row), input, now, { merchant: true })
    if (!Object.keys(patch).length) return toCheckout(deps, next, ctx, now)
    const saved = await repo.updateCheckout(tx, row.id, patch)
    await emitCheckoutEvent(tx, deps, 'checkout.updated', saved, now, ctx)
    return toCheckout(deps, saved, ctx, now)
  })
}

// ---- buyer (client secret) --------------------------------------------------------------------------

export async function getCheckoutBySecretOrThrow(deps: Pick<Deps, 'db'>, clientSecret: string): Promise<CheckoutRow> {
  const row = await repo.findCheckoutBySecret(deps.db, clientSecret)
  if (!row) throw new ResourceNotFound()
  return row
}

export async function getClientCheckout(deps: Pick<Deps, 'db' | 'config' | 'clock'>, clientSecret: string): Promise<CheckoutPublic> {
  const row = await getCheckoutBySecretOrThrow(deps, clientSecret)
  return toCheckoutPublic(deps, row, await loadContext(deps.db, row), deps.clock.now())
}

export async function updateClientCheckout(deps: D, clientSecret: string, input: CheckoutUpdatePublic): Promise<CheckoutPublic> {
  return deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const row = await repo.findCheckoutBySecret(tx, clientSecret, { forUpdate: true })
    if (!row) throw new ResourceNotFound()
    assertOpen(row, now)
    const { patch, row: next, ctx } = await applyChanges(tx, row, await loadContext(tx, row), input, now, { merchant: false })
    const changed = Object.keys(patch).length > 0
    const saved = changed ? await repo.updateCheckout(tx, row.id, patch) : next
    if (changed) await emitCheckoutEvent(tx, deps, 'checkout.updated', saved, now, ctx)
    return toCheckoutPublic({ ...deps, db: tx as never }, saved, ctx, now)
  })
}

export type { Row }
