import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely'

// Table types, kept by hand beside the migrations (src/db/migrations).
type Timestamp = ColumnType<Date, Date | string, Date | string>
type Json<T = Record<string, unknown>> = ColumnType<T, string, string>

export type Metadata = Record<string, string | number | boolean>

export interface OrganizationsTable {
  id: string
  name: string
  slug: string
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

export type Interval = 'day' | 'week' | 'month' | 'year'

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
}

export type Row<T extends keyof DB> = Selectable<DB[T]>
export type NewRow<T extends keyof DB> = Insertable<DB[T]>
export type RowUpdate<T extends keyof DB> = Updateable<DB[T]>
