import { v5 as uuidV5 } from 'uuid'
import type { Customer } from '../customers/schemas'
import { getCustomersByIds } from '../customers/service'
import type { Executor } from '../db/index'
import type { Row } from '../db/types'
import type { Deps } from '../deps'
import { ResourceNotFound } from '../http/errors'
import { iso, isoOrNull, paginated, type Page } from '../http/schemas'
import { newId } from '../lib/ids'
import type { AuthContext } from '../organizations/service'
import type { Product, ProductBase } from '../products/schemas'
import type { EmbeddedProduct } from '../products/service'
import { getProductsByIds } from '../products/service'
import type { DiscountBase, SubscriptionBase } from '../subscriptions/schemas'
import { getDiscountBases, getSubscriptionBasesByIds } from '../subscriptions/service'
import * as repo from './repository'
import type { Order, OrderListQuery } from './schemas'
import { emitEvent } from '../webhooks/service'

interface Related {
  customer: Customer
  product: ProductBase | null
  discount: DiscountBase | null
  subscription: SubscriptionBase | null
}

function toProductBase({ prices: _p, benefits: _b, medias: _m, attached_custom_fields: _f, ...base }: EmbeddedProduct): ProductBase {
  return base
}

export function toOrder(row: repo.OrderRow, related: Related): Order {
  const createdAt = iso(row.created_at)
  const paid = row.status === 'paid' || row.status === 'refunded' || row.status === 'partially_refunded'
  return {
    id: row.id,
    created_at: createdAt,
    modified_at: isoOrNull(row.modified_at),
    status: row.status,
    paid,
    subtotal_amount: row.subtotal_amount,
    discount_amount: row.discount_amount,
    net_amount: row.net_amount,
    tax_amount: row.tax_amount,
    total_amount: row.total_amount,
    applied_balance_amount: 0,
    due_amount: Math.max(0, row.total_amount),
    refunded_amount: row.refunded_amount,
    refunded_tax_amount: row.refunded_tax_amount,
    currency: row.currency,
    billing_reason: row.billing_reason,
    billing_name: row.billing_name,
    billing_address: row.billing_address,
    invoice_number: null,
    is_invoice_generated: false,
    receipt_number: null,
    seats: null,
    units: null,
    customer_id: row.customer_id,
    product_id: row.product_id,
    discount_id: row.discount_id,
    subscription_id: row.subscription_id,
    checkout_id: row.checkout_id,
    next_payment_attempt_at: null,
    metadata: row.metadata,
    custom_field_data: row.custom_field_data,
    platform_fee_amount: 0,
    platform_fee_currency: null,
    customer: related.customer,
    product: related.product,
    discount: related.discount,
    subscription: related.subscription,
    // Kassa's orders have one line, the product's price; its id is derived from the order's, so it is stable.
    items: [
      {
        created_at: createdAt,
        modified_at: null,
        id: uuidV5('item:0', row.id),
        label: row.description,
        amount: row.subtotal_amount,
        tax_amount: row.tax_amount,
        proration: false,
        product_price_id: row.product_price_id,
        start_timestamp: isoOrNull(row.period_start),
        end_timestamp: isoOrNull(row.period_end),
      },
    ],
    description: row.description,
    refundable_amount: paid ? Math.max(0, row.net_amount - row.refunded_amount) : 0,
    refundable_tax_amount: paid ? Math.max(0, row.tax_amount - row.refunded_tax_amount) : 0,
    livemode: row.livemode,
    dispute: row.dispute_id ? { id: row.dispute_id, status: row.dispute_status ?? 'needs_response', amount: row.dispute_amount ?? row.total_amount, reason: row.dispute_reason, created_at: iso(row.disputed_at ?? row.created_at) } : null,
  }
}

