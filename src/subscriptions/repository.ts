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

export async function findSubscription(db: Executor, organizationId: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<SubscriptionRow | undefined> {
  let q = ofOrganization(db, organizationId).selectAll().where('id', '=', id)
  if (opts.forUpdate) q = q.forUpdate()
  return q.executeTakeFirst()
}

export type SubscriptionChanges = Partial<Pick<SubscriptionRow,
  'status' | 'cancel_at_period_end' | 'canceled_at' | 'ends_at' | 'ended_at' | 'customer_cancellation_reason' | 'customer_cancellation_comment' | 'modified_at'>>

export async function updateSubscription(db: Executor, organizationId: string, id: string, changes: SubscriptionChanges): Promise<SubscriptionRow> {
  return db.updateTable('subscriptions').set(changes).where('organization_id', '=', organizationId).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
}

/**
 * Ends a subscription set to cancel at its period end, once that end has come: the update holds only
 * while the row still is such a subscription, so two workers (or a retried job) end it once; `undefined`
 * for the one that finds it already ended (or uncanceled, or not due).
 */
export async function endCanceledSubscription(db: Executor, id: string, now: Date): Promise<SubscriptionRow | undefined> {
  return db
    .updateTable('subscriptions')
    .set((eb) => ({ status: 'canceled', ended_at: eb.ref('current_period_end'), ends_at: eb.ref('current_period_end'), modified_at: now }))
    .where('id', '=', id)
    .where('cancel_at_period_end', '=', true)
    .where('ended_at', 'is', null)
    .where('status', 'in', BILLABLE)
    .where('current_period_end', '<=', now)
    .returningAll()
    .executeTakeFirst()
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
  cancelAtPeriodEnd?: boolean
  cancellationReasons?: string[]
  canceledAfter?: Date
  canceledBefore?: Date
  sorting: string[]
}

const ACTIVE: SubscriptionRow['status'][] = ['trialing', 'active']
export const isActiveStatus = (status: SubscriptionRow['status']) => ACTIVE.includes(status)
/** Polar's billable statuses: the ones a subscription can be canceled in (`SubscriptionStatus.billable_statuses`). */
export const BILLABLE: SubscriptionRow['status'][] = ['trialing', 'active', 'past_due']
export const isBillableStatus = (status: SubscriptionRow['status']) => BILLABLE.includes(status)

// Polar's sort keys: related names by subquery (no join, so `id` stays unambiguous), status in
// lifecycle order, amount normalized to a month.
const sortable = {
  customer: sql`(select c.email from customers c where c.id = subscriptions.customer_id)`,
  status: sql`(case status when 'incomplete' then 1 when 'incomplete_expired' then 2 when 'trialing' then 3 when 'active' then 4 when 'past_due' then 6 when 'canceled' then 7 when 'unpaid' then 8 else 9 end)`,
  started_at: 'started_at',
  current_period_end: 'current_period_end',
  ended_at: 'ended_at',
  ends_at: 'ends_at',
  amount: sql`(case recurring_interval when 'year' then amount / 12.0 when 'month' then amount when 'week' then amount * 4 else amount * 30 end / recurring_interval_count)`,
  product: sql`(select p.name from products p where p.id = subscriptions.product_id)`,
  discount: sql`(select d.name from discounts d where d.id = subscriptions.discount_id)`,
}

export async function listSubscriptions(db: Executor, organizationId: string, filter: SubscriptionFilter, page: Page) {
  let q = ofOrganization(db, organizationId)
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
  if (filter.cancelAtPeriodEnd !== undefined) q = q.where('cancel_at_period_end', '=', filter.cancelAtPeriodEnd)
  if (filter.cancellationReasons?.length) q = q.where('customer_cancellation_reason', 'in', filter.cancellationReasons)
  if (filter.canceledAfter) q = q.where('canceled_at', '>=', filter.canceledAfter)
  if (filter.canceledBefore) q = q.where('canceled_at', '<=', filter.canceledBefore)
  return fetchPage(q, (qb) => applySorting(qb.selectAll(), filter.sorting, sortable), page) as Promise<{ rows: SubscriptionRow[]; total: number }>
}

/** A customer's trialing and active subscriptions, oldest first (for the customer state). */
export async function findActiveSubscriptionsOfCustomer(db: Executor, organizationId: string, customerId: string): Promise<SubscriptionRow[]> {
  return ofOrganization(db, organizationId).where('customer_id', '=', customerId).where('status', 'in', ACTIVE).orderBy('started_at').orderBy('id').selectAll().execute()
}
