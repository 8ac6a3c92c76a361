import type { Executor } from '../db/index'
import type { Deps } from '../deps'
import { productStillThere } from '../products/service'
import { getDiscountById, getDiscountsByIds } from '../discounts/service'
import { ResourceNotFound, fieldError, missingField } from '../http/errors'
import { iso, isoOrNull, paginated, type Page } from '../http/schemas'
import { newId, newSecret } from '../lib/ids'
import { assertOwnOrganization, type AuthContext } from '../organizations/service'
import type { EmbeddedProduct as Product } from '../products/service'
import { findPriceProductId, getProductsByIds } from '../products/service'
import { emitEvent } from '../webhooks/service'
import * as repo from './repository'
import type { CheckoutLink, CheckoutLinkCreate, CheckoutLinkListQuery, CheckoutLinkUpdate } from './schemas'

type D = Pick<Deps, 'db' | 'clock' | 'config'>

export const LINK_SECRET_PREFIX = 'polar_cl_'

export const linkUrl = (config: Deps['config'], clientSecret: string) => `${config.linkBaseUrl}/${clientSecret}`

async function hydrate(deps: Pick<Deps, 'config'>, db: Executor, rows: repo.CheckoutLinkRow[]): Promise<CheckoutLink[]> {
  if (rows.length === 0) return []
  const organizationId = rows[0]!.organization_id
  const links = await repo.linkProductIds(db, rows.map((r) => r.id))
  const products = new Map((await getProductsByIds(db, organizationId, [...new Set(links.map((l) => l.product_id))])).map((p) => [p.id, p]))
  const discountIds = [...new Set(rows.flatMap((r) => (r.discount_id ? [r.discount_id] : [])))]
  const discounts = new Map(
    (await getDiscountsByIds(db, organizationId, discountIds)).map((d) => [d.id, d] as const),
  )
  return rows.map((row) => ({
    id: row.id,
    created_at: iso(row.created_at),
    modified_at: isoOrNull(row.modified_at),
    trial_interval: row.trial_interval,
    trial_interval_count: row.trial_interval_count,
    metadata: row.metadata,
    payment_processor: 'stripe' as const,
    client_secret: row.client_secret,
    success_url: row.success_url,
    return_url: row.return_url,
    label: row.label,
    allow_discount_codes: row.allow_discount_codes,
    require_billing_address: row.require_billing_address,
    discount_id: row.discount_id,
    seats: row.seats,
    units: null,
    organization_id: row.organization_id,
    products: links
      .filter((l) => l.checkout_link_id === row.id && products.has(l.product_id))
      .map((l) => {
        const { attached_custom_fields: _omit, ...p } = products.get(l.product_id) as Product
        return p
      }),
    discount: row.discount_id ? (discounts.get(row.discount_id) ?? null) : null,
    url: linkUrl(deps.config, row.client_secret),
  }))
}

/** Products must be the organization's, live and listed once; returns the hydrated products. */
async function checkProducts(db: Executor, organizationId: string, ids: string[]): Promise<Product[]> {
  const dup = ids.findIndex((id, i) => ids.indexOf(id) !== i)
  if (dup >= 0) throw fieldError(['body', 'products', dup], 'A product can only be listed once.', ids[dup])
  const found = await getProductsByIds(db, organizationId, ids)
  const byId = new Map(found.map((p) => [p.id, p]))
  ids.forEach((id, i) => {
    const p = byId.get(id)
    if (!p) throw fieldError(['body', 'products', i], 'Product does not exist.', id)
    if (p.is_archived) throw fieldError(['body', 'products', i], 'Product is archived.', id)
  })
  return ids.map((id) => byId.get(id)!)
}

async function checkDiscount(db: Executor, organizationId: string, discountId: string): Promise<void> {
  if (!(await getDiscountById(db, organizationId, discountId))) throw fieldError(['body', 'discount_id'], 'Discount does not exist.', discountId)
}

function checkTrial(products: Product[], trialInterval: string | null | undefined, trialCount: number | null | undefined): void {
  if ((trialInterval == null) !== (trialCount == null)) {
    throw fieldError(['body', trialInterval == null ? 'trial_interval' : 'trial_interval_count'], 'trial_interval and trial_interval_count must be set together.')
  }
  if (trialInterval != null && !products.some((p) => p.is_recurring)) {
    throw fieldError(['body', 'trial_interval'], 'A trial can only be set on a link with recurring products.', trialInterval)
  }
}

async function productIdsOf(db: Executor, organizationId: string, input: CheckoutLinkCreate): Promise<string[]> {
  if (input.products) return input.products
  if (input.product_id) return [input.product_id]
  if (input.product_price_id) {
    const productId = await findPriceProductId(db, organizationId, input.product_price_id)
    if (!productId) throw fieldError(['body', 'product_price_id'], 'Product price does not exist.', input.product_price_id)
    return [productId]
  }
  throw missingField(['body', 'products'])
}

/** Polar's `_validate_units_for_products`: units need unit-based pricing on every product, which no Kassa product has. */
function refuseUnits(units: number | null | undefined): void {
  if (units != null) throw fieldError(['body', 'units'], 'Units can only be preconfigured when all products use unit-based pricing.', units)
}

