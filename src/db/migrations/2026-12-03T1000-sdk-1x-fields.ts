import { sql, type Kysely } from 'kysely'

// Issue 18, what Polar's SDK 1.x sends and reads:
// - discounts.max_redemptions_per_customer: Polar's per-customer limit (>= 1, null for none);
// - checkouts.payment_method_type: the buyer's payment method (Polar's free string: card, apple_pay, …);
// - webhook_endpoints.api_version: the version of the payloads sent to it; each delivery keeps the
//   version its endpoint had when the event was made (Polar's WebhookEvent.api_version), so a later
//   change never alters the body of a retry or a redelivery;
// - orders.period_start and period_end: the period a subscription order's item covers (Polar's
//   OrderItemSchema start_timestamp/end_timestamp), null for one-time purchases; existing subscription
//   orders are all first orders (Kassa makes no renewals yet), so they take their subscription's first period;
// - indexes so that Product.is_deletable (any order, subscription, checkout or discount on the product)
//   is an index probe per product, not a scan: a GIN index on checkouts.product_ids (every product a
//   session offers, the selected one included) and btree ones on orders and subscriptions.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table discounts add column max_redemptions_per_customer integer check (max_redemptions_per_customer >= 1);
    alter table checkouts add column payment_method_type text;
    alter table webhook_endpoints add column api_version text not null default '2026-04';
    alter table webhook_deliveries add column api_version text not null default '2026-04';
    alter table orders add column period_start timestamptz, add column period_end timestamptz;
    update orders o set period_start = s.current_period_start, period_end = s.current_period_end
      from subscriptions s where s.id = o.subscription_id;
    create index checkouts_product_ids_idx on checkouts using gin (product_ids);
    create index orders_product_id_idx on orders (product_id);
    create index subscriptions_product_id_idx on subscriptions (product_id);
    create index discount_products_product_id_idx on discount_products (product_id);
  `.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop index discount_products_product_id_idx;
    drop index subscriptions_product_id_idx;
    drop index orders_product_id_idx;
    drop index checkouts_product_ids_idx;
    alter table orders drop column period_start, drop column period_end;
    alter table webhook_deliveries drop column api_version;
    alter table webhook_endpoints drop column api_version;
    alter table checkouts drop column payment_method_type;
    alter table discounts drop column max_redemptions_per_customer;
  `.execute(db)
}
