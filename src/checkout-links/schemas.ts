import { z } from 'zod'
import { DiscountMinimal } from '../discounts/schemas'
import {
  HttpUrl,
  MetadataInput,
  MetadataOutput,
  NullableTimestamp,
  Timestamp,
  Uuid,
  listOf,
  paginationQuery,
  sortingQuery,
  stringList,
} from '../http/schemas'
import { Interval, ProductBase, ProductPrice } from '../products/schemas'

const settings = {
  label: z.string().trim().max(256).nullish().describe('Optional label to distinguish links internally.'),
  allow_discount_codes: z.boolean().describe('Whether to allow the customer to apply discount codes. If you apply a discount through `discount_id`, it will still be applied, but the customer won\'t be able to change it.'),
  require_billing_address: z.boolean().describe('Whether to require the customer to fill their full billing address.'),
  discount_id: Uuid.nullish().describe('ID of the discount to apply to the checkout: applied automatically at every visit.'),
  seats: z.number().int().min(1).max(1000).nullish().describe('Accepted for compatibility; seat-based pricing is not supported yet.'),
  units: z
    .number()
    .int()
    .min(-2_147_483_648)
    .max(2_147_483_647)
    .nullish()
    .describe('Preconfigured number of units, for unit-based pricing: no Kassa product has it, so only `null` is accepted (Polar\'s answer when a product is not unit-based).'),
  success_url: HttpUrl.nullish().describe('URL where the customer will be redirected after a successful payment. Add the `checkout_id={CHECKOUT_ID}` query parameter to retrieve the checkout session id.'),
  return_url: HttpUrl.nullish().describe('When set, a back button is shown on the checkout page, going to this URL.'),
  trial_interval: Interval.nullish().describe("The trial interval unit; overrides the products' own trial for sessions from this link (recurring products only)."),
  trial_interval_count: z.number().int().min(1).max(1000).nullish().describe('The number of trial interval units.'),
}

export const CheckoutLinkCreate = z
  .object({
    payment_processor: z.literal('stripe').describe('Payment processor to use. Kassa accepts `stripe` for compatibility; the server\'s configured processor is used.'),
    products: z.array(Uuid).min(1).max(50).optional().describe('List of products that will be available to select at checkout, in order.'),
    product_id: Uuid.optional().describe('Deprecated single-product form: same as `products: [product_id]`.'),
    product_price_id: Uuid.optional().describe('Deprecated single-price form: the product of this price.'),
    ...settings,
    allow_discount_codes: settings.allow_discount_codes.default(true),
    require_billing_address: settings.require_billing_address.default(false),
    metadata: MetadataInput.default({}).describe('Copied to every checkout session created from this link, and from there to the order and subscription.'),
  })
  .describe('Create a checkout link.')
export type CheckoutLinkCreate = z.infer<typeof CheckoutLinkCreate>

export const CheckoutLinkUpdate = z
  .object({
    products: z.array(Uuid).min(1).max(50).nullish().describe('Replaces the list of products, in order.'),
    ...settings,
    allow_discount_codes: settings.allow_discount_codes.nullish(),
    require_billing_address: settings.require_billing_address.nullish(),
    metadata: MetadataInput.optional(),
  })
  .describe('Update a checkout link. Only the keys sent are changed; `null` clears an optional setting.')
export type CheckoutLinkUpdate = z.infer<typeof CheckoutLinkUpdate>

export const CheckoutLinkProduct = ProductBase.extend({
  prices: z.array(ProductPrice),
  benefits: z.array(z.never()),
  medias: z.array(z.never()),
})


export const CheckoutLink = z.object({
  id: Uuid,
  created_at: Timestamp,
  modified_at: NullableTimestamp,
  trial_interval: Interval.nullable(),
  trial_interval_count: z.number().int().nullable(),
  metadata: MetadataOutput,
  payment_processor: z.literal('stripe'),
  client_secret: z.string().describe('Client secret of the link: its public identifier in the URL.'),
  success_url: z.string().nullable(),
  return_url: z.string().nullable(),
  label: z.string().nullable(),
  allow_discount_codes: z.boolean(),
  require_billing_address: z.boolean(),
  discount_id: Uuid.nullable(),
  seats: z.number().int().nullable(),
  units: z.null().describe('Preconfigured number of units, for unit-based pricing: Kassa has none, always `null`.'),
  organization_id: Uuid,
  products: z.array(CheckoutLinkProduct),
  discount: DiscountMinimal.nullable(),
  url: z.string().describe('The URL to share: every visit opens a new checkout session.'),
})
export type CheckoutLink = z.infer<typeof CheckoutLink>

export const CheckoutLinkList = listOf(CheckoutLink)

export const CheckoutLinkListQuery = z.object({
  organization_id: stringList(Uuid).optional().describe('Filter by organization ID.'),
  product_id: stringList(Uuid).optional().describe('Filter by product ID.'),
  ...paginationQuery,
  sorting: sortingQuery(['created_at', 'label', 'success_url', 'allow_discount_codes'], 'created_at'),
})
export type CheckoutLinkListQuery = z.infer<typeof CheckoutLinkListQuery>

export const CheckoutLinkIdParams = z.object({ id: Uuid.describe('The checkout link ID.') })
export const CheckoutLinkSecretParams = z.object({ client_secret: z.string().min(1).max(2048).describe('The checkout link client secret.') })