export async function createCheckoutLink(deps: D, auth: AuthContext, input: CheckoutLinkCreate & { organization_id?: string | null }): Promise<CheckoutLink> {
  assertOwnOrganization(auth, input.organization_id)
  refuseUnits(input.units)
  return productStillThere('checkout_link_products_product_id_fkey', deps.db.transaction().execute(async (tx) => {
    const productIds = await productIdsOf(tx, auth.organizationId, input)
    const products = await checkProducts(tx, auth.organizationId, productIds)
    if (input.discount_id) await checkDiscount(tx, auth.organizationId, input.discount_id)
    checkTrial(products, input.trial_interval, input.trial_interval_count)
    const row = await repo.insertLink(tx, {
      id: newId(),
      organization_id: auth.organizationId,
      client_secret: newSecret(LINK_SECRET_PREFIX),
      label: input.label ?? null,
      allow_discount_codes: input.allow_discount_codes,
      require_billing_address: input.require_billing_address,
      discount_id: input.discount_id ?? null,
      success_url: input.success_url ?? null,
      return_url: input.return_url ?? null,
      trial_interval: input.trial_interval ?? null,
      trial_interval_count: input.trial_interval_count ?? null,
      seats: input.seats ?? null,
      metadata: JSON.stringify(input.metadata),
      created_at: deps.clock.now(),
    })
    await repo.replaceLinkProducts(tx, row.id, productIds)
    const link = (await hydrate(deps, tx, [row]))[0]!
    await emitEvent(tx, { organizationId: auth.organizationId, type: 'checkout_link.created', data: link, now: row.created_at as Date })
    return link
  }))
}

export async function getCheckoutLinkOrThrow(deps: Pick<Deps, 'db' | 'config'>, auth: AuthContext, id: string): Promise<CheckoutLink> {
  const row = await repo.findLink(deps.db, auth.organizationId, id)
  if (!row) throw new ResourceNotFound()
  return (await hydrate(deps, deps.db, [row]))[0]!
}

export async function listCheckoutLinks(deps: Pick<Deps, 'db' | 'config'>, auth: AuthContext, query: CheckoutLinkListQuery) {
  const page: Page = { page: query.page, limit: query.limit }
  if (query.organization_id && !query.organization_id.includes(auth.organizationId)) return paginated([], 0, page)
  const { rows, total } = await repo.listLinks(deps.db, auth.organizationId, { productIds: query.product_id, sorting: query.sorting }, page)
  return paginated(await hydrate(deps, deps.db, rows), total, page)
}

export async function updateCheckoutLink(deps: D, auth: AuthContext, id: string, input: CheckoutLinkUpdate): Promise<CheckoutLink> {
  refuseUnits(input.units)
  return productStillThere('checkout_link_products_product_id_fkey', deps.db.transaction().execute(async (tx) => {
    const existing = await repo.findLink(tx, auth.organizationId, id)
    if (!existing) throw new ResourceNotFound()
    const productIds = input.products ?? (await repo.linkProductIds(tx, [id])).map((l) => l.product_id)
    const products = input.products ? await checkProducts(tx, auth.organizationId, input.products) : await getProductsByIds(tx, auth.organizationId, productIds)
    if (input.discount_id) await checkDiscount(tx, auth.organizationId, input.discount_id)
    const trialInterval = input.trial_interval !== undefined ? input.trial_interval : existing.trial_interval
    const trialCount = input.trial_interval_count !== undefined ? input.trial_interval_count : existing.trial_interval_count
    checkTrial(products, trialInterval, trialCount)
    const row = await repo.updateLink(tx, auth.organizationId, id, {
      ...(input.label !== undefined ? { label: input.label } : {}),
      ...(input.allow_discount_codes != null ? { allow_discount_codes: input.allow_discount_codes } : {}),
      ...(input.require_billing_address != null ? { require_billing_address: input.require_billing_address } : {}),
      ...(input.discount_id !== undefined ? { discount_id: input.discount_id } : {}),
      ...(input.success_url !== undefined ? { success_url: input.success_url } : {}),
      ...(input.return_url !== undefined ? { return_url: input.return_url } : {}),
      ...(input.seats !== undefined ? { seats: input.seats } : {}),
      ...(input.trial_interval !== undefined || input.trial_interval_count !== undefined ? { trial_interval: trialInterval, trial_interval_count: trialCount } : {}),
      ...(input.metadata !== undefined ? { metadata: JSON.stringify(input.metadata) } : {}),
      modified_at: deps.clock.now(),
    })
    if (!row) throw new ResourceNotFound()
    if (input.products) await repo.replaceLinkProducts(tx, id, input.products)
    const link = (await hydrate(deps, tx, [row]))[0]!
    await emitEvent(tx, { organizationId: auth.organizationId, type: 'checkout_link.updated', data: link, now: deps.clock.now() })
    return link
  }))
}

export async function deleteCheckoutLink(deps: D, auth: AuthContext, id: string): Promise<void> {
  await deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const row = await repo.findLink(tx, auth.organizationId, id)
    if (!row || !(await repo.softDeleteLink(tx, auth.organizationId, id, now))) throw new ResourceNotFound()
    await emitEvent(tx, { organizationId: auth.organizationId, type: 'checkout_link.deleted', data: async () => (await hydrate(deps, tx, [row]))[0]!, now })
  })
}

/** The link as a visit needs it (one query), or undefined when unknown or deleted. */
export const findLinkForVisit = (db: Executor, clientSecret: string) => repo.findLinkForVisit(db, clientSecret)
export type { LinkForVisit } from './repository'
export { LINK_CONFIG_CHANNEL, LinkVisitCache } from './visit-cache'

/** The public URL of a live link, by id (for "start again" from an expired session). */
export async function findLiveLinkUrl(deps: Pick<Deps, 'db' | 'config'>, organizationId: string, linkId: string): Promise<string | undefined> {
  const row = await repo.findLink(deps.db, organizationId, linkId)
  return row ? linkUrl(deps.config, row.client_secret) : undefined
}
