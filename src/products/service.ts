import { findCustomFieldsByIds } from '../custom-fields/service'
import type { CustomField } from '../custom-fields/schemas'
import type { Db, Executor } from '../db/index'
import type { NewRow } from '../db/types'
import type { Deps } from '../deps'
import { ProductNotDeletable, ResourceNotFound, fieldError } from '../http/errors'
import { isDeadlock, isForeignKeyViolation } from '../db/helpers'
import { iso, isoOrNull, paginated, type Page } from '../http/schemas'
import { newId } from '../lib/ids'
import { assertOwnOrganization, type AuthContext } from '../organizations/service'
import { emitEvent } from '../webhooks/service'
import * as repo from './repository'
import type { Product, ProductBase, ProductCreate, ProductListQuery, ProductPrice, ProductPriceCreate, ProductUpdate } from './schemas'

type D = Pick<Deps, 'db' | 'clock'>

export function toProductBase(row: repo.ProductRow): ProductBase {
  return {
    id: row.id,
    created_at: iso(row.created_at),
    modified_at: isoOrNull(row.modified_at),
    trial_interval: row.trial_interval,
    trial_interval_count: row.trial_interval_count,
    name: row.name,
    description: row.description,
    visibility: row.visibility,
    recurring_interval: row.recurring_interval,
    recurring_interval_count: row.recurring_interval_count,
    meter_interval: null,
    meter_interval_count: null,
    is_recurring: row.recurring_interval !== null,
    is_archived: row.is_archived,
    organization_id: row.organization_id,
    metadata: row.metadata,
  }
}

export function toPrice(row: repo.PriceRow): ProductPrice {
  const base = {
    id: row.id,
    created_at: iso(row.created_at),
    modified_at: isoOrNull(row.modified_at),
    source: row.source,
    price_currency: row.price_currency,
    tax_behavior: null,
    // An ad-hoc price is stored archived so no catalog read offers it; to the session it belongs to it is live.
    is_archived: row.source === 'ad_hoc' ? false : row.is_archived,
    product_id: row.product_id,
  }
  return row.amount_type === 'fixed'
    ? { ...base, amount_type: 'fixed', price_amount: row.price_amount ?? 0 }
    : { ...base, amount_type: 'custom', minimum_amount: row.minimum_amount ?? 0, maximum_amount: row.maximum_amount, preset_amount: row.preset_amount }
}

/**
 * A product as other domains embed it (sessions, links, orders, subscriptions): without `is_deletable`, which
 * only the products API and its events answer, since it costs a query (SDK 1.x's `Product` is the only model
 * that has it; a subscription's product is never deletable, the subscription refers to it).
 */
export type EmbeddedProduct = Omit<Product, 'is_deletable'>

/** Products with their live prices and attached fields, in the order of `rows`. */
async function hydrate(db: Executor, rows: repo.ProductRow[]): Promise<EmbeddedProduct[]> {
  if (rows.length === 0) return []
  const ids = rows.map((r) => r.id)
  const [prices, attached] = await Promise.all([repo.livePrices(db, ids), repo.attachedFields(db, ids)])
  const fieldIds = [...new Set(attached.map((a) => a.custom_field_id))]
  const fields = new Map((await findCustomFieldsByIds(db as Db, rows[0]!.organization_id, fieldIds)).map((f) => [f.id, f]))
  return rows.map((row) => ({
    ...toProductBase(row),
    prices: prices.filter((p) => p.product_id === row.id).map(toPrice),
    benefits: [],
    medias: [],
    attached_custom_fields: attached
      .filter((a) => a.product_id === row.id && fields.has(a.custom_field_id))
      .map((a) => ({ custom_field_id: a.custom_field_id, custom_field: fields.get(a.custom_field_id) as CustomField, order: a.order, required: a.required })),
  }))
}

/** The products API's shape: with `is_deletable`, from one query over every product of the page. */
async function hydrateForApi(db: Executor, rows: repo.ProductRow[]): Promise<Product[]> {
  const [products, referenced] = await Promise.all([hydrate(db, rows), repo.referencedProductIds(db, rows.map((r) => r.id))])
  return products.map((p) => ({ ...p, is_deletable: !referenced.has(p.id) }))
}

