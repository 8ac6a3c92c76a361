import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely'

// Table types, kept by hand beside the migrations (src/db/migrations).
type Timestamp = ColumnType<Date, Date | string, Date | string>
type Json<T = Record<string, unknown>> = ColumnType<T, string, string>

export type Metadata = Record<string, string | number | boolean>

export interface OrganizationsTable {
  id: string
  name: string
  slug: string
  /** Normalized host patterns allowed to embed the checkout (src/organizations/embed-hosts.ts). */
  embed_hosts: ColumnType<string[], string[] | undefined, string[]>
  created_at: Timestamp
  modified_at: Timestamp | null
}

export interface AccessTokensTable {
  id: string
  organization_id: string
  token_hash: string
  scopes: string[]
  comment: string | null
  created_at: Timestamp
  expires_at: Timestamp | null
  revoked_at: Timestamp | null
  last_used_at: Timestamp | null
  modified_at: Timestamp | null
}

export interface UsersTable {
  id: string
  email: string
  password_hash: string
  created_at: Timestamp
}

export interface UserOrganizationsTable {
  user_id: string
  organization_id: string
  created_at: Timestamp
}

export interface ProductsTable {
  id: string
  organization_id: string
  name: string
  description: string | null
  visibility: Generated<'draft' | 'private' | 'public'>
  recurring_interval: Interval | null
  recurring_interval_count: number | null
  trial_interval: Interval | null
  trial_interval_count: number | null
  is_archived: Generated<boolean>
  metadata: Json<Metadata>
  created_at: Timestamp
  modified_at: Timestamp | null
}

import type { Interval } from '../lib/time'
export type { Interval }

export interface ProductPricesTable {
  id: string
  product_id: string
  amount_type: 'fixed' | 'custom'
  price_currency: string
  price_amount: number | null
  minimum_amount: number | null
  maximum_amount: number | null
  preset_amount: number | null
  is_archived: Generated<boolean>
  /** `ad_hoc`: made for one checkout session (`checkouts.ad_hoc_price_ids`), stored archived from the catalog. */
  source: Generated<'catalog' | 'ad_hoc'>
  created_at: Timestamp
  modified_at: Timestamp | null
}

export type CustomFieldType = 'text' | 'number' | 'date' | 'checkbox' | 'select'

export interface CustomFieldsTable {
  id: string
  organization_id: string
  type: CustomFieldType
  slug: string
  name: string
  properties: Json<Record<string, unknown>>
  metadata: Json<Metadata>
  created_at: Timestamp
  modified_at: Timestamp | null
  deleted_at: Timestamp | null
}

export interface ProductCustomFieldsTable {
  product_id: string
  custom_field_id: string
  order: number
  required: boolean
}

export interface DiscountsTable {
  id: string
  organization_id: string
  name: string
  type: 'fixed' | 'percentage'
  basis_points: number | null
  amount: number | null
  currency: string | null
  duration: 'once' | 'forever' | 'repeating'
  duration_in_months: number | null
  code: string | null
  starts_at: Timestamp | null
  ends_at: Timestamp | null
  max_redemptions: number | null
  max_redemptions_per_customer: number | null
  redemptions_count: Generated<number>
  metadata: Json<Metadata>
  created_at: Timestamp
  modified_at: Timestamp | null
  deleted_at: Timestamp | null
}

export interface DiscountProductsTable {
  discount_id: string
  product_id: string
}

export interface DB {
  organizations: OrganizationsTable
  access_tokens: AccessTokensTable
  users: UsersTable
  user_organizations: UserOrganizationsTable
  products: ProductsTable
  product_prices: ProductPricesTable
  custom_fields: CustomFieldsTable
  product_custom_fields: ProductCustomFieldsTable
  discounts: DiscountsTable
  discount_products: DiscountProductsTable
  checkout_links: CheckoutLinksTable
  checkout_link_products: CheckoutLinkProductsTable
  customers: CustomersTable
  checkouts: CheckoutsTable
  discount_redemptions: DiscountRedemptionsTable
  subscriptions: SubscriptionsTable
  orders: OrdersTable
  jobs: JobsTable
  webhook_endpoints: WebhookEndpointsTable
  webhook_events: WebhookEventsTable
  webhook_deliveries: WebhookDeliveriesTable
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable
  user_sessions: UserSessionsTable
  rate_limit_attempts: RateLimitAttemptsTable
  link_visit_counts: LinkVisitCountsTable
  organization_payment_settings: OrganizationPaymentSettingsTable
  stripe_events: StripeEventsTable
  refunds: RefundsTable
}

/** Polar's refunds: made through the processor (POST /v1/refunds/) or recorded from it (Stripe's `charge.refunded`). */
export interface RefundsTable {
  id: string
  organization_id: string
  order_id: string
  subscription_id: string | null
  customer_id: string
  status: 'pending' | 'succeeded' | 'failed' | 'canceled'
  reason: string
  amount: number
  tax_amount: Generated<number>
  currency: string
  comment: string | null
  metadata: Json<Metadata>
  revoke_benefits: Generated<boolean>
  processor: Generated<string>
  /** The processor's id of the refund (Stripe `re_…`); unique per organization. */
  processor_refund_id: string | null
  failure_reason: string | null
  created_at: Timestamp
  modified_at: Timestamp | null
}

