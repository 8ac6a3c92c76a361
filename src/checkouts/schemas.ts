import { z } from 'zod'
import { DiscountMinimal } from '../discounts/schemas'
import { EmailStr, HttpUrl, MetadataInput, MetadataOutput, NullableTimestamp, Timestamp, Uuid, listOf, paginationQuery, sortingQuery, stringList } from '../http/schemas'
import { COUNTRIES, normalizeState } from '../lib/countries'
import { AttachedCustomField, Currency, Interval, ProductBase, ProductPrice, ProductPriceCreate } from '../products/schemas'

/** Polar's units (unit-based pricing, which Kassa has not): a 32-bit integer when sent, refused by the service unless null. */
const Units = z.number().int().min(-2_147_483_648).max(2_147_483_647).nullish()

export const CheckoutStatus = z.enum(['open', 'expired', 'confirmed', 'succeeded', 'failed'])

export const CustomFieldData = z
  .record(z.string().max(100), z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()]))
  .refine((m) => Object.keys(m).length <= 50, { message: 'Dictionary should have at most 50 items', params: { type: 'too_long' } })
  .describe('Values of the custom fields, keyed by slug.')

/** A line of an address: trimmed, and an empty one is no line at all (Polar's `EmptyStrToNone`). */
const AddressLine = (max: number) =>
  z
    .string()
    .max(max, { abort: true })
    .transform((v) => v.trim() || null)
    .nullish()

/**
 * A billing address as Polar takes it (`server/polar/kit/address.py` `AddressInput`): the country upper-cased
 * and one Polar sells to; a US or Canadian state checked and stored with its country prefix (`CA` → `US-CA`).
 */
export const AddressInput = z
  .object({
    line1: AddressLine(256),
    line2: AddressLine(256),
    postal_code: AddressLine(32),
    city: AddressLine(128),
    state: AddressLine(128),
    country: z
      .preprocess((c) => (typeof c === 'string' && c.length <= 8 ? c.toUpperCase() : c), z.enum(COUNTRIES as [string, ...string[]]))
      .describe('ISO 3166-1 alpha-2 country code.'),
  })
  .transform((input, ctx) => {
    // every field present, null when not given, as Polar's Address model serializes
    const a = { line1: input.line1 ?? null, line2: input.line2 ?? null, postal_code: input.postal_code ?? null, city: input.city ?? null, state: input.state ?? null, country: input.country }
    if (!a.state) return a
    const r = normalizeState(a.country, a.state)
    if (r.ok) return { ...a, state: r.state }
    ctx.issues.push({ code: 'custom', message: r.msg, params: { type: 'value_error' }, input })
    return z.NEVER
  })
export const Address = z.object({
  line1: z.string().nullable().optional(),
  line2: z.string().nullable().optional(),
  postal_code: z.string().nullable().optional(),
  city: z.string().nullable().optional(),
  state: z.string().nullable().optional(),
  country: z.string(),
})

const Email = EmailStr.describe('Email of the customer.')
const CustomerName = z.string().trim().max(256)
/** Any amount the database's integer column holds; the price's and the currency's bounds are rules (see changes.ts). */
const Amount = z.number().int().min(0).max(2_147_483_647)
const LocaleTag = z.string().max(35).describe('IETF BCP 47 language tag (`en`, `fr`, `pt-BR`, …).')

/** What the buyer may change, on the client endpoints and when confirming. */
const buyerFields = {
  custom_field_data: CustomFieldData.optional(),
  product_id: Uuid.nullish().describe('Select another of the checkout\'s products.'),
  product_price_id: Uuid.nullish().describe('Deprecated: select a product by one of its prices.'),
  amount: Amount.nullish().describe('Amount in cents, for pay-what-you-want prices.'),
  seats: z.number().int().min(1).max(2_147_483_647).nullish().describe('Accepted for compatibility; seat-based pricing is not supported yet.'),
  is_business_customer: z.boolean().nullish(),
  customer_name: CustomerName.nullish(),
  customer_email: Email.nullish(),
  customer_billing_name: CustomerName.nullish(),
  customer_billing_address: AddressInput.nullish(),
  customer_tax_id: z.string().max(64).nullish(),
  locale: LocaleTag.nullish(),
  units: Units.describe('Number of units, for unit-based pricing: Kassa has none, so only `null` is accepted (as Polar answers for a price that is not unit-based).'),
}

/** SDK 1.x's payment method choice from the checkout form (`card`, `apple_pay`, …); an empty string means none, as in Polar. */
const PaymentMethodType = z
  .string()
  .max(64)
  .nullish()
  .transform((v) => (v === '' ? null : v))
  .describe('Payment method type selected by the buyer in the checkout form, e.g. `card`. Once paid, the one the processor charged.')

