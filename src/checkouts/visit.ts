import { findLinkForVisit, type LinkForVisit, type LinkVisitCache } from '../checkout-links/service'
import { publicProcessorOf, sessionProcessorColumns } from '../payment-settings/service'
import { parseFieldValue } from '../custom-fields/values'
import type { NewRow } from '../db/types'
import type { Deps } from '../deps'
import { findDiscountByCode } from '../discounts/service'
import { newId, newSecret } from '../lib/ids'
import { matchAcceptLanguage, matchLocale } from '../lib/locales'
import { baseAmount, computeAmounts, customAmountIssue, isDiscountApplicable, type DiscountTerms, type PriceTerms } from './pricing'
import { CheckoutUpdatePublic } from './schemas'
import * as repo from './repository'
import { CHECKOUT_SECRET_PREFIX, discountTerms } from './context'
import { lookUpVisitCode } from './discount-attempts'
import { checkoutUrl, emitCheckoutEvent } from './present'
import { visitEmbedOrigin } from './embed'
import type { Utm, VisitCounter } from './visit-counts'
import type { VisitLimiter } from './visit-limit'
import { classifyVisitor } from './visitors'

/** Query parameters the link understands (DESIGN.md's table); anything else is forwarded to the page. */
const METADATA_PARAMS = ['reference_id', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term'] as const
// `embed_origin` is stored, never forwarded (as Polar's redirect drops it); `embed` and `theme` go on to the page.
const KNOWN = new Set(['product_id', 'customer_email', 'customer_name', 'discount_code', 'amount', 'locale', 'embed_origin', ...METADATA_PARAMS])
const FIELD_PREFIX = 'custom_field_data.'
const MAX_LINK_QUERY = 4096

const prefill = CheckoutUpdatePublic.shape

export class LinkNotAvailable extends Error {
  constructor(readonly organizationName?: string) {
    super('This link is not available.')
  }
}

const decode = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

/**
 * A forgiving query-string parser: the first value of a repeated key counts, and a pair whose
 * percent-encoding is broken, or that decodes to a NUL (which PostgreSQL text and jsonb cannot
 * store), is dropped instead of breaking the link.
 */
export function parseVisitQuery(raw: string): Map<string, string> {
  const out = new Map<string, string>()
  if (!raw) return out
  for (const part of raw.split('&')) {
    if (!part) continue
    const eq = part.indexOf('=')
    const key = decode(eq < 0 ? part : part.slice(0, eq))
    const value = decode(eq < 0 ? '' : part.slice(eq + 1))
    if (key === undefined || value === undefined || key === '' || out.has(key)) continue
    if (key.includes('\0') || value.includes('\0')) continue
    out.set(key, value)
  }
  return out
}

/**
 * The parameters the checkout page gets: the unknown ones, re-encoded, and (as Polar does) any
 * `custom_field_data.*` that was not applied: an unknown slug, or a value the field refused.
 */
export function forwardedQuery(params: Map<string, string>, appliedFields: ReadonlySet<string> = new Set()): string {
  const parts: string[] = []
  for (const [k, v] of params) {
    if (KNOWN.has(k) || appliedFields.has(k)) continue
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
  }
  return parts.join('&')
}

function linkDiscountTerms(d: NonNullable<LinkForVisit['discount']>): DiscountTerms {
  return {
    id: d.id,
    type: d.type,
    basis_points: d.basis_points,
    amount: d.amount,
    currency: d.currency,
    starts_at: d.starts_at,
    ends_at: d.ends_at,
    max_redemptions: d.max_redemptions,
    redemptions_count: d.redemptions_count,
    product_ids: d.product_ids,
  }
}

export interface VisitContext {
  rawQuery: string
  acceptLanguage?: string
  ip?: string
  /** Asked once the link is known and before the session is inserted (the flood limit, the counters); throws to refuse. */
  admit?: (link: LinkForVisit, query: Map<string, string>) => Promise<void>
}

/**
 * A link visit: the link's configuration (from the cache when there is one, else one read), one insert
 * for the session. Every query
 * parameter is checked on its own; a bad one is dropped and the buyer still gets a checkout.
 */
export async function createCheckoutFromLink(deps: VisitDeps, linkSecret: string, visit: VisitContext): Promise<{ clientSecret: string; forward: string }> {
  try {
    return await openFromLink(deps, linkSecret, visit)
  } catch (err) {
    // A product of the link was deleted between the read and the insert (DELETE /v1/products/{id} takes it
    // off the link too): the visit is made again on what the link now offers, instead of a 500.
    if (!repo.isLostProductRace(err)) throw err
    // Read again, not from memory: the cached configuration may be the one that lost the race.
    deps.linkCache?.forget(linkSecret)
    return openFromLink(deps, linkSecret, visit)
  }
}

async function openFromLink(deps: VisitDeps, linkSecret: string, visit: VisitContext): Promise<{ clientSecret: string; forward: string }> {
  const link = await lookUpLink(deps, linkSecret)
  const sellable = link?.products.filter((p) => p.prices.length > 0) ?? []
  if (!link || sellable.length === 0) throw new LinkNotAvailable(link?.organization_name)

  const now = deps.clock.now()
  const q = parseVisitQuery(visit.rawQuery)
  await visit.admit?.(link, q)
  const get = (k: string) => q.get(k)

  const selected = sellable.find((p) => p.product.id === get('product_id')) ?? sellable[0]!
  const price = selected.prices[0]!
  const terms: PriceTerms = price

  // discount_code replaces the preset discount when it is valid here; otherwise the preset stays.
  let discount: DiscountTerms | null = link.discount ? linkDiscountTerms(link.discount) : null
  const code = get('discount_code')?.trim()
  if (code && link.allow_discount_codes) {
    // A code that does not apply counts as a wrong guess (the visit is otherwise an oracle for codes).
    const usable = await lookUpVisitCode(deps, link.organization_id, visit.ip, async () => {
      const found = await findDiscountByCode(deps.db, link.organization_id, code)
      const t = found ? discountTerms(found) : null
      return t && isDiscountApplicable(t, selected.product.id, price.price_currency, now) ? t : undefined
    })
    if (usable) discount = usable
  }
  const applicable = discount && isDiscountApplicable(discount, selected.product.id, price.price_currency, now) ? discount : null

  // Each prefill goes through the client endpoints' own field schema and rules; a value they refuse is dropped.
  let chosen: number | null = null
  const amountParam = get('amount')
  if (price.amount_type === 'custom' && amountParam && /^\d{1,10}$/.test(amountParam)) {
    const n = prefill.amount.safeParse(Number(amountParam))
    if (n.success && n.data != null && !customAmountIssue(terms, n.data)) chosen = n.data
  }
  const amount = baseAmount(terms, chosen)

  const email = prefill.customer_email.safeParse(get('customer_email'))
  const name = prefill.customer_name.safeParse(get('customer_name'))
  const locale = get('locale') !== undefined ? (matchLocale(get('locale')) ?? matchAcceptLanguage(visit.acceptLanguage) ?? 'en') : null

  const customFieldData: Record<string, string | number | boolean | null> = {}
  const applied = new Set<string>()
  for (const { field } of selected.fields) {
    const raw = get(FIELD_PREFIX + field.slug)
    if (raw === undefined) continue
    const r = parseFieldValue(field, raw)
    if (r.ok && r.value !== null) {
      customFieldData[field.slug] = r.value
      applied.add(FIELD_PREFIX + field.slug)
    }
  }

  // The link's own metadata wins; attribution parameters fill in around it.
  const metadata: Record<string, string | number | boolean> = { ...link.metadata }
  for (const key of METADATA_PARAMS) {
    const v = get(key)
    if (v === undefined || v === '' || v.length > 500 || key in metadata || Object.keys(metadata).length >= 50) continue
    metadata[key] = v
  }

  const clientSecret = newSecret(CHECKOUT_SECRET_PREFIX)
  const row: repo.VisitCheckoutRow = {
    id: newId(),
    organization_id: link.organization_id,
    client_secret: clientSecret,
    checkout_link_id: link.id,
    status: 'open',
    expires_at: new Date(now.getTime() + deps.config.checkoutTtlSeconds * 1000),
    product_ids: sellable.map((p) => p.product.id),
    product_id: selected.product.id,
    product_price_id: price.id,
    currency: price.price_currency,
    ...computeAmounts(amount, applicable),
    discount_id: applicable?.id ?? null,
    allow_discount_codes: link.allow_discount_codes,
    require_billing_address: link.require_billing_address,
    trial_interval: link.trial_interval,
    trial_interval_count: link.trial_interval_count,
    seats: link.seats,
    customer_email: (email.success && email.data) || null,
    customer_name: (name.success && name.data) || null,
    customer_ip_address: visit.ip ?? null,
    customer_metadata: '{}',
    locale,
    success_url: link.success_url,
    return_url: link.return_url,
    embed_origin: visitEmbedOrigin(get('embed_origin'), link.embed_hosts),
    metadata: JSON.stringify(metadata),
    custom_field_data: JSON.stringify(customFieldData),
    link_query: visit.rawQuery.length <= MAX_LINK_QUERY && !visit.rawQuery.includes('\0') ? visit.rawQuery : null,
    ...sessionProcessorColumns(publicProcessorOf(deps.config, link.payment_settings)),
    created_at: now,
  }
  if (link.webhook_subscribed) {
    // Someone listens to checkout.created: the session and its event commit together.
    await deps.db.transaction().execute(async (tx) => {
      const inserted = await repo.insertCheckoutReturning(tx, row)
      await emitCheckoutEvent(tx, deps, 'checkout.created', inserted, now)
    })
  } else {
    await repo.insertVisitCheckout(deps.db, row)
  }
  return { clientSecret, forward: forwardedQuery(q, applied) }
}

/** The raw query string of a request target, as sent (the visit parses it forgivingly itself). */
export const rawQuery = (url: string) => {
  const i = url.indexOf('?')
  return i < 0 ? '' : url.slice(i + 1)
}

/** The cookie a new session's 307 sets, naming that session, so the same browser gets it back. */
export const VISIT_COOKIE = 'kassa_visit'
const COOKIE_VALUE = /^[A-Za-z0-9_-]{1,200}$/

/** The parts of the front door that live beside the database: counters, the flood limit, the links' cache (src/app.ts builds them). */
export interface FrontDoor {
  counts?: VisitCounter
  limiter?: VisitLimiter
  /** Each link's visit configuration in memory, kept current by NOTIFY; without it every visit reads the database. */
  linkCache?: LinkVisitCache
}

type VisitDeps = Pick<Deps, 'db' | 'clock' | 'config'> & Pick<FrontDoor, 'linkCache'>

export interface VisitRequest {
  url: string
  ip: string
  headers: Record<string, string | string[] | undefined>
}

export type VisitOutcome =
  | { kind: 'missing'; organizationName?: string }
  | { kind: 'preview'; link: LinkForVisit; product: LinkForVisit['products'][number] }
  | { kind: 'prefetch' }
  | { kind: 'limited'; retryAfterSeconds: number; organizationName: string }
  | { kind: 'session'; location: string; clientSecret: string; reused: boolean }

export class VisitsLimited extends Error {
  constructor(readonly retryAfterSeconds: number, readonly organizationName: string) {
    super('Too many new checkout sessions from this client.')
  }
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)

/** The link's visit configuration: every read of it on the visit goes through here (and so through the cache). */
const lookUpLink = (deps: Pick<Deps, 'db'> & Pick<FrontDoor, 'linkCache'>, linkSecret: string) =>
  deps.linkCache ? deps.linkCache.get(linkSecret) : findLinkForVisit(deps.db, linkSecret)

/** A session is handed back only while it has this much left (at most half the TTL), so a returning buyer is not given one about to expire. */
const reuseMarginMs = (ttlSeconds: number) => Math.min(300, ttlSeconds / 2) * 1000

const utmOf = (q: Map<string, string>): Utm => ({ utm_source: q.get('utm_source'), utm_medium: q.get('utm_medium'), utm_campaign: q.get('utm_campaign') })

/**
 * A visit from an HTTP request (DESIGN.md "A link visit", issue 10):
 * - a prefetch (`Sec-Purpose: prefetch`…) opens nothing;
 * - a link previewer gets the preview (the caller renders it) and opens nothing;
 * - a person whose cookie names a session of this link and query that is still open gets it back (one read);
 * - otherwise a new session, unless this client opened too many on this link in the last minute.
 * `as: 'person'` is the preview page's "continue" (a person who was taken for a previewer); `as: 'preview'` is HEAD.
 */
export async function visitLink(
  deps: Pick<Deps, 'db' | 'clock' | 'config'> & FrontDoor,
  linkSecret: string,
  req: VisitRequest,
  opts: { as?: 'person' | 'preview'; rawQuery?: string; cookie?: string } = {},
): Promise<VisitOutcome> {
  const kind = opts.as ?? classifyVisitor(req.headers)
  const raw = opts.rawQuery ?? rawQuery(req.url)
  const now = deps.clock.now()
  if (kind === 'prefetch' || kind === 'preview') {
    const link = await lookUpLink(deps, linkSecret)
    const sellable = link?.products.filter((p) => p.prices.length > 0) ?? []
    if (!link || sellable.length === 0) return { kind: 'missing', organizationName: link?.organization_name }
    const q = parseVisitQuery(raw)
    deps.counts?.record(link.id, link.organization_id, kind, now, utmOf(q))
    if (kind === 'prefetch') return { kind: 'prefetch' }
    return { kind: 'preview', link, product: sellable.find((p) => p.product.id === q.get('product_id')) ?? sellable[0]! }
  }

  const cookie = opts.cookie
  if (cookie && COOKIE_VALUE.test(cookie) && cookie.startsWith(CHECKOUT_SECRET_PREFIX) && raw.length <= MAX_LINK_QUERY && !raw.includes('\0')) {
    const found = await repo.findReusableSession(deps.db, { clientSecret: cookie, linkSecret, rawQuery: raw, until: new Date(now.getTime() + reuseMarginMs(deps.config.checkoutTtlSeconds)) })
    if (found) {
      const q = parseVisitQuery(raw)
      deps.counts?.record(found.checkout_link_id, found.organization_id, 'reused', now, utmOf(q))
      const forward = forwardedQuery(q, new Set(found.field_slugs.map((slug) => FIELD_PREFIX + slug)))
      return { kind: 'session', clientSecret: found.client_secret, reused: true, location: `${checkoutUrl(deps.config, found.client_secret)}${forward ? `?${forward}` : ''}` }
    }
  }

  try {
    const { clientSecret, forward } = await createCheckoutFromLink(deps, linkSecret, {
      rawQuery: raw,
      acceptLanguage: one(req.headers['accept-language']),
      ip: req.ip,
      admit: async (link, q) => {
        const limited = deps.limiter ? await deps.limiter.admit(req, link.id) : null
        deps.counts?.record(link.id, link.organization_id, limited ? 'limited' : 'opened', now, utmOf(q))
        if (limited) throw new VisitsLimited(limited.retryAfterSeconds, link.organization_name)
      },
    })
    return { kind: 'session', clientSecret, reused: false, location: `${checkoutUrl(deps.config, clientSecret)}${forward ? `?${forward}` : ''}` }
  } catch (err) {
    if (err instanceof LinkNotAvailable) return { kind: 'missing', organizationName: err.organizationName }
    if (err instanceof VisitsLimited) return { kind: 'limited', retryAfterSeconds: err.retryAfterSeconds, organizationName: err.organizationName }
    throw err
  }
}

/** The `kassa_visit` cookie of a new session: HttpOnly, SameSite=Lax, Secure over https, only sent back to this link's path, for the session's life. */
export function visitCookie(config: Pick<Deps['config'], 'publicUrl' | 'checkoutTtlSeconds'>, path: string, clientSecret: string): string {
  return `${VISIT_COOKIE}=${clientSecret}; Path=${path}; HttpOnly; SameSite=Lax${config.publicUrl.startsWith('https:') ? '; Secure' : ''}; Max-Age=${config.checkoutTtlSeconds}`
}
