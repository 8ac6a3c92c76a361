import { CompiledQuery, sql } from 'kysely'
import { preparedMarker, type Executor } from '../db/index'
import { applySorting, fetchPage, isDeadlock, isForeignKeyViolation, likePattern } from '../db/helpers'
import type { CheckoutStatus, NewRow, Row, RowUpdate } from '../db/types'
import type { Page } from '../http/schemas'

export type CheckoutRow = Row<'checkouts'>

/** The columns a link visit sets, in the order of its prepared insert's parameters. */
const VISIT_COLUMNS = [
  'id', 'organization_id', 'client_secret', 'checkout_link_id', 'status', 'expires_at', 'product_ids', 'product_id',
  'product_price_id', 'currency', 'amount', 'discount_amount', 'net_amount', 'tax_amount', 'total_amount', 'discount_id',
  'allow_discount_codes', 'require_billing_address', 'trial_interval', 'trial_interval_count', 'seats', 'customer_email',
  'customer_name', 'customer_ip_address', 'customer_metadata', 'locale', 'success_url', 'return_url', 'embed_origin',
  'metadata', 'custom_field_data', 'link_query', 'processor', 'livemode', 'payment_processor_metadata', 'created_at',
] as const satisfies readonly (keyof NewRow<'checkouts'>)[]

/** What a link visit inserts: every one of its columns, none left out (a missing one is a type error). */
export type VisitCheckoutRow = { [K in (typeof VISIT_COLUMNS)[number]]-?: Exclude<NewRow<'checkouts'>[K], undefined> }

const VISIT_INSERT = `${preparedMarker('insert_visit_checkout')} insert into checkouts (${VISIT_COLUMNS.join(', ')}) values (${VISIT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`

/**
 * The visit's one statement (the hot path): compiled once here, not by Kysely per request, and a named
 * prepared statement on PostgreSQL, so each visit sends only its values.
 */
export async function insertVisitCheckout(db: Executor, row: VisitCheckoutRow): Promise<void> {
  await db.executeQuery(CompiledQuery.raw(VISIT_INSERT, VISIT_COLUMNS.map((c) => row[c])))
}

export async function insertCheckoutReturning(db: Executor, row: NewRow<'checkouts'>): Promise<CheckoutRow> {
  return db.insertInto('checkouts').values(row).returningAll().executeTakeFirstOrThrow()
}

export interface ReusableSession {
  client_secret: string
  checkout_link_id: string
  organization_id: string
  /** The custom-field slugs the visit applied (their parameters are not forwarded again). */
  field_slugs: string[]
}

/**
 * The returning browser's one read (issue 10 part 2): the session its cookie names, if it was opened from
 * this link (not deleted) with exactly this query, is still `open`, and has at least `until` to live. A
 * confirmed, paid, failed or expired session is never handed out again.
 */
export async function findReusableSession(db: Executor, q: { clientSecret: string; linkSecret: string; rawQuery: string; until: Date }): Promise<ReusableSession | undefined> {
  const res = await sql<ReusableSession>`${sql.raw(preparedMarker('reusable_session'))}
    select c.client_secret, c.checkout_link_id, c.organization_id,
      coalesce((select array_agg(k) from jsonb_object_keys(c.custom_field_data) k), '{}') as field_slugs
    from checkouts c join checkout_links l on l.id = c.checkout_link_id
    where c.client_secret = ${q.clientSecret} and l.client_secret = ${q.linkSecret} and l.deleted_at is null
      and c.status = 'open' and c.expires_at > ${q.until} and c.link_query = ${q.rawQuery}`.execute(db)
  return res.rows[0]
}

export async function findCheckout(db: Executor, organizationId: string, id: string, opts: { forUpdate?: boolean } = {}) {
  let q = db.selectFrom('checkouts').selectAll().where('id', '=', id).where('organization_id', '=', organizationId)
  if (opts.forUpdate) q = q.forUpdate()
  return q.executeTakeFirst()
}

export async function findCheckoutById(db: Executor, id: string, opts: { forUpdate?: boolean } = {}) {
  let q = db.selectFrom('checkouts').selectAll().where('id', '=', id)
  if (opts.forUpdate) q = q.forUpdate()
  return q.executeTakeFirst()
}

export async function findCheckoutBySecret(db: Executor, clientSecret: string, opts: { forUpdate?: boolean } = {}) {
  // No secret has a NUL, which PostgreSQL text cannot even hold (it would refuse the query): not found.
  if (clientSecret.includes('\0')) return undefined
  let q = db.selectFrom('checkouts').selectAll().where('client_secret', '=', clientSecret)
  if (opts.forUpdate) q = q.forUpdate()
  return q.executeTakeFirst()
}

