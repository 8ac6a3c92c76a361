import { sql, type Kysely } from 'kysely'

// Organizations, tokens, users and the catalog (products, prices, custom fields, discounts).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table organizations (
      id uuid primary key,
      name text not null,
      slug text not null,
      created_at timestamptz not null,
      modified_at timestamptz,
      constraint organizations_slug_key unique (slug)
    );

    create table access_tokens (
      id uuid primary key,
      organization_id uuid not null references organizations (id),
      token_hash text not null,
      scopes text[] not null,
      comment text,
      created_at timestamptz not null,
      expires_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz,
      constraint access_tokens_token_hash_key unique (token_hash)
    );
    create index access_tokens_organization_id_idx on access_tokens (organization_id);

    create table users (
      id uuid primary key,
      email text not null,
      password_hash text not null,
      created_at timestamptz not null
    );
    create unique index users_email_key on users (lower(email));

    create table user_organizations (
      user_id uuid not null references users (id),
      organization_id uuid not null references organizations (id),
      created_at timestamptz not null,
      primary key (user_id, organization_id)
    );

    create table products (
      id uuid primary key,
      organization_id uuid not null references organizations (id),
      name text not null,
      description text,
      visibility text not null default 'public' check (visibility in ('draft', 'private', 'public')),
      recurring_interval text check (recurring_interval in ('day', 'week', 'month', 'year')),
      recurring_interval_count integer check (recurring_interval_count >= 1),
      trial_interval text check (trial_interval in ('day', 'week', 'month', 'year')),
      trial_interval_count integer check (trial_interval_count >= 1),
      is_archived boolean not null default false,
      metadata jsonb not null default '{}',
      created_at timestamptz not null,
      modified_at timestamptz,
      check ((recurring_interval is null) = (recurring_interval_count is null)),
      check ((trial_interval is null) = (trial_interval_count is null)),
      check (trial_interval is null or recurring_interval is not null)
    );
    create index products_organization_id_created_at_idx on products (organization_id, created_at);

    create table product_prices (
      id uuid primary key,
      product_id uuid not null references products (id),
      amount_type text not null check (amount_type in ('fixed', 'custom')),
      price_currency text not null check (price_currency ~ '^[a-z]{3}$'),
      price_amount integer check (price_amount >= 0),
      minimum_amount integer check (minimum_amount >= 0),
      maximum_amount integer,
      preset_amount integer,
      is_archived boolean not null default false,
      created_at timestamptz not null,
      modified_at timestamptz,
      check ((amount_type = 'fixed') = (price_amount is not null)),
      check (amount_type = 'fixed' or minimum_amount is not null),
      check (maximum_amount is null or maximum_amount >= minimum_amount),
      check (preset_amount is null or (preset_amount >= minimum_amount and (maximum_amount is null or preset_amount <= maximum_amount)))
    );
    create index product_prices_product_id_idx on product_prices (product_id);
    -- one live price per currency and product
    create unique index product_prices_live_currency_key on product_prices (product_id, price_currency) where not is_archived;

    create table custom_fields (
      id uuid primary key,
      organization_id uuid not null references organizations (id),
      type text not null check (type in ('text', 'number', 'date', 'checkbox', 'select')),
      slug text not null,
      name text not null,
      properties jsonb not null default '{}',
      metadata jsonb not null default '{}',
      created_at timestamptz not null,
      modified_at timestamptz,
      deleted_at timestamptz
    );
    create unique index custom_fields_organization_slug_key on custom_fields (organization_id, slug) where deleted_at is null;
    create index custom_fields_organization_id_created_at_idx on custom_fields (organization_id, created_at);

    create table product_custom_fields (
      product_id uuid not null references products (id),
      custom_field_id uuid not null references custom_fields (id),
      "order" integer not null,
      required boolean not null,
      primary key (product_id, custom_field_id)
    );
    create index product_custom_fields_custom_field_id_idx on product_custom_fields (custom_field_id);

    create table discounts (
      id uuid primary key,
      organization_id uuid not null references organizations (id),
      name text not null,
      type text not null check (type in ('fixed', 'percentage')),
      basis_points integer check (basis_points between 1 and 10000),
      amount integer check (amount >= 0),
      currency text check (currency ~ '^[a-z]{3}$'),
      duration text not null check (duration in ('once', 'forever', 'repeating')),
      duration_in_months integer check (duration_in_months >= 1),
      code text,
      starts_at timestamptz,
      ends_at timestamptz,
      max_redemptions integer check (max_redemptions >= 1),
      redemptions_count integer not null default 0,
      metadata jsonb not null default '{}',
      created_at timestamptz not null,
      modified_at timestamptz,
      deleted_at timestamptz,
      check ((type = 'percentage') = (basis_points is not null)),
      check ((type = 'fixed') = (amount is not null and currency is not null)),
      check ((duration = 'repeating') = (duration_in_months is not null)),
      check (max_redemptions is null or redemptions_count <= max_redemptions),
      check (starts_at is null or ends_at is null or starts_at < ends_at)
    );
    -- codes are case-insensitive and unique per organization among live discounts
    create unique index discounts_organization_code_key on discounts (organization_id, lower(code)) where deleted_at is null and code is not null;
    create index discounts_organization_id_created_at_idx on discounts (organization_id, created_at);

    create table discount_products (
      discount_id uuid not null references discounts (id),
      product_id uuid not null references products (id),
      primary key (discount_id, product_id)
    );
  `.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table discount_products; drop table discounts; drop table product_custom_fields;
    drop table custom_fields; drop table product_prices; drop table products;
    drop table user_organizations; drop table users; drop table access_tokens; drop table organizations;
  `.execute(db)
}