function checkPrice(price: ProductPriceCreate, loc: (string | number)[]): void {
  if (price.amount_type !== 'custom') return
  if (price.maximum_amount != null && price.maximum_amount < price.minimum_amount) {
    throw fieldError([...loc, 'maximum_amount'], 'Maximum amount must be greater than or equal to the minimum amount.', price.maximum_amount)
  }
  if (price.preset_amount != null) {
    if (price.preset_amount < price.minimum_amount || (price.maximum_amount != null && price.preset_amount > price.maximum_amount)) {
      throw fieldError([...loc, 'preset_amount'], 'Preset amount must be between the minimum and maximum amounts.', price.preset_amount)
    }
  }
}

function checkCurrencies(currencies: string[], loc: (string | number)[] = ['body', 'prices']): void {
  const dup = currencies.find((c, i) => currencies.indexOf(c) !== i)
  if (dup) throw fieldError(loc, `Only one price per currency is allowed: "${dup}" appears twice.`)
}

function checkIntervals(recurring: string | null | undefined, trial: string | null | undefined, trialCount: number | null | undefined): void {
  if ((trial == null) !== (trialCount == null)) {
    throw fieldError(['body', trial == null ? 'trial_interval' : 'trial_interval_count'], 'trial_interval and trial_interval_count must be set together.')
  }
  if (trial != null && recurring == null) {
    throw fieldError(['body', 'trial_interval'], 'A trial is only possible on a recurring product.', trial)
  }
}

const priceRow = (productId: string, price: ProductPriceCreate, now: Date): NewRow<'product_prices'> => ({
  id: newId(),
  product_id: productId,
  amount_type: price.amount_type,
  price_currency: price.price_currency,
  price_amount: price.amount_type === 'fixed' ? price.price_amount : null,
  minimum_amount: price.amount_type === 'custom' ? price.minimum_amount : null,
  maximum_amount: price.amount_type === 'custom' ? (price.maximum_amount ?? null) : null,
  preset_amount: price.amount_type === 'custom' ? (price.preset_amount ?? null) : null,
  created_at: now,
})

async function attachedFieldRows(
  db: Executor,
  organizationId: string,
  productId: string,
  input: { custom_field_id: string; required: boolean }[],
): Promise<NewRow<'product_custom_fields'>[]> {
  const ids = input.map((a) => a.custom_field_id)
  const dup = ids.findIndex((id, i) => ids.indexOf(id) !== i)
  if (dup >= 0) throw fieldError(['body', 'attached_custom_fields', dup, 'custom_field_id'], 'A custom field can only be attached once.', ids[dup])
  const found = new Set((await findCustomFieldsByIds(db as Db, organizationId, ids)).map((f) => f.id))
  const missing = ids.findIndex((id) => !found.has(id))
  if (missing >= 0) throw fieldError(['body', 'attached_custom_fields', missing, 'custom_field_id'], 'Custom field does not exist.', ids[missing])
  return input.map((a, order) => ({ product_id: productId, custom_field_id: a.custom_field_id, order, required: a.required }))
}

export async function createProduct(deps: D, auth: AuthContext, input: ProductCreate): Promise<Product> {
  assertOwnOrganization(auth, input.organization_id)
  const recurring = input.recurring_interval ?? null
  checkIntervals(recurring, input.trial_interval, input.trial_interval_count)
  input.prices.forEach((p, i) => checkPrice(p, ['body', 'prices', i]))
  checkCurrencies(input.prices.map((p) => p.price_currency))

  return deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const id = newId()
    const fields = await attachedFieldRows(tx, auth.organizationId, id, input.attached_custom_fields)
    const row = await repo.insertProduct(tx, {
      id,
      organization_id: auth.organizationId,
      name: input.name,
      description: input.description ?? null,
      visibility: input.visibility,
      recurring_interval: recurring,
      recurring_interval_count: recurring ? (input.recurring_interval_count ?? 1) : null,
      trial_interval: input.trial_interval ?? null,
      trial_interval_count: input.trial_interval_count ?? null,
      metadata: JSON.stringify(input.metadata),
      created_at: now,
    })
    await repo.insertPrices(tx, input.prices.map((p) => priceRow(id, p, now)))
    await repo.replaceAttachedFields(tx, id, fields)
    const product = (await hydrateForApi(tx, [row]))[0]!
    await emitEvent(tx, { organizationId: auth.organizationId, type: 'product.created', data: product, now })
    return product
  })
}