export interface CheckoutFilter {
  productIds?: string[]
  customerIds?: string[]
  externalCustomerIds?: string[]
  linkIds?: string[]
  statuses?: CheckoutStatus[]
  query?: string
  sorting: string[]
}

/** Status as readers must see it: an open session past its expiry is expired, even before the job runs. */
export const effectiveStatus = (now: Date) =>
  sql<CheckoutStatus>`case when status = 'open' and expires_at <= ${now} then 'expired' else status end`

export async function listCheckouts(db: Executor, organizationId: string, filter: CheckoutFilter, page: Page, now: Date) {
  let q = db.selectFrom('checkouts').where('organization_id', '=', organizationId)
  if (filter.productIds?.length) q = q.where('product_id', 'in', filter.productIds)
  if (filter.customerIds?.length) q = q.where('customer_id', 'in', filter.customerIds)
  if (filter.externalCustomerIds?.length) q = q.where('external_customer_id', 'in', filter.externalCustomerIds)
  if (filter.linkIds?.length) q = q.where('checkout_link_id', 'in', filter.linkIds)
  if (filter.statuses?.length) q = q.where(effectiveStatus(now), 'in', filter.statuses)
  if (filter.query) q = q.where('customer_email', 'ilike', likePattern(filter.query))
  const sortable = { created_at: 'created_at', expires_at: 'expires_at', status: effectiveStatus(now) }
  return fetchPage(q, (qb) => applySorting(qb.selectAll(), filter.sorting, sortable), page) as Promise<{ rows: CheckoutRow[]; total: number }>
}

export async function updateCheckout(db: Executor, id: string, patch: RowUpdate<'checkouts'>): Promise<CheckoutRow> {
  return db.updateTable('checkouts').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
}

/** Marks open sessions past their expiry as expired; returns them. */
export async function expireCheckouts(db: Executor, now: Date, limit = 1000): Promise<CheckoutRow[]> {
  const rows = await db
    .updateTable('checkouts')
    .set({ status: 'expired', modified_at: now })
    .where('id', 'in', (eb) =>
      eb.selectFrom('checkouts').select('id').where('status', '=', 'open').where('expires_at', '<=', now).orderBy('expires_at').limit(limit),
    )
    .where('status', '=', 'open')
    .returningAll()
    .execute()
  return rows
}

/**
 * Deletes up to `limit` sessions that expired before `before` and were never confirmed (status `expired`,
 * or still `open` when the expiry job has not got to them), with nothing made from them: a session an order,
 * a subscription or a discount redemption refers to is kept (none should exist without a confirm; the check
 * keeps the foreign keys whole whatever happened). Rows another transaction holds are skipped, not waited on.
 * Answers the deleted sessions' ad-hoc price ids, which only they referred to.
 */
export async function deleteExpiredCheckouts(db: Executor, before: Date, limit: number): Promise<{ count: number; adHocPriceIds: string[] }> {
  const res = await sql<{ ad_hoc_price_ids: string[] }>`
    with old as (
      select c.id from checkouts c
      where (c.status = 'expired' or c.status = 'open')
        and c.expires_at < ${before}
        and c.confirmed_at is null
        and not exists (select 1 from orders o where o.checkout_id = c.id)
        and not exists (select 1 from subscriptions s where s.checkout_id = c.id)
        and not exists (select 1 from discount_redemptions r where r.checkout_id = c.id)
      limit ${limit}
      for update of c skip locked
    )
    delete from checkouts where id in (select id from old) returning ad_hoc_price_ids
  `.execute(db)
  return { count: res.rows.length, adHocPriceIds: res.rows.flatMap((r) => r.ad_hoc_price_ids ?? []) }
}

/**
 * A session insert that lost a race with `DELETE /v1/products/{id}`: its product or price reference broke
 * (foreign key), or the two deadlocked and the insert was the one cancelled.
 */
export const isLostProductRace = (err: unknown): boolean =>
  isForeignKeyViolation(err, ['checkouts_product_id_fkey', 'checkouts_product_price_id_fkey']) || isDeadlock(err)

/** Stripe attempts still `confirmed` since before `before`, oldest first (the partial index on confirmed sessions). */
export async function findLongConfirmedStripeAttempts(db: Executor, before: Date, limit: number): Promise<{ id: string; payment_attempt: number }[]> {
  return db.selectFrom('checkouts').select(['id', 'payment_attempt']).where('status', '=', 'confirmed').where('processor', '=', 'stripe').where('confirmed_at', '<', before).orderBy('confirmed_at').limit(limit).execute()
}
