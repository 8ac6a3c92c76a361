import type { Executor } from '../db/index'
import type { Deps } from '../deps'
import { productStillThere } from '../products/service'
import { ResourceNotFound, fieldError, missingField } from '../http/errors'
import { iso, isoOrNull, paginated, type Page } from '../http/schemas'
import { newId } from '../lib/ids'
import { assertOwnOrganization, type AuthContext } from '../organizations/service'
import { getProductsByIds, toProductBase } from '../products/service'
import { emitEvent } from '../webhooks/service'
import * as repo from './repository'
import type { Discount, DiscountCreate, DiscountListQuery, DiscountUpdate } from './schemas'

type D = Pick<Deps, 'db' | 'clock'>

export function toDiscount(row: repo.DiscountRow, products: repo.RestrictedProductRow[]): Discount {
  const base = {
    created_at: iso(row.created_at),
    modified_at: isoOrNull(row.modified_at),
    id: row.id,
    metadata: row.metadata,
    name: row.name,
    code: row.code,
    starts_at: isoOrNull(row.starts_at),
    ends_at: isoOrNull(row.ends_at),
    max_redemptions: row.max_redemptions,
    max_redemptions_per_customer: row.max_redemptions_per_customer,
    redemptions_count: row.redemptions_count,
    organization_id: row.organization_id,
    products: products.map(({ discount_id: _, ...p }) => toProductBase(p)),
  }
  const kind =
    row.type === 'fixed'
      ? { type: 'fixed' as const, amount: row.amount!, currency: row.currency!, amounts: { [row.currency!]: row.amount! } }
      : { type: 'percentage' as const, basis_points: row.basis_points! }
  const duration =
    row.duration === 'repeating' ? { duration: 'repeating' as const, duration_in_months: row.duration_in_months! } : { duration: row.duration }
  return { ...duration, ...kind, ...base } as Discount
}

/** Discounts with their product restrictions, in the order of `rows`. */
async function hydrate(db: Executor, rows: repo.DiscountRow[]): Promise<Discount[]> {
  const products = await repo.restrictedProducts(
    db,
    rows.map((r) => r.id),
  )
  return rows.map((row) => toDiscount(row, products.filter((p) => p.discount_id === row.id)))
}

const codeTaken = (code: string | null | undefined) => fieldError(['body', 'code'], 'Discount with this code already exists.', code)

/** Same-organization products only (archived ones included, as Polar does); duplicates collapse. */
async function checkProducts(db: Executor, organizationId: string, ids: string[]): Promise<string[]> {
  const found = new Set((await getProductsByIds(db, organizationId, ids)).map((p) => p.id))
  const missing = ids.findIndex((id) => !found.has(id))
  if (missing >= 0) throw fieldError(['body', 'products', missing], 'Product not found.', ids[missing])
  return [...new Set(ids)]
}

function checkWindow(startsAt: Date | null, endsAt: Date | null, field: 'starts_at' | 'ends_at'): void {
  if (startsAt && endsAt && startsAt.getTime() >= endsAt.getTime()) {
    throw fieldError(['body', field], 'starts_at must be before ends_at.', (field === 'starts_at' ? startsAt : endsAt).toISOString())
  }
}

const onlyRepeating = (value: number) =>
  fieldError(['body', 'duration_in_months'], 'duration_in_months is only allowed when duration is repeating.', value)

/** `amount` (+ `currency`, default usd) wins over `amounts`, as in Polar; Kassa keeps one currency per discount. */
function fixedAmount(input: { amount?: number | null; currency?: string | null; amounts?: Record<string, number> | null }, defaultCurrency: string) {
  if (input.amount != null) return { amount: input.amount, currency: input.currency ?? defaultCurrency, field: 'amount' as const }
  if (input.amounts != null) {
    const entries = Object.entries(input.amounts)
    if (entries.length !== 1) {
      throw fieldError(['body', 'amounts'], 'Exactly one currency is supported per discount: send a single {currency: amount} entry.', input.amounts)
    }
    const [currency, amount] = entries[0]!
    return { amount, currency: currency.toLowerCase(), field: 'amounts' as const }
  }
  return undefined
}