export async function getProductOrThrow(deps: Pick<Deps, 'db'>, auth: AuthContext, id: string): Promise<Product> {
  const row = await repo.findProduct(deps.db, auth.organizationId, id)
  if (!row) throw new ResourceNotFound()
  return (await hydrateForApi(deps.db, [row]))[0]!
}

export async function listProducts(deps: Pick<Deps, 'db'>, auth: AuthContext, query: ProductListQuery) {
  const page: Page = { page: query.page, limit: query.limit }
  if (query.organization_id && !query.organization_id.includes(auth.organizationId)) return paginated([], 0, page)
  // Kassa's products carry no benefits (`benefits: []`): a benefit filter matches none.
  if (query.benefit_id?.length) return paginated([], 0, page)
  const { rows, total } = await repo.listProducts(
    deps.db,
    auth.organizationId,
    { ids: query.id, query: query.query, isArchived: query.is_archived, isRecurring: query.is_recurring, visibility: query.visibility, metadata: query.metadata, sorting: query.sorting },
    page,
  )
  return paginated(await hydrateForApi(deps.db, rows), total, page)
}

export async function updateProduct(deps: D, auth: AuthContext, id: string, input: ProductUpdate): Promise<Product> {
  return deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const existing = await repo.findProduct(tx, auth.organizationId, id, { forUpdate: true })
    if (!existing) throw new ResourceNotFound()

    // A product stays one-time or recurring for life (orders and subscriptions depend on it).
    if (input.recurring_interval !== undefined) {
      if (existing.recurring_interval === null && input.recurring_interval !== null) {
        throw fieldError(['body', 'recurring_interval'], 'A one-time product cannot become recurring.', input.recurring_interval)
      }
      if (existing.recurring_interval !== null && input.recurring_interval === null) {
        throw fieldError(['body', 'recurring_interval'], 'A recurring product cannot become one-time.', input.recurring_interval)
      }
    }
    const recurring = input.recurring_interval ?? existing.recurring_interval
    const trialInterval = input.trial_interval !== undefined ? input.trial_interval : existing.trial_interval
    const trialCount = input.trial_interval_count !== undefined ? input.trial_interval_count : existing.trial_interval_count
    checkIntervals(recurring, trialInterval, trialCount)

    if (input.prices != null) {
      const current = await repo.livePrices(tx, [id])
      const byId = new Map(current.map((p) => [p.id, p]))
      const keep: string[] = []
      const created: ProductPriceCreate[] = []
      input.prices.forEach((p, i) => {
        if ('amount_type' in p) {
          checkPrice(p, ['body', 'prices', i])
          created.push(p)
        } else if (byId.has(p.id)) keep.push(p.id)
        else throw fieldError(['body', 'prices', i, 'id'], 'Price does not exist on this product.', p.id)
      })
      checkCurrencies([...keep.map((k) => byId.get(k)!.price_currency), ...created.map((p) => p.price_currency)])
      await repo.archivePricesExcept(tx, id, keep, now)
      await repo.insertPrices(tx, created.map((p) => priceRow(id, p, now)))
    }
    if (input.attached_custom_fields != null) {
      await repo.replaceAttachedFields(tx, id, await attachedFieldRows(tx, auth.organizationId, id, input.attached_custom_fields))
    }

    const row = await repo.updateProduct(tx, auth.organizationId, id, {
      ...(input.name != null ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.visibility != null ? { visibility: input.visibility } : {}),
      ...(recurring !== null && input.recurring_interval != null ? { recurring_interval: recurring } : {}),
      ...(recurring !== null && input.recurring_interval_count != null ? { recurring_interval_count: input.recurring_interval_count } : {}),
      ...(input.trial_interval !== undefined || input.trial_interval_count !== undefined
        ? { trial_interval: trialInterval, trial_interval_count: trialCount }
        : {}),
      ...(input.is_archived != null ? { is_archived: input.is_archived } : {}),
      ...(input.metadata !== undefined ? { metadata: JSON.stringify(input.metadata) } : {}),
      modified_at: now,
    })
    const product = (await hydrateForApi(tx, [row]))[0]!
    await emitEvent(tx, { organizationId: auth.organizationId, type: 'product.updated', data: product, now })
    return product
  })
}

