import { sql, type Kysely } from 'kysely'

// Polar's ad-hoc prices (`CheckoutCreate.prices`): prices made for one checkout session, never part of the
// product's catalog. They are stored as catalog-archived rows (every catalog read already skips archived
// prices) marked `source = 'ad_hoc'`, and the session lists them in `ad_hoc_price_ids`, so orders and
// subscriptions refer to a real price row like any other.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table product_prices add column source text not null default 'catalog' check (source in ('catalog', 'ad_hoc'));
    alter table checkouts add column ad_hoc_price_ids uuid[] not null default '{}';
  `.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table checkouts drop column ad_hoc_price_ids;
    alter table product_prices drop column source;
  `.execute(db)
}
