import { sql } from 'kysely'
import type { Executor } from '../db/index'
import { applySorting, fetchPage, likePattern, whereMetadata } from '../db/helpers'
import type { NewRow, Row, RowUpdate } from '../db/types'
import type { Page } from '../http/schemas'

export type OrderRow = Row<'orders'>

const ofOrganization = (db: Executor, organizationId: string) => db.selectFrom('orders').where('organization_id', '=', organizationId)

/** Inserts unless the checkout already made an order (`orders_checkout_id_key`); `undefined` then. */
export async function insertOrderIfAbsent(db: Executor, row: NewRow<'orders'>): Promise<OrderRow | undefined> {
  return db.insertInto('orders').values(row).onConflict((oc) => oc.column('checkout_id').doNothing()).returningAll().executeTakeFirst()
}

export async function findOrderByCheckoutId(db: Executor, organizationId: string, checkoutId: string): Promise<OrderRow | undefined> {
  return ofOrganization(db, organizationId).selectAll().where('checkout_id', '=', checkoutId).executeTakeFirst()
}

export async function findOrder(db: Executor, organizationId: string, id: string): Promise<OrderRow | undefined> {
  return ofOrganization(db, organizationId).selectAll().where('id', '=', id).executeTakeFirst()
}

export async function findOrderForUpdate(db: Executor, organizationId: string, id: string): Promise<OrderRow | undefined> {
  return ofOrganization(db, organizationId).selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
}

export interface OrderFilter {
  productIds?: string[]
  metadata?: Record<string, string[]>
  billingTypes?: ('one_time' | 'recurring')[]
  discountIds?: string[]
  customerIds?: string[]
  externalCustomerIds?: string[]
  checkoutIds?: string[]
  subscriptionIds?: string[]
  customerEmail?: string
  statuses?: OrderRow['status'][]
  createdAfter?: Date
  createdBefore?: Date
  sorting: string[]
}

// Polar's sort keys; related names by subquery (no join, so `id` stays unambiguous).
const sortable = {
  created_at: 'created_at',
  status: sql`(case status when 'pending' then 1 when 'paid' then 2 when 'refunded' then 3 when 'partially_refunded' then 4 else 5 end)`,
  invoice_number: sql`cast(null as text)`,
  amount: 'net_amount',
  net_amount: 'net_amount',
  customer: sql`(select c.email from customers c where c.id = orders.customer_id)`,
  product: sql`(select p.name from products p where p.id = orders.product_id)`,
  discount: sql`(select d.name from discounts d where d.id = orders.discount_id)`,
  subscription: 'subscription_id',
}

export async function listOrders(db: Executor, organizationId: string, filter: OrderFilter, page: Page) {
  let q = ofOrganization(db, organizationId)
  if (filter.productIds?.length) q = q.where('product_id', 'in', filter.productIds)
  q = whereMetadata(q, filter.metadata)
  if (filter.billingTypes?.length && filter.billingTypes.length < 2) {
    q = q.where('billing_reason', filter.billingTypes[0] === 'one_time' ? '=' : '<>', 'purchase')
  }
  if (filter.discountIds?.length) q = q.where('discount_id', 'in', filter.discountIds)
  if (filter.customerIds?.length) q = q.where('customer_id', 'in', filter.customerIds)
  if (filter.checkoutIds?.length) q = q.where('checkout_id', 'in', filter.checkoutIds)
  if (filter.subscriptionIds?.length) q = q.where('subscription_id', 'in', filter.subscriptionIds)
  if (filter.statuses?.length) q = q.where('status', 'in', filter.statuses)
  if (filter.createdAfter) q = q.where('created_at', '>=', filter.createdAfter)
  if (filter.createdBefore) q = q.where('created_at', '<=', filter.createdBefore)
  if (filter.externalCustomerIds?.length || filter.customerEmail) {
    const { externalCustomerIds: external, customerEmail: email } = filter
    q = q.where('customer_id', 'in', (eb) => {
      let c = eb.selectFrom('customers').select('customers.id').where('customers.organization_id', '=', organizationId)
      if (external?.length) c = c.where('customers.external_id', 'in', external)
      if (email) c = c.where('customers.email', 'ilike', likePattern(email))
      return c
    })
  }
  return fetchPage(q, (qb) => applySorting(qb.selectAll(), filter.sorting, sortable), page) as Promise<{ rows: OrderRow[]; total: number }>
}

/** The order a Stripe payment made, by its PaymentIntent or its charge, locked for the update that follows. */
export async function findOrderByStripePayment(db: Executor, organizationId: string, ref: { paymentIntentId: string | null; chargeId: string | null }): Promise<OrderRow | undefined> {
  const { paymentIntentId, chargeId } = ref
  if (!paymentIntentId && !chargeId) return undefined
  return ofOrganization(db, organizationId)
    .selectAll()
    .where((eb) => eb.or([...(paymentIntentId ? [eb('payment_intent_id', '=', paymentIntentId)] : []), ...(chargeId ? [eb('stripe_charge_id', '=', chargeId)] : [])]))
    .forUpdate()
    .executeTakeFirst()
}

export async function updateOrder(db: Executor, id: string, patch: RowUpdate<'orders'>): Promise<OrderRow> {
  return db.updateTable('orders').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
}