/** An organization's processor and Stripe keys; secrets sealed with ENCRYPTION_KEY (lib/secret-box.ts). */
export interface OrganizationPaymentSettingsTable {
  organization_id: string
  processor: 'sandbox' | 'stripe'
  stripe_secret_key_sealed: string | null
  stripe_secret_key_last4: string | null
  stripe_publishable_key: string | null
  stripe_webhook_secret_sealed: string | null
  stripe_webhook_secret_last4: string | null
  livemode: Generated<boolean>
  created_at: Timestamp
  modified_at: Timestamp | null
}

/** Stripe webhook events handled, once each per organization. */
export interface StripeEventsTable {
  organization_id: string
  id: string
  type: string
  livemode: boolean
  received_at: Timestamp
}

export type Row<T extends keyof DB> = Selectable<DB[T]>
export type NewRow<T extends keyof DB> = Insertable<DB[T]>
export type RowUpdate<T extends keyof DB> = Updateable<DB[T]>

export interface CheckoutLinksTable {
  id: string
  organization_id: string
  client_secret: string
  payment_processor: Generated<string>
  label: string | null
  allow_discount_codes: boolean
  require_billing_address: boolean
  discount_id: string | null
  success_url: string | null
  return_url: string | null
  trial_interval: Interval | null
  trial_interval_count: number | null
  seats: number | null
  metadata: Json<Metadata>
  created_at: Timestamp
  modified_at: Timestamp | null
  deleted_at: Timestamp | null
}

export interface CheckoutLinkProductsTable {
  checkout_link_id: string
  product_id: string
  order: number
}

export interface CustomersTable {
  id: string
  organization_id: string
  email: string
  name: string | null
  billing_address: Json<Address> | null
  tax_id: string | null
  external_id: string | null
  metadata: Json<Metadata>
  stripe_customer_id: string | null
  created_at: Timestamp
  modified_at: Timestamp | null
  deleted_at: Timestamp | null
}

export interface Address {
  line1?: string | null
  line2?: string | null
  postal_code?: string | null
  city?: string | null
  state?: string | null
  country: string
}

export type CheckoutStatus = 'open' | 'expired' | 'confirmed' | 'succeeded' | 'failed'

export interface CheckoutsTable {
  id: string
  organization_id: string
  client_secret: string
  checkout_link_id: string | null
  status: Generated<CheckoutStatus>
  expires_at: Timestamp
  product_ids: string[]
  /** Polar's ad-hoc prices of this session (`CheckoutCreate.prices`), which replace their products' prices in it. */
  ad_hoc_price_ids: Generated<string[]>
  product_id: string
  product_price_id: string
  currency: string
  amount: number
  discount_amount: Generated<number>
  net_amount: number
  tax_amount: Generated<number>
  total_amount: number
  discount_id: string | null
  allow_discount_codes: boolean
  require_billing_address: boolean
  allow_trial: Generated<boolean>
  trial_interval: Interval | null
  trial_interval_count: number | null
  seats: number | null
  customer_id: string | null
  customer_name: string | null
  customer_email: string | null
  customer_ip_address: string | null
  customer_billing_name: string | null
  customer_billing_address: Json<Address> | null
  customer_tax_id: string | null
  is_business_customer: Generated<boolean>
  external_customer_id: string | null
  customer_metadata: Json<Metadata>
  locale: string | null
  success_url: string | null
  return_url: string | null
  embed_origin: string | null
  metadata: Json<Metadata>
  custom_field_data: Json<Record<string, string | number | boolean | null>>
  link_query: string | null
  payment_error: string | null
  payment_method_type: string | null
  /** Made with a live-mode Stripe key (false for test keys and the sandbox). */
  livemode: Generated<boolean>
  /** The processor that takes (or took) this session's payment: `sandbox` or `stripe`. */
  processor: Generated<string>
  /** The Stripe PaymentIntent (`pi_…`) or SetupIntent (`seti_…`) of the current confirm attempt. */
  payment_intent_id: string | null
  /** Confirm attempts so far; the attempt's idempotency key is built from the session id and this number. */
  payment_attempt: Generated<number>
  /** What the page needs to finish the payment (Polar's `payment_processor_metadata`). */
  payment_processor_metadata: ColumnType<Record<string, string>, string | undefined, string>
  stripe_customer_id: string | null
  payment_method_id: string | null
  created_at: Timestamp
  modified_at: Timestamp | null
  confirmed_at: Timestamp | null
}

export interface DiscountRedemptionsTable {
  discount_id: string
  checkout_id: string
  created_at: Timestamp
}

