import { sql } from 'kysely'
import type { Executor } from '../db/index'
import { applySorting, fetchPage, likePattern, whereMetadata } from '../db/helpers'
import type { NewRow, Row } from '../db/types'
import type { Page } from '../http/schemas'

export type CustomerRow = Row<'customers'>

const live = (db: Executor, organizationId: string) =>
  db.selectFrom('customers').where('organization_id', '=', organizationId).where('deleted_at', 'is', null)

/**
 * Inserts the customer unless a live one of the organization already has this email (any case).
 * The conflict target is the unique index `customers_organization_email_key`, so two concurrent
 * inserts of one email never both succeed and neither fails: the loser gets `undefined`.
 */
export async function insertCustomerIfAbsent(db: Executor, row: NewRow<'customers'>): Promise<CustomerRow | undefined> {
  return db
    .insertInto('customers')
    .values(row)
    .onConflict((oc) => oc.expression(sql`organization_id, lower(email)`).where('deleted_at', 'is', null).doNothing())
    .returningAll()
    .executeTakeFirst()
}

/** The live customer with this email, case-insensitively (served by the `lower(email)` index). */
export async function findCustomerByEmail(db: Executor, organizationId: string, email: string): Promise<CustomerRow | undefined> {
  return live(db, organizationId)
    .selectAll()
    .where(sql<string>`lower(email)`, '=', email.toLowerCase())
    .executeTakeFirst()
}

/** Sets the name only if the customer has none yet; returns the row either way. */
export async function fillCustomerName(db: Executor, id: string, name: string, now: Date): Promise<CustomerRow | undefined> {
  return db
    .updateTable('customers')
    .set({ name, modified_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('name', 'is', null), eb('name', '=', '')]))
    .returningAll()
    .executeTakeFirst()
}

export async function findCustomer(db: Executor, organizationId: string, id: string): Promise<CustomerRow | undefined> {
  return live(db, organizationId).selectAll().where('id', '=', id).executeTakeFirst()
}

/** Deleted customers included: orders and subscriptions keep showing who bought. */
export async function findCustomersByIds(db: Executor, organizationId: string, ids: string[]): Promise<CustomerRow[]> {
  if (ids.length === 0) return []
  return db.selectFrom('customers').selectAll().where('organization_id', '=', organizationId).where('id', 'in', ids).execute()
}

export interface CustomerFilter {
  email?: string
  metadata?: Record<string, string[]>
  query?: string
  active?: boolean
  sorting: string[]
}

// Polar's "active customer": at least one trialing, active or past_due subscription.
const hasActiveSubscription = sql<boolean>`exists (select 1 from subscriptions s where s.customer_id = customers.id and s.status in ('trialing', 'active', 'past_due'))`

export async function listCustomers(db: Executor, organizationId: string, filter: CustomerFilter, page: Page) {
  let q = whereMetadata(live(db, organizationId), filter.metadata)
  if (filter.email !== undefined) q = q.where(sql<string>`lower(email)`, '=', filter.email.trim().toLowerCase())
  if (filter.query) {
    const p = likePattern(filter.query)
    q = q.where((eb) => eb.or([eb('email', 'ilike', p), eb('name', 'ilike', p), eb('external_id', 'ilike', p)]))
  }
  if (filter.active !== undefined) q = q.where(filter.active ? hasActiveSubscription : sql<boolean>`not ${hasActiveSubscription}`)
  const sortable = { created_at: 'created_at', email: sql`lower(email)`, name: 'name' }
  return fetchPage(q, (qb) => applySorting(qb.selectAll(), filter.sorting, sortable), page) as Promise<{ rows: CustomerRow[]; total: number }>
}

/** Keeps the Stripe Customer of a customer who paid on Stripe, unless one is kept already. */
export async function setStripeCustomerId(db: Executor, id: string, stripeCustomerId: string): Promise<void> {
  await db.updateTable('customers').set({ stripe_customer_id: stripeCustomerId }).where('id', '=', id).where('stripe_customer_id', 'is', null).execute()
}
