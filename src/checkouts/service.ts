import { refreshWaitingIntent, waitsOnStripe } from './stripe-confirm'
import { publicProcessorFor } from '../payment-settings/service'
import type { Deps } from '../deps'
import { DiscountRedemptionLimitReached, ResourceNotFound, fieldError, missingField } from '../http/errors'
import { paginated, type Page } from '../http/schemas'
import { newId, newSecret } from '../lib/ids'
import { assertOwnOrganization, type AuthContext } from '../organizations/service'
import { adHocPrices, findPriceProductId, getProductsByIds, insertPriceRows } from '../products/service'
import { customerLimitReached } from '../discounts/service'
import { applyChanges } from './changes'
import { CHECKOUT_SECRET_PREFIX, assertNotExpired, assertOpen, loadContext, loadContexts, priceTerms, withAdHocPrices, type CheckoutContext, type CheckoutRow } from './context'
import { withDiscountCodeAttempt, type BuyerMeta } from './discount-attempts'
import { checkedEmbedOrigin } from './embed'
import { baseAmount } from './pricing'
import { emitCheckoutEvent, rowForInsert, toCheckout, toCheckoutPublic } from './present'
import * as repo from './repository'
import type { Checkout, CheckoutCreate, CheckoutListQuery, CheckoutPublic, CheckoutUpdate, CheckoutUpdatePublic } from './schemas'

/** The checkout sessions API: the merchant's create, get, list and update, and the buyer's get and update. */

type D = Pick<Deps, 'db' | 'clock' | 'config'>
export type { CheckoutRow }

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
  if (!productIds) throw missingField(['body', 'products'])
  const dup = productIds.findIndex((id, i) => productIds!.indexOf(id) !== i)
  if (dup >= 0) throw fieldError(['body', 'products', dup], 'A product can only be listed once.', productIds[dup])

  const products = await getProductsByIds(deps.db, auth.organizationId, productIds)
  // Polar's ad-hoc prices (`_get_validated_prices`): for products of this checkout only, checked like a product's.
  const adHoc = Object.entries(input.prices ?? {}).map(([productId, prices]) => {
    if (!productIds!.includes(productId)) throw fieldError(['body', 'prices', productId], 'Product is not set on that checkout.', productId)
    return adHocPrices(productId, prices, now, ['body', 'prices', productId])
  })
  const adHocRows = adHoc.flatMap((a) => a.rows)
  productIds.forEach((id, i) => {
    const p = products.find((x) => x.id === id)
    if (!p) throw fieldError(['body', 'products', i], 'Product does not exist.', id)
    if (p.is_archived) throw fieldError(['body', 'products', i], 'Product is archived.', id)
    if (p.prices.length === 0 && !adHocRows.some((r) => r.product_id === id)) throw fieldError(['body', 'products', i], 'Product has no price.', id)
  })
  // In this session, a product with ad-hoc prices has those as its prices (as loadContext reads them back).
  const adHocById = new Map(adHoc.flatMap((a) => a.prices).map((p) => [p.id, p]))
  products.forEach((p, i) => (products[i] = withAdHocPrices(p, [...adHocById.keys()], adHocById)))
  if (input.customer_id || input.subscription_id) {
    throw fieldError(['body', input.customer_id ? 'customer_id' : 'subscription_id'], 'Not supported yet: pass customer_email instead.')
  }
  const first = products[0]!
  const price = (input.currency ? first.prices.find((p) => p.price_currency === input.currency) : undefined) ?? first.prices[0]!
  const ctx: CheckoutContext = { products, discount: null }
  const pay = await publicProcessorFor(deps, auth.organizationId)
  const base: CheckoutRow = {
    id: newId(),
    organization_id: auth.organizationId,
    client_secret: newSecret(CHECKOUT_SECRET_PREFIX),
    checkout_link_id: null,
    status: 'open',
    expires_at: new Date(now.getTime() + deps.config.checkoutTtlSeconds * 1000),
    product_ids: productIds,
    ad_hoc_price_ids: adHocRows.map((r) => r.id!),
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
    payment_method_type: null,
    livemode: pay.livemode,
    processor: pay.processor,
    payment_intent_id: null,
    payment_attempt: 0,
    payment_processor_metadata: pay.publishableKey ? { publishable_key: pay.publishableKey } : {},
    stripe_customer_id: null,
    payment_method_id: null,
    created_at: now,
    modified_at: null,
    confirmed_at: null,
  }
  const { product_id: _p, products: _ps, product_price_id: _pp, ...rest } = input
  const changes = { ...rest, embed_origin: await checkedEmbedOrigin(deps.db, auth.organizationId, input.embed_origin) }
  const { row } = await applyChanges(deps.db, base, ctx, changes, now, { merchant: true })
  row.modified_at = null
  return deps.db
    .transaction()
    .execute(async (tx) => {
      // the session's ad-hoc prices first: it refers to its selected price
    await insertPriceRows(tx, adHocRows)
    const inserted = await repo.insertCheckoutReturning(tx, rowForInsert(row))
      const insertedCtx = await loadContext(tx, inserted)
      await emitCheckoutEvent(tx, deps, 'checkout.created', inserted, now, insertedCtx)
      return toCheckout(deps, inserted, insertedCtx, now)
    })
    .catch((err: unknown) => {
      // The product (or its price) was deleted after it was read above: the answer a request naming a
      // missing product gets, not a 500.
      if (repo.isLostProductRace(err)) throw fieldError(['body', 'products', 0], 'Product does not exist.', productIds[0])
      throw err
    })
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
  const contexts = await loadContexts(deps.db, rows)
  const items = rows.map((row, i) => toCheckout(deps, row, contexts[i]!, now))
  return paginated(items, total, page)
}

