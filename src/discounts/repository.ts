import { sql } from 'kysely'
import type { Executor } from '../db/index'
import { applySorting, fetchPage, isUniqueViolation, likePattern } from '../db/helpers'
import type { NewRow, Row, RowUpdate } from '../db/types'
import type { Page } from '../http/schemas'

export type DiscountRow = Row<'discounts'>
export type RestrictedProductRow = Row<'products'> & { discount_id: string }

/** A live discount (not deleted) already uses this code, case-insensitively, in the organization. */
export class CodeTaken extends Error {}

const CODE_KEY = 'discounts_organization_code_key'

/** The one place deleted discounts are left out. */
const live = (db: Executor, organizationId: string) =>
  db.selectFrom('discounts').where('organization_id', '=', organizationId).where('deleted_at', 'is', null)

export async function insertDiscount(db: Executor, row: NewRow<'discounts'>): Promise<DiscountRow> {
  try {
    return await db.insertInto('discounts').values(row).returningAll().executeTakeFirstOrThrow()
  } catch (err) {
    if (isUniqueViolation(err, CODE_KEY)) throw new CodeTaken()
    throw err
  }
}

export async function findDiscount(db: Executor, organizationId: string, id: string, opts: { forUpdate?: boolean } = {}) {
  let q = live(db, organizationId).selectAll().where('id', '=', id)
  if (opts.forUpdate) q = q.forUpdate()
  return q.executeTakeFirst()
}

export async function findDiscountsByIds(db: Executor, organizationId: string, ids: string[]): Promise<DiscountRow[]> {
  if (ids.length === 0) return []
  return live(db, organizationId).selectAll().where('id', 'in', ids).execute()
}

/** Case-insensitive, by the expression the unique index is built on (`lower(code)`), so the index serves it. */
export async function findDiscountByCode(db: Executor, organizationId: string, code: string): Promise<DiscountRow | undefined> {
  return live(db, organizationId).selectAll().where(sql<string>`lower(code)`, '=', sql<string>`lower(${code})`).executeTakeFirst()
}

export async function listDiscounts(db: Executor, organizationId: string, filter: { query?: string; sorting: string[] }, page: Page) {
  let q = live(db, organizationId)
  if (filter.query) {
    const p = likePattern(filter.query)
    q = q.where((eb) => eb.or([eb('name', 'ilike', p), eb('code', 'ilike', p)]))
  }
  const sortable = { created_at: 'created_at', name: 'name', code: 'code', redemptions_count: 'redemptions_count', ends_at: 'ends_at' }
  return fetchPage(q, (qb) => applySorting(qb.selectAll(), filter.sorting, sortable), page) as Promise<{ rows: DiscountRow[]; total: number }>
}

export async function updateDiscount(db: Executor, organizationId: string, id: string, patch: RowUpdate<'discounts'>): Promise<DiscountRow | undefined> {
  try {
    return await db
      .updateTable('discounts')
      .set(patch)
      .where('id', '=', id)
      .where('organization_id', '=', organizationId)
      .where('deleted_at', 'is', null)
      .returningAll()
      .executeTakeFirst()
  } catch (err) {
    if (isUniqueViolation(err, CODE_KEY)) throw new CodeTaken()
    throw err
  }
}

/** Soft delete: the row stays (orders keep pointing at it) and its code becomes free again. */
export async function softDeleteDiscount(db: Executor, organizationId: string, id: string, now: Date): Promise<boolean> {
  const deleted = await db
    .updateTable('discounts')
    .set({ deleted_at: now, modified_at: now })
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .where('deleted_at', 'is', null)
    .returning('id')
    .executeTakeFirst()
  return deleted !== undefined
}

export async function replaceDiscountProducts(db: Executor, discountId: string, productIds: string[]): Promise<void> {
  await db.deleteFrom('discount_products').where('discount_id', '=', discountId).execute()
  if (productIds.length) await db.insertInto('discount_products').values(productIds.map((product_id) => ({ discount_id: discountId, product_id }))).execute()
}

/** The products each discount is restricted to, for a page of discounts in one query. */
export async function restrictedProducts(db: Executor, discountIds: string[]): Promise<RestrictedProductRow[]> {
  if (discountIds.length === 0) return []
  return db
    .selectFrom('discount_products as dp')
    .innerJoin('products', 'products.id', 'dp.product_id')
    .selectAll('products')
    .select('dp.discount_id')
    .where('dp.discount_id', 'in', discountIds)
    .orderBy('products.created_at')
    .orderBy('products.id')
    .execute()
}

/**
 * Counts a redemption against the discount's limit, atomically: the conditional update takes the
 * row lock, so concurrent confirms on PostgreSQL can never push the count past `max_redemptions`.
 */
export async function insertRedemption(db: Executor, discountId: string, checkoutId: string, now: Date): Promise<boolean> {
  const row = await db
    .updateTable('discounts')
    .set((eb) => ({ redemptions_count: eb('redemptions_count', '+', 1) }))
    .where('id', '=', discountId)
    .where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb('max_redemptions', 'is', null), eb('redemptions_count', '<', eb.ref('max_redemptions'))]))
    .returning('id')
    .executeTakeFirst()
  if (!row) return false
  await db.insertInto('discount_redemptions').values({ discount_id: discountId, checkout_id: checkoutId, created_at: now }).execute()
  return true
}

/** Gives a redemption back (a payment that failed after confirm). */
export async function deleteRedemption(db: Executor, checkoutId: string): Promise<void> {
  const r = await db.deleteFrom('discount_redemptions').where('checkout_id', '=', checkoutId).returning('discount_id').executeTakeFirst()
  if (r) {
    await db
      .updateTable('discounts')
      .set((eb) => ({ redemptions_count: eb('redemptions_count', '-', 1) }))
      .where('id', '=', r.discount_id)
      .where('redemptions_count', '>', 0)
      .execute()
  }
}

/**
 * How many times the buyer of `email` has redeemed the discount, other checkouts than `checkoutId`: Polar's
 * `count_redemptions_by_customer`, by email, compared lowercased and without a `+tag` in the local part
 * (Polar's `unalias_email`). It first locks the discount's row, so concurrent confirms with the discount
 * run this count one at a time, each seeing the redemptions the ones before it committed (READ COMMITTED
 * takes a new snapshot per statement): two confirms by one buyer cannot both pass the limit.
 */
export async function countCustomerRedemptions(db: Executor, discountId: string, checkoutId: string, email: string, opts: { lock?: boolean } = {}): Promise<number> {
  if (opts.lock !== false) await db.selectFrom('discounts').select('id').where('id', '=', discountId).forUpdate().executeTakeFirst()
  const unalias = (e: string) => e.toLowerCase().replace(/\+[^@]*/, '')
  const row = await db
    .selectFrom('discount_redemptions as r')
    .innerJoin('checkouts as c', 'c.id', 'r.checkout_id')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('r.discount_id', '=', discountId)
    .where('r.checkout_id', '!=', checkoutId)
    .where(sql<boolean>`regexp_replace(lower(c.customer_email), '\\+[^@]*', '') = ${unalias(email)}`)
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}
