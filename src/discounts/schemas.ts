import { z } from 'zod'
import {
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
import { Currency, MAXIMUM_PRICE_AMOUNT, ProductBase } from '../products/schemas'

export const DiscountType = z.enum(['fixed', 'percentage']).describe('Type of the discount.')
export const DiscountDuration = z
  .enum(['once', 'forever', 'repeating'])
  .describe('For subscriptions: applied on the first invoice only (`once`), on every invoice (`forever`), or for `duration_in_months` months (`repeating`).')

/** Largest value an `integer` column holds; bigger inputs are a 422, never a database error. */
const INT_MAX = 2_147_483_647

/** Polar's rule (pydantic `str.isalnum()`): Unicode letters and digits only, 3 to 256 characters; `""` means no code. */
const codeIssue = (message: string) => ({ code: 'custom' as const, message: `Value error, ${message}`, params: { type: 'value_error' } })
export const Code = z
  .string()
  .trim()
  .superRefine((v, ctx) => {
    if (v === '') return
    if (!/^[\p{L}\p{N}]+$/u.test(v)) ctx.addIssue(codeIssue('Code must contain only alphanumeric characters.'))
    else if ([...v].length < 3 || [...v].length > 256) ctx.addIssue(codeIssue('Code must be between 3 and 256 characters long.'))
  })
  .transform((v) => (v === '' ? null : v))
  .describe(
    'Code customers can use to apply the discount during checkout. Must be between 3 and 256 characters long and contain only ' +
      'alphanumeric characters. Case-insensitive and unique among the organization\'s discounts. If not provided, the discount can only be applied via the API.',
  )

const MIN_DATE = Date.UTC(1970, 0, 1)
const MAX_DATE = Date.UTC(10000, 0, 1)

/**
 * ISO 8601 date-time; without an offset it is read as UTC (as pydantic reads a naive datetime for Polar).
 * Kassa is stricter than Polar on the range (1970 to 9999, UTC): earlier years do not survive every driver
 * (year 0 is no PostgreSQL date, years below 100 come back from PGlite as 20xx) and mean nothing for a discount.
 */
const DateTimeInput = z.iso
  .datetime({ offset: true, local: true })
  .transform((s) => new Date(/(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/.test(s) ? s : `${s}Z`))
  .refine((d) => d.getTime() >= MIN_DATE && d.getTime() < MAX_DATE, {
    message: 'Input should be a datetime between 1970-01-01 and 9999-12-31 (UTC)',
    params: { type: 'datetime_parsing' },
  })

const Name = z.string().min(1).describe('Name of the discount. Will be displayed to the customer when the discount is applied.')
const DurationInMonths = z
  .number()
  .int()
  .min(1)
  .max(999)
  .describe('Number of months the discount should be applied. Required when `duration` is `repeating`; must be omitted otherwise.')
const MaxRedemptions = z.number().int().min(1).max(INT_MAX).describe('Optional maximum number of times the discount can be redeemed.')
const MaxRedemptionsPerCustomer = z
  .number()
  .int()
  .min(1)
  .max(INT_MAX)
  .describe('Optional maximum number of times the discount can be redeemed by a single customer (the same email, ignoring case and a `+tag`), enforced at confirm.')
const BasisPoints = z
  .number()
  .int()
  .min(1)
  .max(10000)
  .describe('Discount percentage in basis points (1/100th of a percent): 2550 is a 25.5% discount.')
const Amount = z.number().int().min(0).max(MAXIMUM_PRICE_AMOUNT).describe('Fixed amount to discount from the total, in cents.')
const Amounts = z
  .record(z.string().regex(/^[a-zA-Z]{3}$/), Amount)
  .describe('Map of currency to fixed amount to discount. Kassa keeps one currency per discount: the map must have exactly one entry.')
const Products = z.array(Uuid).max(100).describe('IDs of the products the discount applies to; empty or omitted means every product.')

const createBase = {
  metadata: MetadataInput.default({}),
  name: Name,
  code: Code.nullish(),
  starts_at: DateTimeInput.nullish().describe('Optional timestamp after which the discount is redeemable.'),
  ends_at: DateTimeInput.nullish().describe('Optional timestamp after which the discount is no longer redeemable.'),
  max_redemptions: MaxRedemptions.nullish(),
  max_redemptions_per_customer: MaxRedemptionsPerCustomer.nullish(),
  products: Products.nullish(),
  organization_id: Uuid.nullish().describe('The organization; implied by an organization token.'),
  duration: DiscountDuration,
  duration_in_months: DurationInMonths.nullish(),
}

export const DiscountFixedCreate = z
  .object({
    ...createBase,
    type: z.literal('fixed'),
    amount: Amount.nullish().describe('Deprecated by Polar in favour of `amounts`: the fixed amount, in cents, in `currency`.'),
    currency: Currency.nullish().describe('Deprecated by Polar in favour of `amounts`: the currency of `amount` (default usd).'),
    amounts: Amounts.nullish(),
  })
  .describe('Schema to create a fixed amount discount. Send `amounts` ({currency: amount}) or `amount` (+ `currency`).')

export const DiscountPercentageCreate = z
  .object({ ...createBase, type: z.literal('percentage'), basis_points: BasisPoints })
  .describe('Schema to create a percentage discount.')

/**
 * `type` may be left out, as Polar's SDK 1.x allows: `basis_points` makes a percentage discount, `amount` or
 * `amounts` a fixed one. Anything else still gets the discriminator's own answer.
 */
const inferDiscountType = (v: unknown) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || 'type' in v) return v
  const body = v as Record<string, unknown>
  if (body.basis_points !== undefined && body.amount === undefined && body.amounts === undefined) return { ...body, type: 'percentage' }
  if ((body.amount !== undefined || body.amounts !== undefined) && body.basis_points === undefined) return { ...body, type: 'fixed' }
  return v
}
export const DiscountCreate = z
  .preprocess(inferDiscountType, z.discriminatedUnion('type', [DiscountFixedCreate, DiscountPercentageCreate]))
  .describe('Create a discount. `type` may be omitted: it is inferred from `basis_points` (percentage) or `amount`/`amounts` (fixed).')