/**
 * `DELETE /v1/products/{id}`, as Polar's SDK 1.x documents it: the product is deleted for good, unless an
 * order, a subscription, a checkout session (a trial included: trials start from one) or a discount refers
 * to it (`is_deletable` says so in advance), which is a 409 `ProductNotDeletable`: archive it instead.
 * Checkout links lose it from their products. Under the product's row lock, so two deletes do not race.
 */
export async function deleteProduct(deps: D, auth: AuthContext, id: string): Promise<void> {
  await deps.db
    .transaction()
    .execute(async (tx) => {
      const existing = await repo.findProduct(tx, auth.organizationId, id, { forUpdate: true })
      if (!existing) throw new ResourceNotFound()
      if ((await repo.referencedProductIds(tx, [id])).has(id)) throw new ProductNotDeletable()
      if (!(await repo.deleteProduct(tx, auth.organizationId, id))) throw new ProductNotDeletable()
    })
    .catch((err: unknown) => {
      // Cancelled in a deadlock with a write that refers to the product (a session being opened on it): that
      // write goes through, so the product is in use.
      if (isDeadlock(err)) throw new ProductNotDeletable()
      throw err
    })
}

/**
 * A write that lists products (a link's, a discount's), read earlier in its transaction: one deleted since
 * (DELETE /v1/products/{id} committed in between) fails the write's foreign key, answered as a product that
 * does not exist rather than a 500.
 */
export async function productStillThere<T>(constraint: string, write: Promise<T>): Promise<T> {
  try {
    return await write
  } catch (err) {
    if (isForeignKeyViolation(err, [constraint]) || isDeadlock(err)) throw fieldError(['body', 'products'], 'Product does not exist.')
    throw err
  }
}

/**
 * Polar's ad-hoc prices for one product of a checkout session (`CheckoutCreate.prices`), checked as a product's
 * own prices are (`_get_validated_prices` runs the product's price validation): rows to insert, stored outside
 * the catalog (archived, `source = 'ad_hoc'`).
 */
export function adHocPrices(productId: string, input: ProductPriceCreate[], now: Date, loc: (string | number)[]): { rows: NewRow<'product_prices'>[]; prices: ProductPrice[] } {
  input.forEach((p, i) => checkPrice(p, [...loc, i]))
  checkCurrencies(input.map((p) => p.price_currency), loc)
  const rows = input.map((p) => ({ ...priceRow(productId, p, now), is_archived: true, source: 'ad_hoc' as const }))
  return { rows, prices: rows.map((r) => toPrice({ ...r, id: r.id!, modified_at: null } as repo.PriceRow)) }
}

/**
 * Deletes the ad-hoc prices of sessions that are gone (checkout retention), in the caller's transaction. Only
 * their session ever refers to them (a session's prices for a product are its own ad-hoc ones, and orders and
 * subscriptions come from a session); the foreign keys refuse the delete if that ever stops being true.
 */
export const deleteAdHocPrices = (db: Executor, ids: string[]) => repo.deleteAdHocPrices(db, ids)

/** Inserts rows made by `adHocPriceRows` (or any price rows), in the caller's transaction. */
export const insertPriceRows = (db: Executor, rows: NewRow<'product_prices'>[]) => repo.insertPrices(db, rows)

/** The organization's products by id, hydrated, in the order asked; missing ids are left out. */
export async function getProductsByIds(db: Executor, organizationId: string, ids: string[]): Promise<EmbeddedProduct[]> {
  const rows = await repo.findProductsByIds(db, organizationId, ids)
  const byId = new Map(rows.map((r) => [r.id, r]))
  return hydrate(db, ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])))
}

/** Prices by id, archived ones included (a session keeps the price it was opened with). */
export async function getPricesByIds(db: Executor, organizationId: string, ids: string[]): Promise<ProductPrice[]> {
  return (await repo.findPricesByIds(db, organizationId, ids)).map(toPrice)
}

/** The product a price belongs to, within the organization. */
export const findPriceProductId = (db: Executor, organizationId: string, priceId: string) => repo.findPriceProductId(db, organizationId, priceId)