/** Orders in the API shape, in the order of `rows`. */
async function hydrate(db: Executor, organizationId: string, rows: repo.OrderRow[]): Promise<Order[]> {
  if (rows.length === 0) return []
  const [customers, products, discounts, subscriptions] = await Promise.all([
    getCustomersByIds(db, organizationId, rows.map((r) => r.customer_id)),
    getProductsByIds(db, organizationId, [...new Set(rows.map((r) => r.product_id))]),
    getDiscountBases(db, organizationId, rows.map((r) => r.discount_id)),
    getSubscriptionBasesByIds(db, organizationId, rows.flatMap((r) => (r.subscription_id ? [r.subscription_id] : []))),
  ])
  const productById = new Map(products.map((p) => [p.id, toProductBase(p)]))
  return rows.map((row) => {
    const customer = customers.get(row.customer_id)
    // A foreign key within one organization makes this unreachable; fail loudly rather than answer half an order.
    if (!customer) throw new Error(`order ${row.id}: customer ${row.customer_id} missing`)
    return toOrder(row, {
      customer,
      product: productById.get(row.product_id) ?? null,
      discount: row.discount_id ? (discounts.get(row.discount_id) ?? null) : null,
      subscription: row.subscription_id ? (subscriptions.get(row.subscription_id) ?? null) : null,
    })
  })
}

export async function getOrderOrThrow(deps: Pick<Deps, 'db'>, auth: AuthContext, id: string): Promise<Order> {
  const row = await repo.findOrder(deps.db, auth.organizationId, id)
  if (!row) throw new ResourceNotFound()
  return (await hydrate(deps.db, auth.organizationId, [row]))[0]!
}

export async function listOrders(deps: Pick<Deps, 'db'>, auth: AuthContext, query: OrderListQuery) {
  const page: Page = { page: query.page, limit: query.limit }
  if (query.organization_id && !query.organization_id.includes(auth.organizationId)) return paginated([], 0, page)
  const { rows, total } = await repo.listOrders(
    deps.db,
    auth.organizationId,
    {
      productIds: query.product_id,
      billingTypes: query.product_billing_type,
      discountIds: query.discount_id,
      customerIds: query.customer_id,
      externalCustomerIds: query.external_customer_id,
      checkoutIds: query.checkout_id,
      subscriptionIds: query.subscription_id,
      customerEmail: query.query,
      metadata: query.metadata,
      statuses: query.status,
      createdAfter: query.created_after ? new Date(query.created_after) : undefined,
      createdBefore: query.created_before ? new Date(query.created_before) : undefined,
      sorting: query.sorting,
    },
    page,
  )
  return paginated(await hydrate(deps.db, auth.organizationId, rows), total, page)
}

/** An order of the organization in the API shape (for webhooks). */
export async function getOrderById(db: Executor, organizationId: string, id: string): Promise<Order | undefined> {
  const row = await repo.findOrder(db, organizationId, id)
  return row ? (await hydrate(db, organizationId, [row]))[0] : undefined
}

/** The order a checkout session made, if any, in the API shape. */
export async function getOrderByCheckoutId(db: Executor, organizationId: string, checkoutId: string): Promise<Order | undefined> {
  const row = await repo.findOrderByCheckoutId(db, organizationId, checkoutId)
  return row ? (await hydrate(db, organizationId, [row]))[0] : undefined
}

export interface OrderForCheckout {
  organizationId: string
  customerId: string
  /** The subscription the checkout made, for a recurring product; null for a one-time purchase. */
  subscriptionId: string | null
  checkout: Row<'checkouts'>
  /** The checkout's product: the API shape or its row. */
  product: Pick<Product, 'id' | 'name'>
  /** The subscription period the order pays for; null for a one-time purchase. */
  period?: { start: Date; end: Date } | null
  /** The Stripe charge that paid it (the intent is the checkout's `payment_intent_id`). */
  chargeId?: string | null
  now: Date
}

/**
 * The paid order a successful checkout makes. Runs inside the caller's transaction and opens none.
 * One order per checkout, enforced by `orders_checkout_id_key`: a second call, even a concurrent one,
 * returns the first order with `created: false`.
 */
