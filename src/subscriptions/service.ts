import { getCustomersByIds } from '../customers/service'
import type { Executor } from '../db/index'
import type { Row } from '../db/types'
import type { Deps } from '../deps'
import type { Discount } from '../discounts/schemas'
import { getDiscountsByIds } from '../discounts/service'
import { ResourceNotFound } from '../http/errors'
import { iso, isoOrNull, paginated, type Page } from '../http/schemas'
import { newId } from '../lib/ids'
import { addInterval } from '../lib/time'
import type { AuthContext } from '../organizations/service'
import type { Product } from '../products/schemas'
import { getProductsByIds, toPrice } from '../products/service'
import * as repo from './repository'
import type { CustomerCancellationReason, DiscountBase, Subscription, SubscriptionBase, SubscriptionListQuery, SubscriptionStatus } from './schemas'

/** `start` plus `count` intervals, in UTC; a month or year landing past the month's end clamps to its last day. */

export function toSubscriptionBase(row: repo.SubscriptionRow): SubscriptionBase {
  return {
    metadata: row.metadata,
    created_at: iso(row.created_at),
    modified_at: isoOrNull(row.modified_at),
    id: row.id,
    amount: row.amount,
    currency: row.currency,
    recurring_interval: row.recurring_interval,
    recurring_interval_count: row.recurring_interval_count,
    status: row.status,
    current_period_start: iso(row.current_period_start),
    current_period_end: iso(row.current_period_end),
    current_meter_period_start: null,
    current_meter_period_end: null,
    trial_start: isoOrNull(row.trial_start),
    trial_end: isoOrNull(row.trial_end),
    cancel_at_period_end: row.cancel_at_period_end,
    canceled_at: isoOrNull(row.canceled_at),
    started_at: isoOrNull(row.started_at),
    ends_at: isoOrNull(row.ends_at),
    ended_at: isoOrNull(row.ended_at),
    past_due_at: isoOrNull(row.past_due_at),
    pause_at_period_end: false,
    paused_at: null,
    resumes_at: null,
    customer_id: row.customer_id,
    product_id: row.product_id,
    discount_id: row.discount_id,
    checkout_id: row.checkout_id,
    seats: null,
    units: null,
    customer_cancellation_reason: (row.customer_cancellation_reason as CustomerCancellationReason | null) ?? null,
    customer_cancellation_comment: row.customer_cancellation_comment,
  }
}

const withoutProducts = ({ products: _, ...base }: Discount): DiscountBase => base

/**
 * Discounts as orders and subscriptions embed them (without their product restrictions), by id.
 * Null and unknown ids are left out; so are deleted discounts, as the discounts service only returns live ones.
 */
export async function getDiscountBases(db: Executor, organizationId: string, ids: (string | null)[]): Promise<Map<string, DiscountBase>> {
  const unique = [...new Set(ids.filter((id): id is string => id !== null))]
  if (unique.length === 0) return new Map()
  return new Map((await getDiscountsByIds(db, organizationId, unique)).map((d) => [d.id, withoutProducts(d)]))
}

/** Subscriptions in the API shape, in the order of `rows`. */
export async function hydrate(db: Executor, organizationId: string, rows: repo.SubscriptionRow[]): Promise<Subscription[]> {
  if (rows.length === 0) return []
  const [customers, products, discounts, prices] = await Promise.all([
    getCustomersByIds(db, organizationId, rows.map((r) => r.customer_id)),
    getProductsByIds(db, organizationId, [...new Set(rows.map((r) => r.product_id))]),
    getDiscountBases(db, organizationId, rows.map((r) => r.discount_id)),
    repo.findPricesByIds(db, [...new Set(rows.map((r) => r.product_price_id))]),
  ])
  // A subscription refers to its product, so that product is never deletable: no query needed to say so.
  const productById = new Map(products.map((p) => [p.id, { ...p, is_deletable: false }]))
  const priceById = new Map(prices.map((p) => [p.id, toPrice(p)]))
  return rows.map((row) => {
    const customer = customers.get(row.customer_id)
    const product = productById.get(row.product_id)
    // Foreign keys within one organization make these unreachable; fail loudly rather than answer half a subscription.
    if (!customer || !product) throw new Error(`subscription ${row.id}: customer or product missing`)
    const price = priceById.get(row.product_price_id)
    return {
      ...toSubscriptionBase(row),
      custom_field_data: row.custom_field_data,
      customer,
      product,
      discount: row.discount_id ? (discounts.get(row.discount_id) ?? null) : null,
      prices: price ? [price] : [],
      meters: [],
      pending_update: null,
    }
  })
}

export async function getSubscriptionOrThrow(deps: Pick<Deps, 'db'>, auth: AuthContext, id: string): Promise<Subscription> {
  const row = await repo.findSubscription(deps.db, auth.organizationId, id)
  if (!row) throw new ResourceNotFound()
  return (await hydrate(deps.db, auth.organizationId, [row]))[0]!
}

