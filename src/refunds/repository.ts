import { sql } from 'kysely'
import type { Executor } from '../db/index'
import { applySorting, fetchPage } from '../db/helpers'
import type { NewRow, Row, RowUpdate } from '../db/types'
import type { Page } from '../http/schemas'

export type RefundRow = Row<'refunds'>

const ofOrganization = (db: Executor, organizationId: string) => db.selectFrom('refunds').where('organization_id', '=', organizationId)

export async function insertRefund(db: Executor, row: NewRow<'refunds'>): Promise<RefundRow> {
  return db.insertInto('refunds').values(row).returningAll().executeTakeFirstOrThrow()
}

export async function updateRefund(db: Executor, id: string, patch: RowUpdate<'refunds'>): Promise<RefundRow> {
  return db.updateTable('refunds').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
}

/** The refund, locked for the update that follows. */
export async function findRefundForUpdate(db: Executor, organizationId: string, id: string): Promise<RefundRow | undefined> {
  return ofOrganization(db, organizationId).selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
}

export async function findRefundByProcessorId(db: Executor, organizationId: string, processorRefundId: string): Promise<RefundRow | undefined> {
  return ofOrganization(db, organizationId).selectAll().where('processor_refund_id', '=', processorRefundId).executeTakeFirst()
}

/** What the order's refunds still in flight hold back (net and tax): not yet on the order, not yet refundable again. */
export async function pendingTotals(db: Executor, orderId: string): Promise<{ amount: number; tax: number }> {
  const row = await db
    .selectFrom('refunds')
    .select([sql<number>`coalesce(sum(amount), 0)::int`.as('amount'), sql<number>`coalesce(sum(tax_amount), 0)::int`.as('tax')])
    .where('order_id', '=', orderId)
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow()
  return { amount: Number(row.amount), tax: Number(row.tax) }
}

export interface RefundFilter {
  ids?: string[]
  orderIds?: string[]
  subscriptionIds?: string[]
  customerIds?: string[]
  externalCustomerIds?: string[]
  succeeded?: boolean
  sorting: string[]
}

const sortable = { created_at: 'created_at', amount: 'amount' }

export async function listRefunds(db: Executor, organizationId: string, filter: RefundFilter, page: Page) {
  let q = ofOrganization(db, organizationId)
  if (filter.ids?.length) q = q.where('id', 'in', filter.ids)
  if (filter.orderIds?.length) q = q.where('order_id', 'in', filter.orderIds)
  if (filter.subscriptionIds?.length) q = q.where('subscription_id', 'in', filter.subscriptionIds)
  if (filter.customerIds?.length) q = q.where('customer_id', 'in', filter.customerIds)
  if (filter.externalCustomerIds?.length) {
    const external = filter.externalCustomerIds
    q = q.where('customer_id', 'in', (eb) => eb.selectFrom('customers').select('customers.id').where('customers.organization_id', '=', organizationId).where('customers.external_id', 'in', external))
  }
  if (filter.succeeded !== undefined) q = q.where('status', filter.succeeded ? '=' : '<>', 'succeeded')
  return fetchPage(q, (qb) => applySorting(qb.selectAll(), filter.sorting, sortable), page) as Promise<{ rows: RefundRow[]; total: number }>
}
