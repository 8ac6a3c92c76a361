import { z } from 'zod'
import { Customer } from '../customers/schemas'
import { DiscountMinimal } from '../discounts/schemas'
import {
  MetadataOutput,
  NullableTimestamp,
  Timestamp,
  Uuid,
  listOf,
  paginationQuery,
  queryBoolean,
  sortingQuery,
  stringList,
  MetadataQuery,
} from '../http/schemas'
import { Interval, Product, ProductPrice } from '../products/schemas'

export const SubscriptionStatus = z
  .enum(['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused'])
  .describe('The status of the subscription.')
export type SubscriptionStatus = z.infer<typeof SubscriptionStatus>

export const CustomerCancellationReason = z.enum([
  'customer_service',
  'low_quality',
  'missing_features',
  'switched_service',
  'too_complex',
  'too_expensive',
  'unused',
  'other',
]).describe("The customer's reason for cancelling, as Polar names them.")
export type CustomerCancellationReason = z.infer<typeof CustomerCancellationReason>

/** A discount as orders and subscriptions embed it: without its product restrictions (Polar's `DiscountBase`). */
export const DiscountBase = DiscountMinimal.describe('The discount applied, if any.')
export type DiscountBase = DiscountMinimal

export const CustomFieldDataOutput = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).nullable())
  .describe('Key-value object storing custom field values, by field slug.')

/** The subscription's own fields, as orders embed it (Polar's `OrderSubscription`). */
export const SubscriptionBase = z.object({
  metadata: MetadataOutput,
  created_at: Timestamp.describe('Creation timestamp of the object.'),
  modified_at: NullableTimestamp.describe('Last modification timestamp of the object.'),
  id: Uuid.describe('The ID of the subscription.'),
  amount: z.number().int().describe('The amount of the subscription, in cents, after discount.'),
  currency: z.string().describe('The currency of the subscription.'),
  recurring_interval: Interval.describe('The interval at which the subscription recurs.'),
  recurring_interval_count: z.number().int().describe('Number of interval units of the subscription.'),
  status: SubscriptionStatus,
  current_period_start: Timestamp.describe('The start timestamp of the current billing period.'),
  current_period_end: Timestamp.describe('The end timestamp of the current billing period.'),
  current_meter_period_start: z.null().describe('Meters are not part of Kassa: always null.'),
  current_meter_period_end: z.null().describe('Meters are not part of Kassa: always null.'),
  trial_start: NullableTimestamp.describe('The start timestamp of the trial period, if any.'),
  trial_end: NullableTimestamp.describe('The end timestamp of the trial period, if any.'),
  cancel_at_period_end: z.boolean().describe('Whether the subscription will be canceled at the end of the current period.'),
  canceled_at: NullableTimestamp.describe('The timestamp when the subscription was canceled.'),
  started_at: NullableTimestamp.describe('The timestamp when the subscription started.'),
  ends_at: NullableTimestamp.describe('The timestamp when the subscription will end.'),
  ended_at: NullableTimestamp.describe('The timestamp when the subscription ended.'),
  past_due_at: NullableTimestamp.describe('The timestamp when the subscription became past due.'),
  pause_at_period_end: z.boolean().describe('Whether the subscription will be paused at the end of the current period.'),
  paused_at: NullableTimestamp.describe('The timestamp when the subscription was paused.'),
  resumes_at: NullableTimestamp.describe('The timestamp when a paused subscription resumes.'),
  customer_id: Uuid.describe('The ID of the subscribed customer.'),
  product_id: Uuid.describe('The ID of the subscribed product.'),
  discount_id: Uuid.nullable().describe('The ID of the applied discount, if any.'),
  checkout_id: Uuid.nullable().describe('The ID of the checkout session that made the subscription.'),
  seats: z.number().int().nullable().describe('Seat-based subscriptions are not part of Kassa yet: always null.'),
  units: z.null().describe('The number of units, for unit-based subscriptions: Kassa has none, always null.'),
  customer_cancellation_reason: CustomerCancellationReason.nullable(),
  customer_cancellation_comment: z.string().nullable().describe("The customer's comment on why they cancelled."),
})
export type SubscriptionBase = z.infer<typeof SubscriptionBase>

export const Subscription = SubscriptionBase.extend({
  custom_field_data: CustomFieldDataOutput,
  customer: Customer,
  product: Product,
  discount: DiscountBase.nullable(),
  prices: z.array(ProductPrice).describe('The price(s) the subscription is billed on.'),
  meters: z.array(z.never()).describe('Meters are not part of Kassa: always empty.'),
  pending_update: z.null().describe('Scheduled plan changes are not part of Kassa: always null.'),
}).describe('A subscription, made when a checkout for a recurring product succeeds.')
export type Subscription = z.infer<typeof Subscription>