export const CheckoutUpdatePublic = z
  .object({
    ...buyerFields,
    discount_code: z.string().max(256).nullish().describe('Apply a discount code; `null` removes the applied discount.'),
    allow_trial: z.literal(false).nullish().describe('Set to `false` to skip the trial.'),
    payment_method_type: PaymentMethodType,
  })
  .describe('Update a checkout session from the checkout page.')
export type CheckoutUpdatePublic = z.infer<typeof CheckoutUpdatePublic>

export const CheckoutConfirm = CheckoutUpdatePublic.extend({
  confirmation_token_id: z.string().max(256).nullish().describe('Payment method token: `tok_sandbox_success` succeeds, `tok_sandbox_decline` is declined. Not needed when nothing is due.'),
}).describe('Confirm a checkout session: the buyer pays.')
export type CheckoutConfirm = z.infer<typeof CheckoutConfirm>

const merchantFields = {
  trial_interval: Interval.nullish(),
  trial_interval_count: z.number().int().min(1).max(1000).nullish(),
  metadata: MetadataInput.optional(),
  discount_id: Uuid.nullish(),
  allow_discount_codes: z.boolean().optional(),
  require_billing_address: z.boolean().optional(),
  allow_trial: z.boolean().optional(),
  customer_ip_address: z.string().max(64).nullish(),
  customer_metadata: MetadataInput.nullish(),
  success_url: HttpUrl.nullish(),
  return_url: HttpUrl.nullish(),
  embed_origin: z
    .string()
    .max(256)
    .nullish()
    .describe(
      "The origin of the page embedding the checkout: it may frame the page and gets its messages. Stricter than Polar: it must be admitted by the organization's `embed_hosts` (422 otherwise); stored normalized.",
    ),
  currency: Currency.nullish(),
}

export const CheckoutCreate = z
  .object({
    ...merchantFields,
    ...buyerFields,
    allow_discount_codes: z.boolean().default(true),
    require_billing_address: z.boolean().default(false),
    allow_trial: z.boolean().default(true),
    products: z.array(Uuid).min(1).max(50).optional().describe('Products the buyer can choose from; the first is selected.'),
    product_id: Uuid.nullish().describe('Deprecated single-product form.'),
    product_price_id: Uuid.nullish().describe('Deprecated single-price form.'),
    customer_id: Uuid.nullish(),
    external_customer_id: z.string().max(256).nullish(),
    subscription_id: Uuid.nullish().describe('Not supported: upgrades come later.'),
    min_seats: z.number().int().min(1).max(2_147_483_647).nullish(),
    max_seats: z.number().int().min(1).max(2_147_483_647).nullish(),
    min_units: Units.describe('Minimum number of units, for unit-based pricing: only `null` is accepted.'),
    max_units: Units.describe('Maximum number of units, for unit-based pricing: only `null` is accepted.'),
    prices: z
      .record(Uuid, z.array(ProductPriceCreate).min(1).max(50))
      .nullish()
      .describe('Optional mapping of product IDs to a list of ad-hoc prices to create for that product. If not set, catalog prices of the product will be used.'),
    metadata: MetadataInput.default({}),
  })
  .describe('Create a checkout session.')
export type CheckoutCreate = z.infer<typeof CheckoutCreate>

export const CheckoutUpdate = z
  .object({ ...buyerFields, ...merchantFields })
  .describe('Update a checkout session. Only the keys sent are changed.')
export type CheckoutUpdate = z.infer<typeof CheckoutUpdate>

export const CheckoutProduct = ProductBase.extend({
  prices: z.array(ProductPrice),
  benefits: z.array(z.never()),
  medias: z.array(z.never()),
})

const BillingFieldMode = z.enum(['required', 'optional', 'disabled'])

