/** The API shapes the dashboard reads (a subset of src/*\/schemas.ts). */

export type Interval = 'day' | 'week' | 'month' | 'year'
export type Metadata = Record<string, string | number | boolean>

export interface Organization {
  id: string
  name: string
  slug: string
}

/** The organization as `GET /v1/organizations/{id}` returns it (the fields the settings page reads). */
export interface OrganizationSettings extends Organization {
  embed_hosts: string[]
}

/** Kassa's own `GET /v1/organizations/{id}/payment-settings`: secrets never come back, only their last four. */
export interface PaymentSettings {
  processor: 'sandbox' | 'stripe'
  source: 'organization' | 'environment' | 'default'
  livemode: boolean
  stripe: {
    secret_key_last4: string
    secret_key_type: 'secret' | 'restricted'
    publishable_key: string
    webhook_secret_last4: string | null
    mode: 'test' | 'live'
  } | null
  webhook_url: string
  webhook_events: string[]
  encryption_key_configured: boolean
  modified_at: string | null
}

export interface Session {
  user: { id: string; email: string }
  organizations: Organization[]
  organization_id: string
  csrf_token: string
}

interface PriceBase {
  id: string
  price_currency: string
  is_archived: boolean
  product_id: string
}
export interface PriceFixed extends PriceBase {
  amount_type: 'fixed'
  price_amount: number
}
export interface PriceCustom extends PriceBase {
  amount_type: 'custom'
  minimum_amount: number
  maximum_amount: number | null
  preset_amount: number | null
}
export type Price = PriceFixed | PriceCustom

export type CustomFieldType = 'text' | 'number' | 'date' | 'checkbox' | 'select'
export interface CustomFieldProperties {
  form_label?: string
  form_help_text?: string
  form_placeholder?: string
  textarea?: boolean
  min_length?: number
  max_length?: number
  ge?: number
  le?: number
  options?: { value: string; label: string }[]
}
export interface CustomField {
  id: string
  created_at: string
  type: CustomFieldType
  slug: string
  name: string
  properties: CustomFieldProperties
  metadata: Metadata
}

export interface AttachedCustomField {
  custom_field_id: string
  custom_field: CustomField
  order: number
  required: boolean
}

export interface ProductBase {
  id: string
  created_at: string
  name: string
  description: string | null
  recurring_interval: Interval | null
  recurring_interval_count: number | null
  trial_interval: Interval | null
  trial_interval_count: number | null
  is_recurring: boolean
  is_archived: boolean
  /** Whether nothing (order, subscription, checkout session, discount) refers to it, so it can be deleted. */
  is_deletable?: boolean
  metadata: Metadata
}
export interface Product extends ProductBase {
  prices: Price[]
  attached_custom_fields: AttachedCustomField[]
}

export interface Discount {
  id: string
  created_at: string
  name: string
  code: string | null
  type: 'fixed' | 'percentage'
  basis_points?: number
  amount?: number
  currency?: string
  amounts?: Record<string, number>
  duration: 'once' | 'forever' | 'repeating'
  duration_in_months?: number
  starts_at: string | null
  ends_at: string | null
  max_redemptions: number | null
  redemptions_count: number
  products?: ProductBase[]
  metadata: Metadata
}

export interface CheckoutLink {
  id: string
  created_at: string
  label: string | null
  url: string
  client_secret: string
  products: (ProductBase & { prices: Price[] })[]
  discount_id: string | null
  discount: Discount | null
  allow_discount_codes: boolean
  require_billing_address: boolean
  success_url: string | null
  return_url: string | null
  trial_interval: Interval | null
  trial_interval_count: number | null
  metadata: Metadata
}

export type CheckoutStatus = 'open' | 'expired' | 'confirmed' | 'succeeded' | 'failed'
export interface Checkout {
  id: string
  created_at: string
  status: CheckoutStatus
  customer_email: string | null
  customer_name: string | null
  total_amount: number
  currency: string
  product: ProductBase | null
  metadata: Metadata
  checkout_link_id: string | null
}

export interface Customer {
  id: string
  created_at: string
  email: string
  name: string | null
  external_id: string | null
  metadata: Metadata
}

export type OrderStatus = 'pending' | 'paid' | 'refunded' | 'partially_refunded' | 'void'

export interface OrderItem {
  id: string
  label: string
  amount: number
  tax_amount: number
  start_timestamp: string | null
  end_timestamp: string | null
}

export interface OrderDispute {
  id: string
  status: string
  amount: number
  reason: string | null
  created_at: string
}

export interface Order {
  id: string
  created_at: string
  modified_at?: string | null
  status: OrderStatus
  paid?: boolean
  subtotal_amount?: number
  tax_amount?: number
  total_amount: number
  net_amount: number
  discount_amount: number
  refunded_amount?: number
  refunded_tax_amount?: number
  refundable_amount?: number
  refundable_tax_amount?: number
  currency: string
  billing_reason: string
  customer: Customer
  product: ProductBase | null
  discount: { name: string; code: string | null } | null
  metadata: Metadata
  custom_field_data: Record<string, string | number | boolean | null>
  checkout_id: string | null
  subscription_id?: string | null
  subscription?: SubscriptionBase | null
  items?: OrderItem[]
  description: string
  /** Kassa's own: paid with real money (a live Stripe key). */
  livemode?: boolean
  /** Kassa's own: the card dispute opened on the payment. */
  dispute?: OrderDispute | null
}

export type RefundReason = 'duplicate' | 'fraudulent' | 'customer_request' | 'service_disruption' | 'satisfaction_guarantee' | 'dispute_prevention' | 'other'

export interface Refund {
  id: string
  created_at: string
  status: 'pending' | 'succeeded' | 'failed' | 'canceled'
  reason: RefundReason
  amount: number
  tax_amount: number
  currency: string
  order_id: string
  subscription_id: string | null
  metadata: Metadata
}

export type SubscriptionStatus = 'incomplete' | 'incomplete_expired' | 'trialing' | 'active' | 'past_due' | 'canceled' | 'unpaid' | 'paused'

export type CancellationReason = 'customer_service' | 'low_quality' | 'missing_features' | 'switched_service' | 'too_complex' | 'too_expensive' | 'unused' | 'other'

export interface SubscriptionBase {
  id: string
  created_at: string
  amount: number
  currency: string
  recurring_interval: Interval
  recurring_interval_count: number
  status: SubscriptionStatus
  current_period_start: string
  current_period_end: string
  trial_start: string | null
  trial_end: string | null
  cancel_at_period_end: boolean
  canceled_at: string | null
  started_at: string | null
  ends_at: string | null
  ended_at: string | null
  past_due_at: string | null
  customer_id: string
  product_id: string
  checkout_id: string | null
  customer_cancellation_reason: CancellationReason | null
  customer_cancellation_comment: string | null
  metadata: Metadata
}

export interface Subscription extends SubscriptionBase {
  customer: Customer
  product: ProductBase
  discount: { name: string; code: string | null } | null
}

export interface AccessToken {
  id: string
  created_at: string
  comment: string
  scopes: string[]
  expires_at: string | null
  last_used_at: string | null
}
