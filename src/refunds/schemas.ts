import { z } from 'zod'
import { MetadataInput, MetadataOutput, NullableTimestamp, Timestamp, Uuid, listOf, paginationQuery, queryBoolean, sortingQuery, stringList } from '../http/schemas'

/** Polar's `RefundStatus`. */
export const RefundStatus = z.enum(['pending', 'succeeded', 'failed', 'canceled']).describe('The status of the refund.')

/** Polar's `RefundReason`: `dispute_prevention` is the system's own, never chosen by a merchant. */
export const RefundReason = z
  .enum(['duplicate', 'fraudulent', 'customer_request', 'service_disruption', 'satisfaction_guarantee', 'dispute_prevention', 'other'])
  .describe('Why the order was refunded.')

/** Polar's `ManualRefundReason`: the reasons a merchant may give. */
export const ManualRefundReason = z
  .enum(['duplicate', 'fraudulent', 'customer_request', 'service_disruption', 'satisfaction_guarantee', 'other'])
  .describe('Reason for the refund.')

export const Refund = z
  .object({
    created_at: Timestamp.describe('Creation timestamp of the object.'),
    modified_at: NullableTimestamp.describe('Last modification timestamp of the object.'),
    id: Uuid.describe('The ID of the object.'),
    metadata: MetadataOutput.describe('Key-value pairs given when the refund was made.'),
    status: RefundStatus,
    reason: RefundReason,
    amount: z.number().int().describe('Amount refunded in cents, before taxes.'),
    tax_amount: z.number().int().describe('Sales tax refunded in cents (in proportion to the amount).'),
    currency: z.string().describe('The currency of the refund: the order\'s.'),
    organization_id: Uuid,
    order_id: Uuid,
    subscription_id: Uuid.nullable().describe('The subscription of the refunded order, if any.'),
    customer_id: Uuid,
    revoke_benefits: z.boolean().describe('Whether the refund was asked to revoke the customer\'s benefits (Kassa has no benefits: stored as given).'),
    dispute: z.null().describe('The dispute a refund prevented: Kassa makes no dispute-prevention refunds, always null.'),
  })
  .describe('A refund of an order, made through the payment processor.')
export type Refund = z.infer<typeof Refund>

export const RefundList = listOf(Refund)

export const RefundCreate = z
  .object({
    metadata: MetadataInput.optional(),
    order_id: Uuid.describe('The order to refund.'),
    reason: ManualRefundReason,
    amount: z.number().int().gt(0).describe('Amount to refund in cents, before taxes (the tax is refunded in proportion). Minimum is 1.'),
    comment: z.string().nullable().optional().describe('An internal comment about the refund.'),
    revoke_benefits: z
      .boolean()
      .default(false)
      .describe('Should this refund revoke the customer\'s benefits? Only allowed when the order is a one-time purchase. Kassa has no benefits: it is stored and returned.'),
  })
  .describe('A refund to make.')
export type RefundCreate = z.infer<typeof RefundCreate>

export const RefundListQuery = z.object({
  id: stringList(Uuid).optional().describe('Filter by refund ID.'),
  organization_id: stringList(Uuid).optional().describe('Filter by organization ID.'),
  order_id: stringList(Uuid).optional().describe('Filter by order ID.'),
  subscription_id: stringList(Uuid).optional().describe('Filter by subscription ID.'),
  customer_id: stringList(Uuid).optional().describe('Filter by customer ID.'),
  external_customer_id: stringList(z.string()).optional().describe('Filter by customer external ID.'),
  succeeded: queryBoolean.optional().describe('Filter by `succeeded`: true for succeeded refunds only, false for the others.'),
  ...paginationQuery,
  sorting: sortingQuery(['created_at', 'amount']),
})
export type RefundListQuery = z.infer<typeof RefundListQuery>
