/**
 * The bench data set, created through Kassa's own services (so it is exactly what the API makes):
 * one organization, 25 products (one-time, subscriptions, pay-what-you-want), 200 links of one to
 * three products, some with metadata and a success URL. And, for the "millions of sessions" run,
 * a bulk insert of sessions spread over the links in one SQL statement.
 */
import { sql } from 'kysely'
import { createCheckoutLink } from '../src/checkout-links/service'
import { CheckoutLinkCreate } from '../src/checkout-links/schemas'
import type { Config } from '../src/config'
import type { Database } from '../src/db/index'
import { systemClock } from '../src/lib/clock'
import { createOrganization, type AuthContext } from '../src/organizations/service'
import { ProductCreate } from '../src/products/schemas'
import { createProduct } from '../src/products/service'
import type { BenchDataset } from './common'

export async function seed(database: Database, config: Config, nLinks: number): Promise<BenchDataset> {
  const deps = { db: database.db, clock: systemClock, config }
  const { organization } = await createOrganization(deps, { name: 'Bench Shop', slug: `bench-${Date.now()}` })
  const auth: AuthContext = { organizationId: organization.id, tokenId: 'bench', scopes: new Set() }

  const productIds: string[] = []
  for (let i = 0; i < 25; i++) {
    const kind = i % 4
    const input =
      kind === 0
        ? { name: `Tip jar ${i}`, prices: [{ amount_type: 'custom', minimum_amount: 500, maximum_amount: 40_000, preset_amount: 1500 }] }
        : kind === 1
          ? { name: `Sticker pack ${i}`, description: 'Five vinyl stickers.', prices: [{ amount_type: 'fixed', price_amount: 1200 + i }] }
          : kind === 2
            ? { name: `Pro plan ${i}`, recurring_interval: 'month', trial_interval: 'day', trial_interval_count: 7, prices: [{ amount_type: 'fixed', price_amount: 2900 }] }
            : { name: `Team plan ${i}`, recurring_interval: 'year', prices: [{ amount_type: 'fixed', price_amount: 29_000, price_currency: 'eur' }], metadata: { tier: 'team' } }
    const product = await createProduct(deps, auth, ProductCreate.parse(input))
    productIds.push(product.id)
  }
  // The last product is on no link: a `product_id` that is not one of the link's.
  const foreignProductId = productIds.pop()!

  const links: BenchDataset['links'] = []
  for (let j = 0; j < nLinks; j++) {
    const count = j % 5 === 0 ? 3 : j % 3 === 0 ? 2 : 1
    // Links of one interval kind only (a link cannot mix a trial with products that have none, etc.):
    // step by 4 so every product of a link is of the same kind.
    const products = Array.from({ length: count }, (_, k) => productIds[(j + 4 * k) % productIds.length]!)
    const link = await createCheckoutLink(
      deps,
      auth,
      CheckoutLinkCreate.parse({
        payment_processor: 'stripe',
        products,
        label: `Bench link ${j}`,
        success_url: j % 2 === 0 ? 'https://shop.example.com/thanks?checkout={CHECKOUT_ID}' : undefined,
        metadata: j % 4 === 0 ? { campaign: 'evergreen', utm_source: 'link-preset' } : {},
      }),
    )
    links.push({ secret: link.client_secret, productIds: products })
  }
  // Statistics, as autovacuum would have them on a live database: the planner picks the real indexes.
  await sql`analyze`.execute(database.db)
  return { organizationId: organization.id, links, foreignProductId }
}

/**
 * `n` sessions spread evenly over the organization's links (each with the link's first product and
 * price), created over the last 30 days, a mix of open, expired and succeeded. Foreign keys are
 * valid by construction, so their triggers are skipped (`session_replication_role`, superuser only;
 * without it the insert is just slower). Then VACUUM ANALYZE and CHECKPOINT, so neither autovacuum
 * nor a checkpoint lands in the middle of the measurement.
 */
export async function bulkInsertSessions(database: Database, organizationId: string, nLinks: number, n: number): Promise<void> {
  await database.db.connection().execute(async (conn) => {
    await sql`begin`.execute(conn)
    try {
      await sql`set local session_replication_role = replica`.execute(conn)
    } catch {
      await sql`rollback`.execute(conn)
      await sql`begin`.execute(conn)
    }
    await sql`
      insert into checkouts (id, organization_id, client_secret, checkout_link_id, status, expires_at, product_ids, product_id,
        product_price_id, currency, amount, discount_amount, net_amount, tax_amount, total_amount, allow_discount_codes,
        require_billing_address, customer_email, metadata, link_query, created_at)
      select gen_random_uuid(), l.organization_id, 'polar_c_bulk' || g || '_' || md5(g::text), l.id,
        case when g % 10 = 0 then 'expired' when g % 50 = 1 then 'succeeded' else 'open' end,
        t.ts + interval '1 day', array[l.product_id], l.product_id, l.price_id, l.currency, 1500, 0, 1500, 0, 1500, true, false,
        case when g % 3 = 0 then 'bulk' || g || '@example.com' end,
        jsonb_build_object('utm_source', 'bulk', 'reference_id', 'bulk-' || g), 'utm_source=bulk', t.ts
      from generate_series(0, ${n - 1}::int) g
      join (
        select l.id, l.organization_id, first.product_id, price.id as price_id, price.price_currency as currency,
          (row_number() over (order by l.id) - 1)::int as n
        from checkout_links l
        join lateral (select product_id from checkout_link_products where checkout_link_id = l.id order by "order" limit 1) first on true
        join lateral (select id, price_currency from product_prices where product_id = first.product_id order by created_at limit 1) price on true
        where l.organization_id = ${organizationId} and l.deleted_at is null
      ) l on l.n = g % ${nLinks}::int
      cross join lateral (select now() - interval '30 days' + (g::float8 / ${n}::int) * interval '30 days' as ts) t
    `.execute(conn)
    await sql`commit`.execute(conn)
    await sql`vacuum analyze checkouts`.execute(conn)
    await sql`checkpoint`.execute(conn).catch(() => undefined)
  })
}