export const CheckoutBase = z.object({
  id: Uuid,
  created_at: Timestamp,
  modified_at: NullableTimestamp,
  custom_field_data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  payment_processor: z.literal('stripe'),
  status: CheckoutStatus,
  client_secret: z.string(),
  url: z.string().describe('URL of the hosted checkout page.'),
  expires_at: Timestamp,
  success_url: z.string(),
  return_url: z.string().nullable(),
  embed_origin: z.string().nullable(),
  amount: z.number().int(),
  seats: z.number().int().nullable(),
  min_seats: z.null(),
  max_seats: z.null(),
  discount_amount: z.number().int(),
  net_amount: z.number().int(),
  tax_amount: z.number().int().nullable(),
  tax_behavior: z.null(),
  total_amount: z.number().int(),
  currency: z.string(),
  units: z.null().describe('Predefined number of units, for unit-based pricing: Kassa has none, always `null`.'),
  min_units: z.null().describe('Minimum number of units, for unit-based pricing: always `null`.'),
  max_units: z.null().describe('Maximum number of units, for unit-based pricing: always `null`.'),
  payment_method_type: z.string().nullable().describe('Payment method type selected by the buyer, e.g. `card`; once paid, the one charged (`card` for the sandbox). `null` when no payment is needed.'),
  allow_trial: z.boolean().nullable(),
  active_trial_interval: Interval.nullable(),
  active_trial_interval_count: z.number().int().nullable(),
  trial_end: NullableTimestamp,
  organization_id: Uuid,
  product_id: Uuid.nullable(),
  product_price_id: Uuid.nullable(),
  discount_id: Uuid.nullable(),
  allow_discount_codes: z.boolean(),
  require_billing_address: z.boolean(),
  is_discount_applicable: z.boolean(),
  is_free_product_price: z.boolean(),
  is_payment_required: z.boolean(),
  is_payment_setup_required: z.boolean(),
  is_payment_form_required: z.boolean(),
  customer_id: Uuid.nullable(),
  is_business_customer: z.boolean(),
  customer_name: z.string().nullable(),
  customer_email: z.string().nullable(),
  customer_ip_address: z.string().nullable(),
  customer_billing_name: z.string().nullable(),
  customer_billing_address: Address.nullable(),
  customer_tax_id: z.string().nullable(),
  locale: z.string().nullable(),
  payment_processor_metadata: z.record(z.string(), z.string()).describe('What a front end needs to pay with the processor (Polar\'s keys): on Stripe `publishable_key`, and after confirm `customer_id`, `intent_client_secret` and `intent_status` (`requires_action`: run Stripe.js `handleNextAction`). Empty for the sandbox.'),
  livemode: z.boolean().describe('Kassa\'s own: whether the session takes real money (a live Stripe key). False for Stripe test keys and the sandbox.'),
  billing_address_fields: z.object({ country: BillingFieldMode, state: BillingFieldMode, city: BillingFieldMode, postal_code: BillingFieldMode, line1: BillingFieldMode, line2: BillingFieldMode }),
  products: z.array(CheckoutProduct),
  product: CheckoutProduct.nullable(),
  product_price: ProductPrice.nullable(),
  prices: z.record(z.string(), z.array(ProductPrice)).nullable(),
  discount: DiscountMinimal.nullable(),
  attached_custom_fields: z.array(AttachedCustomField).nullable(),
})

/** The merchant's view (API token). */
export const Checkout = CheckoutBase.extend({
  trial_interval: Interval.nullable(),
  trial_interval_count: z.number().int().nullable(),
  metadata: MetadataOutput,
  external_customer_id: z.string().nullable(),
  subscription_id: z.null(),
  customer_metadata: MetadataOutput,
  checkout_link_id: Uuid.nullable().describe('Kassa: the checkout link this session was opened from (Polar cannot tell).'),
})
export type Checkout = z.infer<typeof Checkout>

export const CheckoutOrganization = z.object({
  created_at: Timestamp,
  modified_at: NullableTimestamp,
  id: Uuid,
  name: z.string(),
  slug: z.string(),
  avatar_url: z.null(),
  proration_behavior: z.literal('invoice'),
  allow_customer_updates: z.boolean(),
})

/** The buyer's view (client secret). */
export const CheckoutPublic = CheckoutBase.extend({ organization: CheckoutOrganization })
export type CheckoutPublic = z.infer<typeof CheckoutPublic>

export const CheckoutPublicConfirmed = CheckoutPublic.extend({
  status: z.literal('confirmed'),
  customer_session_token: z.null().describe('Customer portal sessions are not part of Kassa yet.'),
})

export const CheckoutList = listOf(Checkout)

export const CheckoutListQuery = z.object({
  organization_id: stringList(Uuid).optional(),
  product_id: stringList(Uuid).optional().describe('Filter by product ID.'),
  customer_id: stringList(Uuid).optional().describe('Filter by customer ID.'),
  external_customer_id: stringList(z.string().max(256)).optional(),
  checkout_link_id: stringList(Uuid).optional().describe('Kassa: filter by the checkout link the session came from.'),
  status: stringList(CheckoutStatus).optional().describe('Filter by checkout session status.'),
  query: z.string().max(256).optional().describe('Filter by customer email.'),
  ...paginationQuery,
  sorting: sortingQuery(['created_at', 'expires_at', 'status']),
})
export type CheckoutListQuery = z.infer<typeof CheckoutListQuery>

export const CheckoutIdParams = z.object({ id: Uuid.describe('The checkout session ID.') })
export const CheckoutSecretParams = z.object({ client_secret: z.string().min(1).max(2048).describe('The checkout session client secret.') })
