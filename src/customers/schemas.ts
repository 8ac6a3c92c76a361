import { z } from 'zod'
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

export const Address = z
  .object({
    line1: z.string().nullish(),
    line2: z.string().nullish(),
    postal_code: z.string().nullish(),
    city: z.string().nullish(),
    state: z.string().nullish(),
    country: z.string().describe('Two-letter ISO 3166-1 country code.'),
  })
  .describe('A postal address.')
export type Address = z.infer<typeof Address>

/**
 * Polar's `CustomerIndividual`, the variant a checkout makes. The same shape is embedded in orders
 * (`OrderCustomer`) and subscriptions (`SubscriptionCustomer`).
 */
export const Customer = z
  .object({
    id: Uuid.describe('The ID of the customer.'),
    created_at: Timestamp.describe('Creation timestamp of the object.'),
    modified_at: NullableTimestamp.describe('Last modification timestamp of the object.'),
    metadata: MetadataOutput,
    external_id: z.string().nullable().describe('The ID of the customer in your system.'),
    email: z.string().describe('The email address of the customer. Unique per organization, whatever its case.'),
    email_verified: z.boolean().describe('Whether the email address is verified. Kassa does not verify addresses: always false.'),
    type: z.literal('individual').describe('The type of customer: always `individual` in Kassa.'),
    name: z.string().nullable().describe('The name of the customer.'),
    billing_name: z.string().nullable().describe('The billing name of the customer. Kassa keeps it on the order: always null here.'),
    billing_address: Address.nullable(),
    tax_id: z
      .array(z.string().nullable())
      .nullable()
      .describe('`[value, format]`; Kassa stores the value only, so the format is null.'),
    locale: z.string().nullable(),
    organization_id: Uuid.describe('The ID of the organization owning the customer.'),
    default_payment_method_id: z.null().describe('Payment methods are not stored by Kassa: always null.'),
    deleted_at: NullableTimestamp.describe('Timestamp for when the customer was soft deleted.'),
    avatar_url: z.string().nullable().describe('Always null in Kassa.'),
    first_user_event_at: NullableTimestamp.describe("Timestamp of the first event ingested for this customer (Polar's SDK 1.x). Kassa ingests no events: always null."),
  })
  .describe('A customer of the organization, made when a checkout succeeds.')
export type Customer = z.infer<typeof Customer>

export const CustomerList = listOf(Customer)

export const CustomerListQuery = z.object({
  organization_id: stringList(Uuid).optional().describe('Filter by organization ID.'),
  email: z.string().max(320).optional().describe('Filter by exact email (case-insensitive).'),
  query: z.string().max(256).optional().describe('Filter by name, email, or external ID.'),
  active: queryBoolean
    .optional()
    .describe('Filter by active customers, i.e. customers with at least one trialing, active or past_due subscription.'),
  metadata: MetadataQuery,
  ...paginationQuery,
  sorting: sortingQuery(['created_at', 'email', 'name']),
})
export type CustomerListQuery = z.infer<typeof CustomerListQuery>

export const CustomerIdParams = z.object({ id: Uuid.describe('The customer ID.') })