export async function createOrderForCheckout(tx: Executor, input: OrderForCheckout): Promise<{ order: Order; created: boolean }> {
  const { checkout, product, now } = input
  if (product.id !== checkout.product_id) throw new Error(`createOrderForCheckout: product ${product.id} is not the checkout's product`)
  const inserted = await repo.insertOrderIfAbsent(tx, {
    id: newId(),
    organization_id: input.organizationId,
    customer_id: input.customerId,
    product_id: checkout.product_id,
    product_price_id: checkout.product_price_id,
    discount_id: checkout.discount_id,
    subscription_id: input.subscriptionId,
    checkout_id: checkout.id,
    status: 'paid',
    billing_reason: input.subscriptionId ? 'subscription_create' : 'purchase',
    subtotal_amount: checkout.amount,
    discount_amount: checkout.discount_amount,
    net_amount: checkout.net_amount,
    tax_amount: checkout.tax_amount,
    total_amount: checkout.total_amount,
    currency: checkout.currency,
    billing_name: checkout.customer_billing_name ?? checkout.customer_name ?? null,
    billing_address: checkout.customer_billing_address ? JSON.stringify(checkout.customer_billing_address) : null,
    description: product.name,
    metadata: JSON.stringify(checkout.metadata ?? {}),
    custom_field_data: JSON.stringify(checkout.custom_field_data ?? {}),
    period_start: input.period?.start ?? null,
    period_end: input.period?.end ?? null,
    livemode: checkout.livemode,
    payment_intent_id: checkout.processor === 'stripe' && checkout.payment_intent_id?.startsWith('pi_') ? checkout.payment_intent_id : null,
    stripe_charge_id: input.chargeId ?? null,
    created_at: now,
  })
  const row = inserted ?? (await repo.findOrderByCheckoutId(tx, input.organizationId, checkout.id))
  if (!row) throw new Error(`createOrderForCheckout: order of checkout ${checkout.id} not visible`)
  return { order: (await hydrate(tx, input.organizationId, [row]))[0]!, created: inserted !== undefined }
}

export type { OrderRow } from './repository'

/** The order's row, for a domain that works on its columns (refunds: its payment and amounts). */
export async function findOrderRow(db: Executor, organizationId: string, id: string): Promise<repo.OrderRow | undefined> {
  return repo.findOrder(db, organizationId, id)
}

/** The order, locked (`for update`) for the refund that follows: refunds of one order are checked one at a time. */
export async function lockOrderForRefund(tx: Executor, organizationId: string, id: string): Promise<repo.OrderRow | undefined> {
  return repo.findOrderForUpdate(tx, organizationId, id)
}

/**
 * A refund that succeeded, whether made through the API or recorded from the processor (Stripe's
 * `charge.refunded`): its net and tax amounts are added to the order's (Polar's `Order.update_refunds`), the
 * status becomes `refunded` once the whole net amount is refunded, else `partially_refunded`, and Polar's
 * `order.refunded` then `order.updated` are sent. The caller holds the order's row lock and passes the row it
 * read under it; the refunds domain makes sure each refund reaches here once.
 */
export async function recordRefundOnOrder(tx: Executor, row: repo.OrderRow, refund: { amount: number; taxAmount: number }, now: Date): Promise<{ row: repo.OrderRow; order: Order }> {
  const refunded = row.refunded_amount + refund.amount
  const status = refunded === 0 ? 'paid' : refunded >= row.net_amount ? 'refunded' : 'partially_refunded'
  const saved = await repo.updateOrder(tx, row.id, { refunded_amount: refunded, refunded_tax_amount: row.refunded_tax_amount + refund.taxAmount, status, modified_at: now })
  const order = (await hydrate(tx, row.organization_id, [saved]))[0]!
  await emitEvent(tx, { organizationId: row.organization_id, type: 'order.refunded', data: order, now })
  await emitEvent(tx, { organizationId: row.organization_id, type: 'order.updated', data: order, now })
  return { row: saved, order }
}

/** A dispute (chargeback) opened on the order's payment (`charge.dispute.created`), or its later status. */
export async function recordDispute(tx: Executor, row: repo.OrderRow, dispute: { id: string; status: string; amount: number; reason: string | null; createdAt: Date }, now: Date): Promise<Order | null> {
  if (row.dispute_id === dispute.id && row.dispute_status === dispute.status) return null
  const saved = await repo.updateOrder(tx, row.id, { dispute_id: dispute.id, dispute_status: dispute.status, dispute_amount: dispute.amount, dispute_reason: dispute.reason, disputed_at: row.disputed_at ?? dispute.createdAt, modified_at: now })
  const order = (await hydrate(tx, row.organization_id, [saved]))[0]!
  await emitEvent(tx, { organizationId: row.organization_id, type: 'order.updated', data: order, now })
  return order
}