export async function updateCheckout(deps: D, auth: AuthContext, id: string, input: CheckoutUpdate): Promise<Checkout> {
  return deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const row = await repo.findCheckout(tx, auth.organizationId, id, { forUpdate: true })
    if (!row) throw new ResourceNotFound()
    assertOpen(row, now, 'merchant')
    const changes = { ...input, embed_origin: await checkedEmbedOrigin(tx, auth.organizationId, input.embed_origin) }
    const { patch, row: next, ctx } = await applyChanges(tx, row, await loadContext(tx, row), changes, now, { merchant: true })
    if (!Object.keys(patch).length) return toCheckout(deps, next, ctx, now)
    const saved = await repo.updateCheckout(tx, row.id, patch)
    await emitCheckoutEvent(tx, deps, 'checkout.updated', saved, now, ctx)
    return toCheckout(deps, saved, ctx, now)
  })
}

// ---- buyer (client secret) --------------------------------------------------------------------------

export type { BuyerMeta }

export const findCheckoutRowBySecret = (deps: Pick<Deps, 'db'>, clientSecret: string): Promise<CheckoutRow | undefined> =>
  repo.findCheckoutBySecret(deps.db, clientSecret)

export async function getClientCheckout(deps: D, clientSecret: string): Promise<CheckoutPublic> {
  let row = await findCheckoutRowBySecret(deps, clientSecret)
  if (!row) throw new ResourceNotFound()
  if (waitsOnStripe(row) && (await refreshWaitingIntent(deps, row))) row = (await findCheckoutRowBySecret(deps, clientSecret)) ?? row
  const now = deps.clock.now()
  assertNotExpired(row, now)
  return toCheckoutPublic(deps, row, await loadContext(deps.db, row), now)
}

export async function updateClientCheckout(deps: D, clientSecret: string, input: CheckoutUpdatePublic, meta: BuyerMeta = {}): Promise<CheckoutPublic> {
  return withDiscountCodeAttempt(deps, clientSecret, input.discount_code, meta, () =>
    deps.db.transaction().execute(async (tx) => {
      const now = deps.clock.now()
      const row = await repo.findCheckoutBySecret(tx, clientSecret, { forUpdate: true })
      if (!row) throw new ResourceNotFound()
      assertOpen(row, now, 'buyer')
      const { patch, row: next, ctx } = await applyChanges(tx, row, await loadContext(tx, row), input, now, { merchant: false })
      // As Polar's `update`: tell the buyer at once that they have used the discount up, rather than at
      // payment (confirm checks again, under its lock, and is the gate that counts).
      if (next.discount_id && ctx.discount && (await customerLimitReached(tx, ctx.discount, next.id, next.customer_email, { lock: false }))) {
        throw new DiscountRedemptionLimitReached()
      }
      const changed = Object.keys(patch).length > 0
      const saved = changed ? await repo.updateCheckout(tx, row.id, patch) : next
      if (changed) await emitCheckoutEvent(tx, deps, 'checkout.updated', saved, now, ctx)
      return toCheckoutPublic({ ...deps, db: tx as never }, saved, ctx, now)
    }),
  )
}