export async function listSubscriptions(deps: Pick<Deps, 'db'>, auth: AuthContext, query: SubscriptionListQuery) {
  const page: Page = { page: query.page, limit: query.limit }
  if (query.organization_id && !query.organization_id.includes(auth.organizationId)) return paginated([], 0, page)

  let statuses: SubscriptionStatus[] | undefined = query.status
  if (query.active !== undefined) {
    const all = statuses ?? (['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused'] as const)
    statuses = all.filter((s) => repo.isActiveStatus(s) === query.active)
  }
  const { rows, total } = await repo.listSubscriptions(
    deps.db,
    auth.organizationId,
    {
      productIds: query.product_id,
      customerIds: query.customer_id,
      externalCustomerIds: query.external_customer_id,
      discountIds: query.discount_id,
      statuses,
      startedAfter: query.started_after ? new Date(query.started_after) : undefined,
      startedBefore: query.started_before ? new Date(query.started_before) : undefined,
      cancelAtPeriodEnd: query.cancel_at_period_end,
      cancellationReasons: query.customer_cancellation_reason,
      canceledAfter: query.canceled_at_after ? new Date(query.canceled_at_after) : undefined,
      canceledBefore: query.canceled_at_before ? new Date(query.canceled_at_before) : undefined,
      metadata: query.metadata,
      sorting: query.sorting,
    },
    page,
  )
  return paginated(await hydrate(deps.db, auth.organizationId, rows), total, page)
}

/** A subscription of the organization in the API shape (for webhooks). */
export async function getSubscriptionById(db: Executor, organizationId: string, id: string): Promise<Subscription | undefined> {
  const row = await repo.findSubscription(db, organizationId, id)
  return row ? (await hydrate(db, organizationId, [row]))[0] : undefined
}

/** The organization's subscriptions by id, without customer and product (as orders embed them). */
export async function getSubscriptionBasesByIds(db: Executor, organizationId: string, ids: string[]): Promise<Map<string, SubscriptionBase>> {
  const rows = await repo.findSubscriptionsByIds(db, organizationId, [...new Set(ids)])
  return new Map(rows.map((r) => [r.id, toSubscriptionBase(r)]))
}

export interface SubscriptionForCheckout {
  organizationId: string
  customerId: string
  checkout: Row<'checkouts'>
  /** The checkout's product: the API shape or its row. */
  product: Pick<Product, 'id' | 'name' | 'recurring_interval' | 'recurring_interval_count'>
  /** End of the trial, if the subscription starts with one. */
  trialEnd: Date | null
  /** The saved payment method renewals charge off-session (Stripe), null for the sandbox. */
  paymentMethodId?: string | null
  now: Date
}

/**
 * The subscription a successful checkout of a recurring product makes. Runs inside the caller's
 * transaction and opens none. Idempotent per checkout (`subscriptions_checkout_id_key`): a second
 * call, even a concurrent one, returns the first subscription with `created: false`.
 */
export async function createSubscriptionForCheckout(tx: Executor, input: SubscriptionForCheckout): Promise<{ subscription: Subscription; created: boolean }> {
  const { checkout, product, now, trialEnd } = input
  if (product.id !== checkout.product_id) throw new Error(`createSubscriptionForCheckout: product ${product.id} is not the checkout's product`)
  if (!product.recurring_interval) throw new Error(`createSubscriptionForCheckout: product ${product.id} is not recurring`)
  const count = product.recurring_interval_count ?? 1
  const trialing = trialEnd !== null && trialEnd.getTime() > now.getTime()

  const inserted = await repo.insertSubscriptionIfAbsent(tx, {
    id: newId(),
    organization_id: input.organizationId,
    customer_id: input.customerId,
    product_id: checkout.product_id,
    product_price_id: checkout.product_price_id,
    discount_id: checkout.discount_id,
    checkout_id: checkout.id,
    status: trialing ? 'trialing' : 'active',
    amount: checkout.net_amount,
    currency: checkout.currency,
    recurring_interval: product.recurring_interval,
    recurring_interval_count: count,
    current_period_start: now,
    current_period_end: trialing ? trialEnd : addInterval(now, product.recurring_interval, count),
    trial_start: trialing ? now : null,
    trial_end: trialing ? trialEnd : null,
    started_at: now,
    payment_method_id: input.paymentMethodId ?? null,
    metadata: JSON.stringify(checkout.metadata ?? {}),
    custom_field_data: JSON.stringify(checkout.custom_field_data ?? {}),
    created_at: now,
  })
  const row = inserted ?? (await repo.findSubscriptionByCheckoutId(tx, input.organizationId, checkout.id))
  if (!row) throw new Error(`createSubscriptionForCheckout: subscription of checkout ${checkout.id} not visible`)
  return { subscription: (await hydrate(tx, input.organizationId, [row]))[0]!, created: inserted !== undefined }
}
// Kept for callers that import it from here; the one implementation is lib/time.
export { addInterval }
