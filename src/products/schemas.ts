import { z } from 'zod'
import { CustomField } from '../custom-fields/schemas'
import {
  MetadataInput,
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

export const Interval = z.enum(['day', 'week', 'month', 'year'])
export const Visibility = z.enum(['draft', 'private', 'public'])
export const MAXIMUM_PRICE_AMOUNT = 99_999_999

export const Currency = z
  .string()
  .regex(/^[a-zA-Z]{3}$/)
  .transform((c) => c.toLowerCase())
  .describe('Three-letter ISO 4217 currency code, lowercase (usd, eur, …).')

const Amount = z.number().int().min(0).max(MAXIMUM_PRICE_AMOUNT)

export const ProductPriceFixedCreate = z
  .object({
    amount_type: z.literal('fixed'),
    price_currency: Currency.default('usd'),
    tax_behavior: z.enum(['location', 'inclusive', 'exclusive']).nullish().describe('Accepted for compatibility; taxes are 0 in Kassa for now.'),
    price_amount: Amount.describe('The price in cents. 0 makes the product free.'),
  })
  .describe('A fixed price. `price_amount` 0 makes the product free.')

export const ProductPriceCustomCreate = z
  .object({
    amount_type: z.literal('custom'),
    price_currency: Currency.default('usd'),
    tax_behavior: z.enum(['location', 'inclusive', 'exclusive']).nullish(),
    minimum_amount: Amount.default(50).describe('The minimum amount the customer can pay, in cents.'),
    maximum_amount: Amount.nullish().describe('The maximum amount the customer can pay, in cents.'),
    preset_amount: Amount.nullish().describe('The initial amount shown to the customer, in cents.'),
  })
  .describe('Pay what you want.')

export const ProductPriceCreate = z.discriminatedUnion('amount_type', [ProductPriceFixedCreate, ProductPriceCustomCreate])
export type ProductPriceCreate = z.infer<typeof ProductPriceCreate>

export const ExistingProductPrice = z.object({ id: Uuid }).describe('Keep an existing price, by id.')

export const AttachedCustomFieldCreate = z.object({
  custom_field_id: Uuid.describe('ID of the custom field to attach.'),
  required: z.boolean().describe('Whether the buyer must fill the field.'),
})

const Name = z.string().trim().min(3).max(256)
const Description = z.string().max(5000)

export const ProductCreate = z
  .object({
    name: Name.describe('The name of the product.'),
    description: Description.nullish().describe('The description of the product.'),
    visibility: Visibility.default('public').describe('The visibility of the product.'),
    recurring_interval: Interval.nullish().describe('The recurring interval; omit or null for a one-time product.'),
    recurring_interval_count: z.number().int().min(1).max(999).nullish().describe('Number of interval units of the subscription.'),
    trial_interval: Interval.nullish().describe('The interval unit for the trial period (recurring products only).'),
    trial_interval_count: z.number().int().min(1).max(1000).nullish().describe('The number of interval units for the trial period.'),
    // SDK 1.x sends these: Polar's meter cycle, for metered prices, which Kassa does not have (a 422 for those).
    meter_interval: Interval.nullish()
      .refine((v) => v == null, { message: 'Kassa has no meters or metered prices: meter_interval must be null.' })
      .describe("Polar's meter cycle for metered prices. Kassa has none: only null is accepted."),
    meter_interval_count: z.number().int().min(1).max(999).nullish().describe('Ignored when `meter_interval` is null, as in Polar.'),
    prices: z.array(ProductPriceCreate).min(1).max(50).describe('List of available prices for this product, at most one per currency.'),
    medias: z.array(Uuid).nullish().describe('Accepted for compatibility; Kassa stores no product media yet.'),
    attached_custom_fields: z.array(AttachedCustomFieldCreate).max(50).default([]).describe('Custom fields to attach, in order.'),
    metadata: MetadataInput.default({}),
    organization_id: Uuid.nullish().describe('The organization; implied by an organization token.'),
  })
  .describe('Create a product.')
export type ProductCreate = z.infer<typeof ProductCreate>

export const ProductUpdate = z
  .object({
    name: Name.nullish(),
    description: Description.nullish(),
    visibility: Visibility.nullish(),
    recurring_interval: Interval.nullish(),
    recurring_interval_count: z.number().int().min(1).max(999).nullish(),
    trial_interval: Interval.nullish(),
    trial_interval_count: z.number().int().min(1).max(1000).nullish(),
    is_archived: z.boolean().nullish().describe('Archive (or unarchive) the product.'),
    prices: z
      .array(z.union([ExistingProductPrice, ProductPriceCreate]))
      .min(1)
      .max(50)
      .nullish()
      .describe('The full list of prices: `{id}` keeps an existing one, new objects add prices, prices left out are archived.'),
    medias: z.array(Uuid).nullish(),
    attached_custom_fields: z.array(AttachedCustomFieldCreate).max(50).nullish(),
    metadata: MetadataInput.optional(),
  })
  .describe('Update a product. Only the keys sent are changed.')
export type ProductUpdate = z.infer<typeof ProductUpdate>

const priceBase = {
  id: Uuid,
  created_at: Timestamp,
  modified_at: NullableTimestamp,
  source: z.enum(['catalog', 'ad_hoc']).describe('`ad_hoc`: made for one checkout session (`CheckoutCreate.prices`), never in the catalog.'),
  price_currency: z.string(),
  tax_behavior: z.null(),
  is_archived: z.boolean(),
  product_id: Uuid,
}

export const ProductPriceFixed = z.object({ ...priceBase, amount_type: z.literal('fixed'), price_amount: z.number().int() })
export const ProductPriceCustom = z.object({
  ...priceBase,
  amount_type: z.literal('custom'),
  minimum_amount: z.number().int(),
  maximum_amount: z.number().int().nullable(),
  preset_amount: z.number().int().nullable(),
})
export const ProductPrice = z.union([ProductPriceFixed, ProductPriceCustom])
export type ProductPrice = z.infer<typeof ProductPrice>

export const AttachedCustomField = z.object({
  custom_field_id: Uuid,
  custom_field: CustomField,
  order: z.number().int(),
  required: z.boolean(),
})

/** The product without prices and fields, as embedded in discounts and checkouts. */
export const ProductBase = z.object({
  id: Uuid,
  created_at: Timestamp,
  modified_at: NullableTimestamp,
  trial_interval: Interval.nullable(),
  trial_interval_count: z.number().int().nullable(),
  name: z.string(),
  description: z.string().nullable(),
  visibility: Visibility,
  recurring_interval: Interval.nullable(),
  recurring_interval_count: z.number().int().nullable(),
  meter_interval: z.null(),
  meter_interval_count: z.null(),
  is_recurring: z.boolean(),
  is_archived: z.boolean(),
  organization_id: Uuid,
  metadata: MetadataOutput,
})
export type ProductBase = z.infer<typeof ProductBase>

export const Product = ProductBase.extend({
  is_deletable: z
    .boolean()
    .describe('Whether the product can be permanently deleted. Products referenced by an order, subscription, checkout session (trials included) or discount cannot be deleted.'),
  prices: z.array(ProductPrice),
  benefits: z.array(z.never()).describe('Benefits are not part of Kassa yet: always empty.'),
  medias: z.array(z.never()).describe('Product media are not part of Kassa yet: always empty.'),
  attached_custom_fields: z.array(AttachedCustomField),
})
export type Product = z.infer<typeof Product>

export const ProductList = listOf(Product)

export const ProductListQuery = z.object({
  id: stringList(Uuid).optional().describe('Filter by product ID.'),
  organization_id: stringList(Uuid).optional().describe('Filter by organization ID.'),
  query: z.string().max(256).optional().describe('Filter by product name.'),
  is_archived: queryBoolean.optional().describe('Filter on archived products.'),
  is_recurring: queryBoolean.optional().describe('Filter on recurring products.'),
  visibility: stringList(Visibility).optional().describe('Filter by visibility.'),
  benefit_id: stringList(Uuid).optional().describe('Filter products granting specific benefit. Kassa has no benefits yet, so any value matches no product.'),
  metadata: MetadataQuery,
  ...paginationQuery,
  sorting: sortingQuery(['created_at', 'name', 'price_amount_type', 'price_amount']),
})
export type ProductListQuery = z.infer<typeof ProductListQuery>

export const ProductIdParams = z.object({ id: Uuid.describe('The product ID.') })
