import { sql } from 'kysely'
import type { Executor } from '../db/index'
import { applySorting, fetchPage, whereMetadata } from '../db/helpers'
import type { NewRow, Row } from '../db/types'
import type { Page } from '../http/schemas'

export type SubscriptionRow = Row<'subscriptions'>
export type PriceRow = Row<'product_prices'>

const ofOrganization = (db: Executor, organizationId: string) => db.selectFrom('subscriptions').where('organization_id', '=', organizationId)

/** Inserts unless the checkout already made a subscription (`subscriptions_checkout_id_key`); `undefined` then. */
export async function insertSubscriptionIfAbsent(db: Executor, row: NewRow<'subscriptions'>): Promise<SubscriptionRow | undefined> {
  return db
    .insertInto('subscriptions')
    .values(row)
    .onConflict((oc) => oc.column('checkout_id').doNothing())
    .returningAll()
    .executeTakeFirst()
}

export async function findSubscriptionByCheckoutId(db: Executor, organizationId: string, checkoutId: string): Promise<SubscriptionRow | undefined> {
  return ofOrganization(db, organizationId).selectAll().where('checkout_id', '=', checkoutId).executeTakeFirst()
}

export async function findSubscription(db: Executor, organizationId: string, id: string): Promise<SubscriptionRow | undefined> {
  return ofOrganization(db, organizationId).selectAll().where('id', '=', id).executeTakeFirst()
}

export async function findSubscriptionsByIds(db: Executor, organizationId: string, ids: string[]): Promise<SubscriptionRow[]> {
  if (ids.length === 0) return []
  return ofOrganization(db, organizationId).selectAll().where('id', 'in', ids).execute()
}

/** The prices subscriptions are billed on, archived ones included (the catalog may have moved on). */
export async function findPricesByIds(db: Executor, ids: string[]): Promise<PriceRow[]> {
  if (ids.length === 0) return []
  return db.selectFrom('product_prices').selectAll().where('id', 'in', ids).execute()
}

export interface SubscriptionFilter {
  productIds?: string[]
  metadata?: Record<string, string[]>
  customerIds?: string[]
  externalCustomerIds?: string[]
  discountIds?: string[]
  statuses?: SubscriptionRow['status'][]
  startedAfter?: Date
  startedBefore?: Date
  /** No subscription can match (a filter on cancellation, which Kassa does not do yet). */
  none?: boolean
  sorting: string[]
}

const ACTIVE: SubscriptionRow['status'][] = ['trialing', 'active']
export const isActiveStatus = (status: SubscriptionRow['status']) => ACTIVE.includes(status)

// Polar's sort keys: related names by subquery (no join, so `id` stays unambiguous), status in
// lifecycle order, amount normalized to a month.
const sortable = {
  customer: sql`(select c.email from customers c where c.id = subscriptions.customer_id)`,
  status: sql`(case status when 'incomplete' then 1 when 'incomplete_expired' then 2 when 'trialing' then 3 when 'active' then 4 when 'past_due' then 6 when 'canceled' then 7 when 'unpaid' then 8 else 9 end)`,
  started_at: 'started_at',
  current_period_end: 'current_period_end',
  ended_at: sql`cast(null as timestamptz)`,
  ends_at: sql`cast(null as timestamptz)`,
  amount: sql`(case recurring_interval when 'year' then amount / 12.0 when 'month' then amount when 'week' then amount * 4 else amount * 30 end / recurring_interval_count)`,
  product: sql`(select p.name from products p where p.id = subscriptions.product_id)`,
  discount: sql`(select d.name from discounts d where d.id = subscriptions.discount_id)`,
}

export async function listSubscriptions(db: Executor, organizationId: string, filter: SubscriptionFilter, page: Page) {
  let q = ofOrganization(db, organizationId)
  if (filter.none) q = q.where(sql<boolean>`false`)
  if (filter.productIds?.length) q = q.where('product_id', 'in', filter.productIds)
  q = whereMetadata(q, filter.metadata)
  if (filter.customerIds?.length) q = q.where('customer_id', 'in', filter.customerIds)
  if (filter.externalCustomerIds?.length) {
    const external = filter.externalCustomerIds
    q = q.where('customer_id', 'in', (eb) =>
      eb.selectFrom('customers').select('customers.id').where('customers.organization_id', '=', organizationId).where('customers.external_id', 'in', external),
    )
  }
  if (filter.discountIds?.length) q = q.where('discount_id', 'in', filter.discountIds)
  if (filter.statuses) q = filter.statuses.length ? q.where('status', 'in', filter.statuses) : q.where(sql<boolean>`false`)
  if (filter.startedAfter) q = q.where('started_at', '>=', filter.startedAfter)
  if (filter.startedBefore) q = q.where('started_at', '<=', filter.startedBefore)
  return fetchPage(q, (qb) => applySorting(qb.selectAll(), filter.sorting, sortable), page) as Promise<{ rows: SubscriptionRow[]; total: number }>
}

/** A customer's trialing and active subscriptions, oldest first (for the customer state). */
export async function findActiveSubscriptionsOfCustomer(db: Executor, organizationId: string, customerId: string): Promise<SubscriptionRow[]> {
  return ofOrganization(db, organizationId).where('customer_id', '=', customerId).where('status', 'in', ACTIVE).orderBy('started_at').orderBy('id').selectAll().execute()
}
