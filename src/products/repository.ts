import { sql } from 'kysely'
import type { Executor } from '../db/index'
import { applySorting, fetchPage, likePattern, whereMetadata } from '../db/helpers'
import type { NewRow, Row, RowUpdate } from '../db/types'
import type { Page } from '../http/schemas'

export type ProductRow = Row<'products'>
export type PriceRow = Row<'product_prices'>
export type AttachedFieldRow = Row<'product_custom_fields'>

const ofOrganization = (db: Executor, organizationId: string) => db.selectFrom('products').where('organization_id', '=', organizationId)

export async function insertProduct(db: Executor, row: NewRow<'products'>): Promise<ProductRow> {
  return db.insertInto('products').values(row).returningAll().executeTakeFirstOrThrow()
}

export async function insertPrices(db: Executor, rows: NewRow<'product_prices'>[]): Promise<void> {
  if (rows.length) await db.insertInto('product_prices').values(rows).execute()
}

/** Deletes ad-hoc prices by id (one array parameter, however many). Catalog prices are never touched. */
export async function deleteAdHocPrices(db: Executor, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0
  const res = await sql`delete from product_prices where id = any(${ids}::uuid[]) and source = 'ad_hoc'`.execute(db)
  return Number(res.numAffectedRows ?? 0)
}

export async function replaceAttachedFields(db: Executor, productId: string, rows: NewRow<'product_custom_fields'>[]): Promise<void> {
  await db.deleteFrom('product_custom_fields').where('product_id', '=', productId).execute()
  if (rows.length) await db.insertInto('product_custom_fields').values(rows).execute()
}

export async function findProduct(db: Executor, organizationId: string, id: string, opts: { forUpdate?: boolean } = {}) {
  let q = ofOrganization(db, organizationId).selectAll().where('id', '=', id)
  if (opts.forUpdate) q = q.forUpdate()
  return q.executeTakeFirst()
}

export async function findProductsByIds(db: Executor, organizationId: string, ids: string[]): Promise<ProductRow[]> {
  if (ids.length === 0) return []
  return ofOrganization(db, organizationId).selectAll().where('id', 'in', ids).execute()
}

export interface ProductFilter {
  ids?: string[]
  metadata?: Record<string, string[]>
  query?: string
  isArchived?: boolean
  isRecurring?: boolean
  visibility?: string[]
  sorting: string[]
}

// Sort keys over the product's live prices: the lowest amount, and its amount type.
const lowestPrice = sql`(select min(coalesce(pp.price_amount, pp.minimum_amount)) from product_prices pp where pp.product_id = products.id and not pp.is_archived)`
const priceType = sql`(select min(pp.amount_type) from product_prices pp where pp.product_id = products.id and not pp.is_archived)`

export async function listProducts(db: Executor, organizationId: string, filter: ProductFilter, page: Page) {
  let q = ofOrganization(db, organizationId)
  if (filter.ids?.length) q = q.where('id', 'in', filter.ids)
  q = whereMetadata(q, filter.metadata)
  if (filter.query) q = q.where('name', 'ilike', likePattern(filter.query))
  if (filter.isArchived !== undefined) q = q.where('is_archived', '=', filter.isArchived)
  if (filter.isRecurring !== undefined) q = q.where('recurring_interval', filter.isRecurring ? 'is not' : 'is', null)
  if (filter.visibility?.length) q = q.where('visibility', 'in', filter.visibility as ProductRow['visibility'][])
  const sortable = { created_at: 'created_at', name: 'name', price_amount: lowestPrice, price_amount_type: priceType }
  return fetchPage(q, (qb) => applySorting(qb.selectAll(), filter.sorting, sortable), page) as Promise<{ rows: ProductRow[]; total: number }>
}

