import { sql, type Kysely } from 'kysely'

// Checkout links, checkout sessions, what a successful session makes (customers, orders,
// subscriptions), discount redemptions, and the job queue the worker drains.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table checkout_links (
      id uuid primary key,
      organization_id uuid not null references organizations (id),
      client_secret text not null,
      payment_processor text not null default 'stripe',
      label text,
      allow_discount_codes boolean not null default true,
      require_billing_address boolean not null default false,
      discount_id uuid references discounts (id),
      success_url text,
      return_url text,
      trial_interval text check (trial_interval in ('day', 'week', 'month', 'year')),
      trial_interval_count integer check (trial_interval_count >= 1),
      seats integer check (seats >= 1),
      metadata jsonb not null default '{}',
      created_at timestamptz not null,
      modified_at timestamptz,
      deleted_at timestamptz,
      constraint checkout_links_client_secret_key unique (client_secret),
      check ((trial_interval is null) = (trial_interval_count is null))
    );
    create index checkout_links_organization_id_created_at_idx on checkout_links (organization_id, created_at) where deleted_at is null;

    create table checkout_link_products (
      checkout_link_id uuid not null references checkout_links (id),
      product_id uuid not null references products (id),
      "order" integer not null,
      primary key (checkout_link_id, product_id)
    );
    create index checkout_link_products_product_id_idx on checkout_link_products (product_id);

    create table customers (
      id uuid primary key,
      organization_id uuid not null references organizations (id),
      email text not null,
      name text,
      billing_address jsonb,
      tax_id text,
      external_id text,
      metadata jsonb not null default '{}',
      created_at timestamptz not null,
      modified_at timestamptz,
      deleted_at timestamptz
    );
    -- one customer per email per organization, whatever the case of the address
    create unique index customers_organization_email_key on customers (organization_id, lower(email)) where deleted_at is null;
    create index customers_organization_id_created_at_idx on customers (organization_id, created_at);

    create table checkouts (
      id uuid primary key,
      organization_id uuid not null references organizations (id),
      client_secret text not null,
      checkout_link_id uuid references checkout_links (id),
      status text not null default 'open' check (status in ('open', 'expired', 'confirmed', 'succeeded', 'failed')),
      expires_at timestamptz not null,
      product_ids uuid[] not null,
      product_id uuid not null references products (id),
      product_price_id uuid not null references product_prices (id),
      currency text not null,
      amount integer not null check (amount >= 0),
      discount_amount integer not null default 0 check (discount_amount >= 0),
      net_amount integer not null check (net_amount >= 0),
      tax_amount integer not null default 0,
      total_amount integer not null check (total_amount >= 0),
      discount_id uuid references discounts (id),
      allow_discount_codes boolean not null,
      require_billing_address boolean not null,
      allow_trial boolean not null default true,
      trial_interval text,
      trial_interval_count integer,
      seats integer,
      customer_id uuid references customers (id),
      customer_name text,
      customer_email text,
      customer_ip_address text,
      customer_billing_name text,
      customer_billing_address jsonb,
      customer_tax_id text,
      is_business_customer boolean not null default false,
      external_customer_id text,
      customer_metadata jsonb not null default '{}',
      locale text,
      success_url text,
      return_url text,
      embed_origin text,
      metadata jsonb not null default '{}',
      custom_field_data jsonb not null default '{}',
      link_query text,
      payment_error text,
      created_at timestamptz not null,
      modified_at timestamptz,
      confirmed_at timestamptz,
      constraint checkouts_client_secret_key unique (client_secret)
    );
    create index checkouts_organization_id_created_at_idx on checkouts (organization_id, created_at);
    create index checkouts_checkout_link_id_idx on checkouts (checkout_link_id) where checkout_link_id is not null;
    create index checkouts_open_expires_at_idx on checkouts (expires_at) where status = 'open';

    -- a discount's redemptions: one per checkout, counted against max_redemptions at confirm
    create table discount_redemptions (
      discount_id uuid not null references discounts (id),
      checkout_id uuid not null references checkouts (id),
      created_at timestamptz not null,
      primary key (checkout_id)
    );
    create index discount_redemptions_discount_id_idx on discount_redemptions (discount_id);

    create table subscriptions (
      id uuid primary key,
      organization_id uuid not null references organizations (id),
      customer_id uuid not null references customers (id),
      product_id uuid not null references products (id),
      product_price_id uuid not null references product_prices (id),
      discount_id uuid references discounts (id),
      checkout_id uuid references checkouts (id),
      status text not null check (status in ('incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused')),
      amount integer not null,
      currency text not null,
      recurring_interval text not null,
      recurring_interval_count integer not null,
      current_period_start timestamptz not null,
      current_period_end timestamptz not null,
      trial_start timestamptz,
      trial_end timestamptz,
      started_at timestamptz,
      metadata jsonb not null default '{}',
      custom_field_data jsonb not null default '{}',
      created_at timestamptz not null,
      modified_at timestamptz,
      constraint subscriptions_checkout_id_key unique (checkout_id)
    );
    create index subscriptions_organization_id_created_at_idx on subscriptions (organization_id, created_at);
    create index subscriptions_customer_id_idx on subscriptions (customer_id);

    create table orders (
      id uuid primary key,
      organization_id uuid not null references organizations (id),
      customer_id uuid not null references customers (id),
      product_id uuid not null references products (id),
      product_price_id uuid not null references product_prices (id),
      discount_id uuid references discounts (id),
      subscription_id uuid references subscriptions (id),
      checkout_id uuid references checkouts (id),
      status text not null check (status in ('pending', 'paid', 'refunded', 'partially_refunded', 'void')),
      billing_reason text not null check (billing_reason in ('purchase', 'subscription_create', 'subscription_cycle', 'subscription_update')),
      subtotal_amount integer not null,
      discount_amount integer not null,
      net_amount integer not null,
      tax_amount integer not null,
      total_amount integer not null,
      currency text not null,
      billing_name text,
      billing_address jsonb,
      description text not null,
      metadata jsonb not null default '{}',
      custom_field_data jsonb not null default '{}',
      created_at timestamptz not null,
      modified_at timestamptz,
      -- one order per checkout session, whatever happens twice
      constraint orders_checkout_id_key unique (checkout_id)
    );
    create index orders_organization_id_created_at_idx on orders (organization_id, created_at);
    create index orders_customer_id_idx on orders (customer_id);

    -- The job queue: claimed with FOR UPDATE SKIP LOCKED, so several workers never take the same job.
    create table jobs (
      id uuid primary key,
      kind text not null,
      payload jsonb not null default '{}',
      dedupe_key text,
      run_at timestamptz not null,
      attempts integer not null default 0,
      max_attempts integer not null default 10,
      locked_until timestamptz,
      last_error text,
      created_at timestamptz not null,
      finished_at timestamptz
    );
    create index jobs_due_idx on jobs (run_at) where finished_at is null;
    create unique index jobs_dedupe_key on jobs (dedupe_key) where dedupe_key is not null;
  `.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table jobs; drop table orders; drop table subscriptions; drop table discount_redemptions;
    drop table checkouts; drop table customers; drop table checkout_link_products; drop table checkout_links;
  `.execute(db)
}