export async function createDiscount(deps: D, auth: AuthContext, input: DiscountCreate): Promise<Discount> {
  assertOwnOrganization(auth, input.organization_id)
  if (input.duration === 'repeating' && input.duration_in_months == null) {
    throw missingField(['body', 'duration_in_months'])
  }
  if (input.duration !== 'repeating' && input.duration_in_months != null) throw onlyRepeating(input.duration_in_months)
  const startsAt = input.starts_at ?? null
  const endsAt = input.ends_at ?? null
  checkWindow(startsAt, endsAt, 'starts_at')

  let value: { basis_points: number | null; amount: number | null; currency: string | null }
  if (input.type === 'fixed') {
    const fixed = fixedAmount(input, 'usd')
    if (!fixed) throw missingField(['body', 'amounts'])
    value = { basis_points: null, amount: fixed.amount, currency: fixed.currency }
  } else {
    value = { basis_points: input.basis_points, amount: null, currency: null }
  }

  return productStillThere('discount_products_product_id_fkey', deps.db.transaction().execute(async (tx) => {
    const productIds = input.products?.length ? await checkProducts(tx, auth.organizationId, input.products) : []
    const id = newId()
    let row: repo.DiscountRow
    try {
      row = await repo.insertDiscount(tx, {
        id,
        organization_id: auth.organizationId,
        name: input.name,
        type: input.type,
        ...value,
        duration: input.duration,
        duration_in_months: input.duration === 'repeating' ? input.duration_in_months! : null,
        code: input.code ?? null,
        starts_at: startsAt,
        ends_at: endsAt,
        max_redemptions: input.max_redemptions ?? null,
        max_redemptions_per_customer: input.max_redemptions_per_customer ?? null,
        metadata: JSON.stringify(input.metadata),
        created_at: deps.clock.now(),
      })
    } catch (err) {
      if (err instanceof repo.CodeTaken) throw codeTaken(input.code)
      throw err
    }
    await repo.replaceDiscountProducts(tx, id, productIds)
    const discount = (await hydrate(tx, [row]))[0]!
    // Polar's discount/service.py sends discount.created|updated|deleted from the API.
    await emitEvent(tx, { organizationId: auth.organizationId, type: 'discount.created', data: discount, now: deps.clock.now() })
    return discount
  }))
}

export async function getDiscountOrThrow(deps: Pick<Deps, 'db'>, auth: AuthContext, id: string): Promise<Discount> {
  const found = await getDiscountById(deps.db, auth.organizationId, id)
  if (!found) throw new ResourceNotFound()
  return found
}

export async function listDiscounts(deps: Pick<Deps, 'db'>, auth: AuthContext, query: DiscountListQuery) {
  const page: Page = { page: query.page, limit: query.limit }
  if (query.organization_id && !query.organization_id.includes(auth.organizationId)) return paginated([], 0, page)
  const { rows, total } = await repo.listDiscounts(deps.db, auth.organizationId, { query: query.query, sorting: query.sorting }, page)
  return paginated(await hydrate(deps.db, rows), total, page)
}

export async function updateDiscount(deps: D, auth: AuthContext, id: string, input: DiscountUpdate): Promise<Discount> {
  return productStillThere('discount_products_product_id_fkey', deps.db.transaction().execute(async (tx) => {
    // Locked: a concurrent redemption must not slip between the checks below and the write.
    const existing = await repo.findDiscount(tx, auth.organizationId, id, { forUpdate: true })
    if (!existing) throw new ResourceNotFound()

    // Polar: type and duration are fixed at creation (the payment processor's coupon depends on them).
    if (input.type != null && input.type !== existing.type) throw fieldError(['body', 'type'], 'Type cannot be changed.', input.type)
    if (input.duration != null && input.duration !== existing.duration) {
      throw fieldError(['body', 'duration'], 'Duration cannot be changed.', input.duration)
    }
    if (input.duration_in_months != null && existing.duration !== 'repeating') throw onlyRepeating(input.duration_in_months)

    // The value of the discount; the other type's fields are ignored, as in Polar.
    const value: { amount?: number; currency?: string; basis_points?: number } = {}
    const redeemed = existing.redemptions_count > 0
    const frozen = (field: string, sent: unknown) =>
      fieldError(['body', field], 'This field cannot be changed because the discount has already been redeemed.', sent)
    if (existing.type === 'fixed') {
      const fixed = fixedAmount(input, existing.currency!) ?? (input.currency != null ? { amount: existing.amount!, currency: input.currency, field: 'currency' as const } : undefined)
      if (fixed && (fixed.amount !== existing.amount || fixed.currency !== existing.currency)) {
        if (redeemed) throw frozen(fixed.field, input[fixed.field])
        Object.assign(value, { amount: fixed.amount, currency: fixed.currency })
      }
    } else if (input.basis_points != null && input.basis_points !== existing.basis_points) {
      if (redeemed) throw frozen('basis_points', input.basis_points)
      value.basis_points = input.basis_points
    }

    const startsAt = input.starts_at !== undefined ? input.starts_at : existing.starts_at === null ? null : new Date(existing.starts_at)
    const endsAt = input.ends_at !== undefined ? input.ends_at : existing.ends_at === null ? null : new Date(existing.ends_at)
    checkWindow(startsAt, endsAt, input.starts_at !== undefined ? 'starts_at' : 'ends_at')

    if (input.max_redemptions != null && input.max_redemptions < existing.redemptions_count) {
      throw fieldError(
        ['body', 'max_redemptions'],
        `max_redemptions cannot be lower than the number of redemptions so far (${existing.redemptions_count}).`,
        input.max_redemptions,
      )
    }

    if (input.products != null) await repo.replaceDiscountProducts(tx, id, await checkProducts(tx, auth.organizationId, input.products))

    let row: repo.DiscountRow | undefined
    try {
      row = await repo.updateDiscount(tx, auth.organizationId, id, {
        ...(input.name != null ? { name: input.name } : {}),
        ...(input.code !== undefined ? { code: input.code } : {}),
        ...(input.starts_at !== undefined ? { starts_at: input.starts_at } : {}),
        ...(input.ends_at !== undefined ? { ends_at: input.ends_at } : {}),
        ...(input.max_redemptions !== undefined ? { max_redemptions: input.max_redemptions } : {}),
        ...(input.max_redemptions_per_customer !== undefined ? { max_redemptions_per_customer: input.max_redemptions_per_customer } : {}),
        ...(input.duration_in_months != null ? { duration_in_months: input.duration_in_months } : {}),
        ...value,
        ...(input.metadata !== undefined ? { metadata: JSON.stringify(input.metadata) } : {}),
        modified_at: deps.clock.now(),
      })
    } catch (err) {
      if (err instanceof repo.CodeTaken) throw codeTaken(input.code)
      throw err
    }
    if (!row) throw new ResourceNotFound()
    const discount = (await hydrate(tx, [row]))[0]!
    await emitEvent(tx, { organizationId: auth.organizationId, type: 'discount.updated', data: discount, now: deps.clock.now() })
    return discount
  }))
}