export async function livePrices(db: Executor, productIds: string[]): Promise<PriceRow[]> {
  if (productIds.length === 0) return []
  return db
    .selectFrom('product_prices')
    .selectAll()
    .where('product_id', 'in', productIds)
    .where('is_archived', '=', false)
    .orderBy('created_at')
    .orderBy('id')
    .execute()
}

/** Prices by id (archived ones included), within the organization. */
export async function findPricesByIds(db: Executor, organizationId: string, ids: string[]): Promise<PriceRow[]> {
  if (ids.length === 0) return []
  return db
    .selectFrom('product_prices as pp')
    .innerJoin('products as p', 'p.id', 'pp.product_id')
    .selectAll('pp')
    .where('pp.id', 'in', ids)
    .where('p.organization_id', '=', organizationId)
    .execute()
}

export async function attachedFields(db: Executor, productIds: string[]): Promise<AttachedFieldRow[]> {
  if (productIds.length === 0) return []
  return db
    .selectFrom('product_custom_fields as pcf')
    .innerJoin('custom_fields as cf', 'cf.id', 'pcf.custom_field_id')
    .select(['pcf.product_id', 'pcf.custom_field_id', 'pcf.order', 'pcf.required'])
    .where('pcf.product_id', 'in', productIds)
    .where('cf.deleted_at', 'is', null)
    .orderBy('pcf.order')
    .execute()
}

export async function updateProduct(db: Executor, organizationId: string, id: string, patch: RowUpdate<'products'>): Promise<ProductRow> {
  return db
    .updateTable('products')
    .set(patch)
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .returningAll()
    .executeTakeFirstOrThrow()
}

/** Archives the product's live prices that are not in `keep`. */
export async function archivePricesExcept(db: Executor, productId: string, keep: string[], now: Date): Promise<void> {
  let q = db.updateTable('product_prices').set({ is_archived: true, modified_at: now }).where('product_id', '=', productId).where('is_archived', '=', false)
  if (keep.length) q = q.where('id', 'not in', keep)
  await q.execute()
}

export async function findPriceProductId(db: Executor, organizationId: string, priceId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('product_prices as pp')
    .innerJoin('products as p', 'p.id', 'pp.product_id')
    .select('pp.product_id')
    .where('pp.id', '=', priceId)
    .where('p.organization_id', '=', organizationId)
    .executeTakeFirst()
  return row?.product_id
}

/**
 * Which of the products something still refers to, so they cannot be deleted: an order, a subscription, a
 * checkout session (any product it offers, the selected one or not), or a discount restricted to it.
 * Each is an index probe (see the 2026-12-03 migration).
 */
export async function referencedProductIds(db: Executor, productIds: string[]): Promise<Set<string>> {
  if (productIds.length === 0) return new Set()
  const { rows } = await sql<{ id: string }>`
    select p.id from unnest(${productIds}::uuid[]) as p (id)
    where exists (select 1 from orders o where o.product_id = p.id)
      or exists (select 1 from subscriptions s where s.product_id = p.id)
      or exists (select 1 from discount_products dp where dp.product_id = p.id)
      or exists (select 1 from checkouts c where c.product_ids @> array[p.id])
  `.execute(db)
  return new Set(rows.map((r) => r.id))
}

/**
 * Deletes a product for good, with its prices and field attachments, and takes it off the checkout links
 * that offer it. False when something refers to it after all (the foreign keys of orders, subscriptions
 * and sessions): a session inserted concurrently, which the check before could not see.
 */
export async function deleteProduct(db: Executor, organizationId: string, id: string): Promise<boolean> {
  await db.deleteFrom('checkout_link_products').where('product_id', '=', id).execute()
  await db.deleteFrom('product_custom_fields').where('product_id', '=', id).execute()
  try {
    await db.deleteFrom('product_prices').where('product_id', '=', id).execute()
    await db.deleteFrom('products').where('organization_id', '=', organizationId).where('id', '=', id).execute()
    return true
  } catch (err) {
    if ((err as { code?: string }).code === '23503') return false
    throw err
  }
}