export type DiscountCreate = z.infer<typeof DiscountCreate>

export const DiscountUpdate = z
  .object({
    metadata: MetadataInput.optional(),
    name: Name.nullish(),
    code: Code.nullish().describe('A new code; `null` (or `""`) removes the code.'),
    starts_at: DateTimeInput.nullish().describe('`null` removes the start.'),
    ends_at: DateTimeInput.nullish().describe('`null` removes the end.'),
    max_redemptions: MaxRedemptions.nullish().describe('`null` removes the limit. Cannot be lower than `redemptions_count`.'),
    max_redemptions_per_customer: MaxRedemptionsPerCustomer.nullish().describe('`null` removes the per-customer limit.'),
    duration: DiscountDuration.nullish().describe('Cannot be changed: accepted only when equal to the current duration.'),
    duration_in_months: DurationInMonths.nullish().describe('Only for `repeating` discounts.'),
    type: DiscountType.nullish().describe('Cannot be changed: accepted only when equal to the current type.'),
    amount: Amount.nullish().describe('Fixed discounts only (ignored otherwise). Cannot change once the discount has been redeemed.'),
    currency: Currency.nullish().describe('Fixed discounts only (ignored otherwise). Cannot change once the discount has been redeemed.'),
    amounts: Amounts.nullish().describe('Fixed discounts only (ignored otherwise). Exactly one currency. Cannot change once the discount has been redeemed.'),
    basis_points: BasisPoints.nullish().describe('Percentage discounts only (ignored otherwise). Cannot change once the discount has been redeemed.'),
    products: Products.nullish().describe('Replaces the product restriction; `[]` removes it.'),
  })
  .describe('Update a discount. Only the keys sent are changed.')
export type DiscountUpdate = z.infer<typeof DiscountUpdate>

/** A product a discount is restricted to (the product without prices, as Polar embeds it). */
export const DiscountProduct = ProductBase.describe('A product that a discount can be applied to.')

const responseBase = {
  created_at: Timestamp,
  modified_at: NullableTimestamp,
  id: Uuid,
  metadata: MetadataOutput,
  name: z.string(),
  code: z.string().nullable(),
  starts_at: NullableTimestamp.describe('Timestamp after which the discount is redeemable.'),
  ends_at: NullableTimestamp.describe('Timestamp after which the discount is no longer redeemable.'),
  max_redemptions: z.number().int().nullable().describe('Maximum number of times the discount can be redeemed.'),
  max_redemptions_per_customer: z.number().int().nullable().describe('Maximum number of times the discount can be redeemed by a single customer.'),
  redemptions_count: z.number().int().describe('Number of times the discount has been redeemed.'),
  organization_id: Uuid,
  products: z.array(DiscountProduct),
}
const onceForever = { duration: z.enum(['once', 'forever']) }
const repeat = { duration: z.literal('repeating'), duration_in_months: z.number().int() }
const fixed = {
  type: z.literal('fixed'),
  amount: z.number().int(),
  currency: z.string(),
  amounts: z.record(z.string(), z.number().int()).describe('Map of currency to fixed amount to discount from the total.'),
}
const percentage = { type: z.literal('percentage'), basis_points: z.number().int() }

export const DiscountFixedOnceForeverDuration = z.object({ ...onceForever, ...fixed, ...responseBase })
export const DiscountFixedRepeatDuration = z.object({ ...repeat, ...fixed, ...responseBase })
export const DiscountPercentageOnceForeverDuration = z.object({ ...onceForever, ...percentage, ...responseBase })
export const DiscountPercentageRepeatDuration = z.object({ ...repeat, ...percentage, ...responseBase })

export const Discount = z.union([
  DiscountFixedOnceForeverDuration,
  DiscountFixedRepeatDuration,
  DiscountPercentageOnceForeverDuration,
  DiscountPercentageRepeatDuration,
])
export type Discount = z.infer<typeof Discount>

/** A discount without its product restriction (Polar's `DiscountMinimal`), as embedded in links and checkouts. */
export const DiscountMinimal = z.union([
  DiscountFixedOnceForeverDuration.omit({ products: true }),
  DiscountFixedRepeatDuration.omit({ products: true }),
  DiscountPercentageOnceForeverDuration.omit({ products: true }),
  DiscountPercentageRepeatDuration.omit({ products: true }),
])
export type DiscountMinimal = z.infer<typeof DiscountMinimal>

export const DiscountList = listOf(Discount)

export const DiscountListQuery = z.object({
  organization_id: stringList(Uuid).optional().describe('Filter by organization ID.'),
  query: z.string().max(256).optional().describe('Filter by name or code (case-insensitive).'),
  ...paginationQuery,
  sorting: sortingQuery(['created_at', 'name', 'code', 'redemptions_count', 'ends_at']),
})
export type DiscountListQuery = z.infer<typeof DiscountListQuery>

export const DiscountIdParams = z.object({ id: Uuid.describe('The discount ID.') })