export async function deleteDiscount(deps: D, auth: AuthContext, id: string): Promise<void> {
  await deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const discount = await getDiscountById(tx, auth.organizationId, id)
    const deleted = await repo.softDeleteDiscount(tx, auth.organizationId, id, now)
    if (!deleted || !discount) throw new ResourceNotFound()
    await emitEvent(tx, { organizationId: auth.organizationId, type: 'discount.deleted', data: discount, now })
  })
}

/** For checkouts: a live discount of the organization, by id, in the API shape. */
export async function getDiscountById(db: Executor, organizationId: string, id: string): Promise<Discount | undefined> {
  const row = await repo.findDiscount(db, organizationId, id)
  return row ? (await hydrate(db, [row]))[0] : undefined
}

/** Live discounts of the organization by id, in the API shape, in the order asked; missing ids are left out. */
export async function getDiscountsByIds(db: Executor, organizationId: string, ids: string[]): Promise<Discount[]> {
  const byId = new Map((await repo.findDiscountsByIds(db, organizationId, [...new Set(ids)])).map((r) => [r.id, r]))
  return hydrate(db, [...new Set(ids)].flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])))
}

/**
 * For checkouts: a live discount of the organization by code, case-insensitively, in the API shape.
 * It may not be redeemable right now: check with `isDiscountRedeemable`.
 */
export async function findDiscountByCode(db: Executor, organizationId: string, code: string): Promise<Discount | undefined> {
  const trimmed = code.trim()
  if (!trimmed) return undefined
  const row = await repo.findDiscountByCode(db, organizationId, trimmed)
  return row ? (await hydrate(db, [row]))[0] : undefined
}

/**
 * Polar's rule: within [starts_at, ends_at] and not used up. A hint only: the redemption itself must be a
 * conditional update (`redemptions_count < max_redemptions`), which the table's CHECK also guards.
 */
export function isDiscountRedeemable(discount: Pick<Discount, 'starts_at' | 'ends_at' | 'max_redemptions' | 'redemptions_count'>, now: Date): boolean {
  if (discount.starts_at !== null && new Date(discount.starts_at).getTime() > now.getTime()) return false
  if (discount.ends_at !== null && new Date(discount.ends_at).getTime() < now.getTime()) return false
  return discount.max_redemptions === null || discount.redemptions_count < discount.max_redemptions
}

/**
 * Counts one redemption for a checkout, never past `max_redemptions` even under concurrent
 * confirms (a conditional update). False when the discount is used up or deleted.
 */
export const redeemDiscount = (tx: Executor, discountId: string, checkoutId: string, now: Date) => repo.insertRedemption(tx, discountId, checkoutId, now)

/** Gives a checkout's redemption back (its payment failed after confirm). */
export const releaseRedemption = (tx: Executor, checkoutId: string) => repo.deleteRedemption(tx, checkoutId)

/**
 * Polar's `check_per_customer_limit_reached`: whether the buyer (`email`) has used the discount as many
 * times as it allows one customer, counting their other checkouts' redemptions. Locks the discount's row
 * first (see `countCustomerRedemptions`), so call it inside the confirm's transaction, before redeeming.
 */
export async function customerLimitReached(
  tx: Executor,
  discount: Pick<Discount, 'id' | 'max_redemptions_per_customer'>,
  checkoutId: string,
  email: string | null,
  opts: { lock?: boolean } = {},
): Promise<boolean> {
  if (discount.max_redemptions_per_customer == null || !email) return false
  return (await repo.countCustomerRedemptions(tx, discount.id, checkoutId, email, opts)) >= discount.max_redemptions_per_customer
}
