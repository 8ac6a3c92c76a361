import { sql } from 'kysely'
import { preparedMarker, type Executor } from '../db/index'
import { applySorting, fetchPage } from '../db/helpers'
import type { NewRow, Row, RowUpdate } from '../db/types'
import type { Page } from '../http/schemas'
import { webhookSubscribedSql } from '../webhooks/service'

export type CheckoutLinkRow = Row<'checkout_links'>

const live = (db: Executor, organizationId: string) =>
  db.selectFrom('checkout_links').where('organization_id', '=', organizationId).where('deleted_at', 'is', null)

export async function insertLink(db: Executor, row: NewRow<'checkout_links'>): Promise<CheckoutLinkRow> {
  return db.insertInto('checkout_links').values(row).returningAll().executeTakeFirstOrThrow()
}

export async function replaceLinkProducts(db: Executor, linkId: string, productIds: string[]): Promise<void> {
  await db.deleteFrom('checkout_link_products').where('checkout_link_id', '=', linkId).execute()
  if (productIds.length) {
    await db
      .insertInto('checkout_link_products')
      .values(productIds.map((product_id, order) => ({ checkout_link_id: linkId, product_id, order })))
      .execute()
  }
}

export async function findLink(db: Executor, organizationId: string, id: string): Promise<CheckoutLinkRow | undefined> {
  return live(db, organizationId).selectAll().where('id', '=', id).executeTakeFirst()
}

export async function linkProductIds(db: Executor, linkIds: string[]): Promise<{ checkout_link_id: string; product_id: string }[]> {
  if (linkIds.length === 0) return []
  return db
    .selectFrom('checkout_link_products')
    .select(['checkout_link_id', 'product_id'])
    .where('checkout_link_id', 'in', linkIds)
    .orderBy('order')
    .execute()
}

export async function listLinks(db: Executor, organizationId: string, filter: { productIds?: string[]; sorting: string[] }, page: Page) {
  let q = live(db, organizationId)
  if (filter.productIds?.length) {
    const ids = filter.productIds
    q = q.where((eb) =>
      eb.exists(eb.selectFrom('checkout_link_products as clp').select('clp.product_id').whereRef('clp.checkout_link_id', '=', 'checkout_links.id').where('clp.product_id', 'in', ids)),
    )
  }
  const sortable = { created_at: 'created_at', label: 'label', success_url: 'success_url', allow_discount_codes: 'allow_discount_codes' }
  return fetchPage(q, (qb) => applySorting(qb.selectAll(), filter.sorting, sortable), page) as Promise<{ rows: CheckoutLinkRow[]; total: number }>
}

export async function updateLink(db: Executor, organizationId: string, id: string, patch: RowUpdate<'checkout_links'>): Promise<CheckoutLinkRow | undefined> {
  return db
    .updateTable('checkout_links')
    .set(patch)
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst()
}

export async function softDeleteLink(db: Executor, organizationId: string, id: string, now: Date): Promise<boolean> {
  const row = await db
    .updateTable('checkout_links')
    .set({ deleted_at: now })
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .where('deleted_at', 'is', null)
    .returning('id')
    .executeTakeFirst()
  return Boolean(row)
}

/** Everything a visit needs to open a session, as stored (JSON dates are strings). */
export interface LinkForVisit {
  id: string
  organization_id: string
  organization_name: string
  /** The organization's `embed_hosts`: the visit checks `?embed_origin=` against them. */
  embed_hosts: string[]
  client_secret: string
  allow_discount_codes: boolean
  require_billing_address: boolean
  success_url: string | null
  return_url: string | null
  trial_interval: Row<'checkout_links'>['trial_interval']
  trial_interval_count: number | null
  seats: number | null
  metadata: Record<string, string | number | boolean>
  /** Live (not archived) products in the link's order, each with live prices and attached fields. */
  products: {
    product: Row<'products'>
    prices: Row<'product_prices'>[]
    fields: { order: number; required: boolean; field: Row<'custom_fields'> }[]
  }[]
  discount: (Row<'discounts'> & { product_ids: string[] }) | null
  /** Whether a webhook endpoint listens to `checkout.created`: only then does the visit write an event. */
  webhook_subscribed: boolean
  /** The organization's stored payment settings, if any (no secrets): see payment-settings `publicProcessorOf`. */
  payment_settings: { processor: 'sandbox' | 'stripe'; livemode: boolean; stripe_publishable_key: string | null; has_secret: boolean } | null
}

/**
 * The visit's one read: the link, its live products with prices and custom fields, and its preset
 * discount, in a single indexed query (each round trip costs as much as the rest of the request).
 */
export async function findLinkForVisit(db: Executor, clientSecret: string): Promise<LinkForVisit | undefined> {
  // No secret has a NUL, which PostgreSQL text cannot even hold (it would refuse the query): not found.
  if (clientSecret.includes('\0')) return undefined
  const res = await sql<LinkForVisit>`${sql.raw(preparedMarker('link_for_visit'))}
    select l.id, l.organization_id, o.name as organization_name, o.embed_hosts, l.client_secret, l.allow_discount_codes,
      l.require_billing_address, l.success_url, l.return_url, l.trial_interval, l.trial_interval_count, l.seats, l.metadata,
      coalesce((
        select json_agg(json_build_object(
          'product', to_jsonb(p),
          'prices', coalesce((select json_agg(to_jsonb(pp) order by pp.created_at, pp.id) from product_prices pp
                              where pp.product_id = p.id and not pp.is_archived), '[]'),
          'fields', coalesce((select json_agg(json_build_object('order', pcf."order", 'required', pcf.required, 'field', to_jsonb(cf)) order by pcf."order")
                              from product_custom_fields pcf join custom_fields cf on cf.id = pcf.custom_field_id and cf.deleted_at is null
                              where pcf.product_id = p.id), '[]')
        ) order by clp."order")
        from checkout_link_products clp join products p on p.id = clp.product_id and not p.is_archived
        where clp.checkout_link_id = l.id
      ), '[]') as products,
      (select to_jsonb(d) || jsonb_build_object('product_ids', coalesce((select jsonb_agg(dp.product_id) from discount_products dp where dp.discount_id = d.id), '[]'))
        from discounts d where d.id = l.discount_id and d.deleted_at is null) as discount,
      ${webhookSubscribedSql(sql.ref('l.organization_id'), 'checkout.created')} as webhook_subscribed,
      case when ps.organization_id is null then null else json_build_object('processor', ps.processor, 'livemode', ps.livemode,
        'stripe_publishable_key', ps.stripe_publishable_key, 'has_secret', ps.stripe_secret_key_sealed is not null) end as payment_settings
    from checkout_links l join organizations o on o.id = l.organization_id
      left join organization_payment_settings ps on ps.organization_id = l.organization_id
    where l.client_secret = ${clientSecret} and l.deleted_at is null
  `.execute(db)
  return res.rows[0]
}