export interface SubscriptionsTable {
  id: string
  organization_id: string
  customer_id: string
  product_id: string
  product_price_id: string
  discount_id: string | null
  checkout_id: string | null
  status: 'incomplete' | 'incomplete_expired' | 'trialing' | 'active' | 'past_due' | 'canceled' | 'unpaid' | 'paused'
  amount: number
  currency: string
  recurring_interval: Interval
  recurring_interval_count: number
  current_period_start: Timestamp
  current_period_end: Timestamp
  trial_start: Timestamp | null
  trial_end: Timestamp | null
  started_at: Timestamp | null
  /** The saved payment method renewals charge off-session (Stripe `pm_…`), null for the sandbox. */
  payment_method_id: string | null
  cancel_at_period_end: Generated<boolean>
  canceled_at: Timestamp | null
  ends_at: Timestamp | null
  ended_at: Timestamp | null
  past_due_at: Timestamp | null
  customer_cancellation_reason: string | null
  customer_cancellation_comment: string | null
  /** Failed renewal charges in a row; 0 once a renewal is paid. */
  renewal_failures: Generated<number>
  /** When a failed renewal is tried again (dunning); null when none is due. */
  next_renewal_attempt_at: Timestamp | null
  metadata: Json<Metadata>
  custom_field_data: Json<Record<string, string | number | boolean | null>>
  created_at: Timestamp
  modified_at: Timestamp | null
}

export interface OrdersTable {
  id: string
  organization_id: string
  customer_id: string
  product_id: string
  product_price_id: string
  discount_id: string | null
  subscription_id: string | null
  checkout_id: string | null
  status: 'pending' | 'paid' | 'refunded' | 'partially_refunded' | 'void'
  billing_reason: 'purchase' | 'subscription_create' | 'subscription_cycle' | 'subscription_update'
  subtotal_amount: number
  discount_amount: number
  net_amount: number
  tax_amount: number
  total_amount: number
  currency: string
  billing_name: string | null
  billing_address: Json<Address> | null
  description: string
  metadata: Json<Metadata>
  custom_field_data: Json<Record<string, string | number | boolean | null>>
  period_start: Timestamp | null
  period_end: Timestamp | null
  livemode: Generated<boolean>
  payment_intent_id: string | null
  stripe_charge_id: string | null
  refunded_amount: Generated<number>
  refunded_tax_amount: Generated<number>
  dispute_id: string | null
  dispute_status: string | null
  dispute_amount: number | null
  dispute_reason: string | null
  disputed_at: Timestamp | null
  next_payment_attempt_at: Timestamp | null
  payment_failures: Generated<number>
  created_at: Timestamp
  modified_at: Timestamp | null
}

export interface JobsTable {
  id: string
  kind: string
  payload: Json<Record<string, unknown>>
  dedupe_key: string | null
  /** Jobs with the same key are capped together by a lane (`perKey`); null is uncapped. */
  concurrency_key: Generated<string | null>
  run_at: Timestamp
  attempts: Generated<number>
  max_attempts: Generated<number>
  locked_until: Timestamp | null
  last_error: string | null
  created_at: Timestamp
  finished_at: Timestamp | null
}

export interface WebhookEndpointsTable {
  id: string
  organization_id: string
  url: string
  name: string | null
  format: Generated<'raw'>
  secret: string
  events: string[]
  enabled: Generated<boolean>
  api_version: Generated<string>
  consecutive_failures: Generated<number>
  created_at: Timestamp
  modified_at: Timestamp | null
  deleted_at: Timestamp | null
}

export interface WebhookEventsTable {
  id: string
  organization_id: string
  type: string
  payload: string
  created_at: Timestamp
}

export type WebhookDeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'skipped'

export interface WebhookDeliveriesTable {
  id: string
  event_id: string
  endpoint_id: string
  organization_id: string
  status: Generated<WebhookDeliveryStatus>
  attempts: Generated<number>
  last_http_code: number | null
  api_version: Generated<string>
  created_at: Timestamp
  modified_at: Timestamp | null
}

export interface WebhookDeliveryAttemptsTable {
  id: string
  delivery_id: string
  endpoint_id: string
  attempt: number
  succeeded: boolean
  http_code: number | null
  duration_ms: number
  response: string | null
  error: string | null
  created_at: Timestamp
}

export interface UserSessionsTable {
  id: string
  user_id: string
  token_hash: string
  organization_id: string
  created_at: Timestamp
  expires_at: Timestamp
  revoked_at: Timestamp | null
  user_agent: string | null
  ip: string | null
}

export interface RateLimitAttemptsTable {
  attempt_id: string
  key: string
  at: Timestamp
  expires_at: Timestamp
}

/** Visits of a link per UTC day and utm triple, by kind (src/checkouts/visit-counts.ts). `day` is read as text ('2026-12-04'). */
export interface LinkVisitCountsTable {
  checkout_link_id: string
  organization_id: string
  day: string
  utm_source: Generated<string>
  utm_medium: Generated<string>
  utm_campaign: Generated<string>
  visits: Generated<number>
  previews: Generated<number>
  prefetches: Generated<number>
  sessions_opened: Generated<number>
  sessions_reused: Generated<number>
  visits_limited: Generated<number>
}
