import { z } from 'zod'
import { Address, Customer } from '../customers/schemas'
import { MetadataOutput, MetadataQuery, NullableTimestamp, Timestamp, Uuid, listOf, paginationQuery, sortingQuery, stringList } from '../http/schemas'
import { ProductBase } from '../products/schemas'
import { CustomFieldDataOutput, DiscountBase, SubscriptionBase } from '../subscriptions/schemas'

export const OrderStatus = z.enum(['pending', 'paid', 'refunded', 'partially_refunded', 'void']).describe('The status of the order.')
export const OrderBillingReason = z
  .enum(['purchase', 'subscription_create', 'subscription_cycle', 'subscription_update'])
  .describe('Why the order was made: a one-time `purchase`, or the first payment of a subscription (`subscription_create`).')
export const ProductBillingType = z.enum(['one_time', 'recurring'])

export const OrderItem = z
  .object({
    created_at: Timestamp.describe('Creation timestamp of the object.'),
    modified_at: NullableTimestamp.describe('Last modification timestamp of the object.'),
    id: Uuid.describe('The ID of the line item (stable, derived from the order).'),
    label: z.string().describe('Description of the line item charge: the product name.'),
    amount: z.number().int().describe('Amount in cents, before discounts and taxes.'),
    tax_amount: z.number().int().describe('Sales tax amount in cents.'),
    proration: z.boolean().describe('Whether this charge is due to a proration: always false.'),
    product_price_id: Uuid.nullable().describe('Associated price ID.'),
    start_timestamp: NullableTimestamp.describe('Start of the period covered by this line item: the subscription period it pays for; null for a one-time purchase.'),
    end_timestamp: NullableTimestamp.describe('End of the period covered by this line item; null for a one-time purchase.'),
  })
  .describe('A line of the order.')

export const Order = z
  .object({
    id: Uuid.describe('The ID of the order.'),
    created_at: Timestamp.describe('Creation timestamp of the object.'),
    modified_at: NullableTimestamp.describe('Last modification timestamp of the object.'),
    status: OrderStatus,
    paid: z.boolean().describe('Whether the order has been paid for.'),
    subtotal_amount: z.number().int().describe('Amount in cents, before discounts and taxes.'),
    discount_amount: z.number().int().describe('Discount amount in cents.'),
    net_amount: z.number().int().describe('Amount in cents, after discounts but before taxes.'),
    tax_amount: z.number().int().describe('Sales tax amount in cents.'),
    total_amount: z.number().int().describe('Amount in cents, after discounts and taxes.'),
    applied_balance_amount: z.number().int().describe('Customer balance applied: always 0 (Kassa keeps no balances).'),
    due_amount: z.number().int().describe('Amount in cents that is due for this order (Polar: total plus applied balance, at least 0).'),
    refunded_amount: z.number().int().describe('Amount refunded in cents (on Stripe, refunds made in Stripe\'s dashboard are recorded from `charge.refunded`).'),
    refunded_tax_amount: z.number().int().describe('Sales tax refunded in cents.'),
    currency: z.string().describe('The currency of the order.'),
    billing_reason: OrderBillingReason,
    billing_name: z.string().nullable().describe('The name of the customer that should appear on the invoice.'),
    billing_address: Address.nullable(),
    invoice_number: z.string().nullable().describe('Invoices are not part of Kassa yet: always null.'),
    is_invoice_generated: z.boolean().describe('Always false.'),
    receipt_number: z.string().nullable().describe('Always null.'),
    seats: z.number().int().nullable().describe('Always null.'),
    units: z.null().describe('Number of units purchased, for unit-based pricing: Kassa has none, always null.'),
    customer_id: Uuid,
    product_id: Uuid.nullable(),
    discount_id: Uuid.nullable(),
    subscription_id: Uuid.nullable(),
    checkout_id: Uuid.nullable().describe('The checkout session that made the order.'),
    next_payment_attempt_at: NullableTimestamp.describe('Always null.'),
    metadata: MetadataOutput.describe("Copied from the checkout session's metadata."),
    custom_field_data: CustomFieldDataOutput,
    platform_fee_amount: z.number().int().describe('Kassa takes no platform fee: always 0.'),
    platform_fee_currency: z.string().nullable().describe('Always null.'),
    customer: Customer,
    product: ProductBase.nullable(),
    discount: DiscountBase.nullable(),
    subscription: SubscriptionBase.nullable(),
    items: z.array(OrderItem).describe('Line items composing the order.'),
    description: z.string().describe('A summary description of the order: the product name.'),
    refundable_amount: z.number().int().describe('Amount in cents that can still be refunded (net, before taxes).'),
    refundable_tax_amount: z.number().int().describe('Sales tax in cents that can still be refunded.'),
    livemode: z.boolean().describe('Kassa\'s own: whether the order was paid with real money (a live Stripe key).'),
    dispute: z
      .object({ id: z.string(), status: z.string(), amount: z.number().int(), reason: z.string().nullable(), created_at: Timestamp })
      .nullable()
      .describe('Kassa\'s own: the card dispute (chargeback) opened on the payment, from Stripe\'s `charge.dispute.created`; null when there is none.'),
  })
  .describe('An order, made when a checkout session succeeds.')
export type Order = z.infer<typeof Order>

export const OrderList = listOf(Order)

export const OrderListQuery = z.object({
  organization_id: stringList(Uuid).optional().describe('Filter by organization ID.'),
  product_id: stringList(Uuid).optional().describe('Filter by product ID.'),
  product_billing_type: stringList(ProductBillingType)
    .optional()
    .describe('Filter by product billing type: `recurring` for subscription orders, `one_time` for one-time purchases.'),
  discount_id: stringList(Uuid).optional().describe('Filter by discount ID.'),
  customer_id: stringList(Uuid).optional().describe('Filter by customer ID.'),
  external_customer_id: stringList(z.string()).optional().describe('Filter by customer external ID.'),
  checkout_id: stringList(Uuid).optional().describe('Filter by checkout ID.'),
  subscription_id: stringList(Uuid).optional().describe('Filter by subscription ID.'),
  status: stringList(OrderStatus).optional().describe('Filter by order status.'),
  created_after: z.iso.datetime({ offset: true }).optional().describe('Filter by orders created at or after this date.'),
  created_before: z.iso.datetime({ offset: true }).optional().describe('Filter by orders created at or before this date.'),
  query: z.string().max(256).optional().describe("Filter by the customer's email (substring, case-insensitive). Kassa only: Polar has no such filter."),
  metadata: MetadataQuery,
  ...paginationQuery,
  sorting: sortingQuery(['created_at', 'status', 'invoice_number', 'amount', 'net_amount', 'customer', 'product', 'discount', 'subscription']),
})
export type OrderListQuery = z.infer<typeof OrderListQuery>

export const OrderIdParams = z.object({ id: Uuid.describe('The order ID.') })