export const SubscriptionList = listOf(Subscription)

export const SubscriptionListQuery = z.object({
  organization_id: stringList(Uuid).optional().describe('Filter by organization ID.'),
  product_id: stringList(Uuid).optional().describe('Filter by product ID.'),
  customer_id: stringList(Uuid).optional().describe('Filter by customer ID.'),
  external_customer_id: stringList(z.string()).optional().describe('Filter by customer external ID.'),
  discount_id: stringList(Uuid).optional().describe('Filter by discount ID.'),
  active: queryBoolean.optional().describe('Filter by active (trialing or active) or inactive subscription.'),
  status: stringList(SubscriptionStatus).optional().describe('Filter by subscription status.'),
  cancel_at_period_end: queryBoolean.optional().describe('Filter by subscriptions that are set to cancel at period end.'),
  customer_cancellation_reason: stringList(CustomerCancellationReason).optional().describe('Filter by customer cancellation reason.'),
  canceled_at_after: z.iso.datetime({ offset: true }).optional().describe('Filter by cancellation date (after or equal to).'),
  canceled_at_before: z.iso.datetime({ offset: true }).optional().describe('Filter by cancellation date (before or equal to).'),
  started_after: z.iso.datetime({ offset: true }).optional().describe('Filter by start date (after or equal to).'),
  started_before: z.iso.datetime({ offset: true }).optional().describe('Filter by start date (before or equal to).'),
  metadata: MetadataQuery,
  ...paginationQuery,
  sorting: sortingQuery(['customer', 'status', 'started_at', 'current_period_end', 'ended_at', 'ends_at', 'amount', 'product', 'discount'], '-started_at'),
})
export type SubscriptionListQuery = z.infer<typeof SubscriptionListQuery>

export const SubscriptionIdParams = z.object({ id: Uuid.describe('The subscription ID.') })

/**
 * Polar's `SubscriptionUpdate` union, as one object: Kassa applies its `SubscriptionCancel`
 * (`cancel_at_period_end`) and `SubscriptionRevoke` (`revoke: true`) variants; the keys of the others
 * (product, discount, trial, seats, units, billing period, pause, resume, pending update, metadata) are
 * recognised so they are answered with a clear 422 ("not supported yet") rather than an unknown key.
 */
export const SubscriptionUpdate = z
  .strictObject({
    cancel_at_period_end: z
      .boolean()
      .optional()
      .describe('`true`: cancel the subscription once the current period ends. `false`: uncancel a subscription set to be canceled at period end.'),
    revoke: z.literal(true).optional().describe('Cancel and revoke the subscription immediately.'),
    customer_cancellation_reason: CustomerCancellationReason.nullish().describe("The customer's reason for cancelling (with `cancel_at_period_end: true` or `revoke`)."),
    customer_cancellation_comment: z.string().nullish().describe("The customer's comment on why they cancelled (with `cancel_at_period_end: true` or `revoke`)."),
    product_id: z.unknown().optional().describe('Changing the product is not supported by Kassa yet (422).'),
    proration_behavior: z.unknown().optional().describe('Not supported by Kassa yet (422).'),
    discount_id: z.unknown().optional().describe('Changing the discount is not supported by Kassa yet (422).'),
    trial_end: z.unknown().optional().describe('Changing the trial is not supported by Kassa yet (422).'),
    metadata: z.unknown().optional().describe("Updating a subscription's metadata is not supported by Kassa yet (422)."),
    seats: z.unknown().optional().describe('Seats are not supported by Kassa yet (422).'),
    units: z.unknown().optional().describe('Units are not supported by Kassa (422).'),
    current_billing_period_end: z.unknown().optional().describe('Moving the billing period is not supported by Kassa yet (422).'),
    pause_at_period_end: z.unknown().optional().describe('Pausing is not supported by Kassa yet (422).'),
    resumes_at: z.unknown().optional().describe('Pausing is not supported by Kassa yet (422).'),
    resume: z.unknown().optional().describe('Pausing is not supported by Kassa yet (422).'),
    pending_update: z.unknown().optional().describe('Kassa has no pending updates (422).'),
  })
  .describe('Update a subscription: cancel at period end, uncancel, or revoke now (Polar\'s `SubscriptionCancel` and `SubscriptionRevoke`).')
export type SubscriptionUpdate = z.infer<typeof SubscriptionUpdate>

/** The body keys of Polar's update variants Kassa does not apply yet. */
export const UNSUPPORTED_UPDATE_KEYS = [
  'product_id',
  'proration_behavior',
  'discount_id',
  'trial_end',
  'metadata',
  'seats',
  'units',
  'current_billing_period_end',
  'pause_at_period_end',
  'resumes_at',
  'resume',
  'pending_update',
] as const satisfies readonly (keyof SubscriptionUpdate)[]
