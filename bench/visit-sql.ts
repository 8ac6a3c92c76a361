/**
 * The visit's two statements as the baseline server (and run.ts's SQL probe) issue them: Kassa's
 * own read, captured as SQL text from src/, and one insert into `checkouts` with the columns Kassa's
 * visit writes. `sessionValues` is the baseline's version of the visit's choices (product, price,
 * pay-what-you-want amount, email, attribution metadata, forwarded parameters), without a framework.
 *
 * The bench data set has no discounts, no custom fields and no webhook endpoints (so no
 * `checkout.created` event to write), so those branches are left out here;
 * Kassa still evaluates them (cheaply) on every visit.
 */
import { randomBytes } from 'node:crypto'
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely'
import { v7 } from 'uuid'
import { findLinkForVisit, type LinkForVisit } from '../src/checkout-links/repository'
import { PUBLIC_URL } from './common'

export type { LinkForVisit }

export interface VisitRead {
  sql: string
  /** The statement's parameters for a link secret (Kassa's read may have constant ones besides it). */
  params: (secret: string) => unknown[]
}

/** Kassa's `findLinkForVisit`, compiled by Kysely against a driver that runs nothing. */
export async function visitRead(): Promise<VisitRead> {
  // No NUL in it: findLinkForVisit answers a secret holding one without a query.
  const SENTINEL = `link-secret-sentinel-${randomBytes(8).toString('hex')}`
  let captured: { sql: string; parameters: readonly unknown[] } | undefined
  const db = new Kysely<any>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (k) => new PostgresIntrospector(k),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
    log: (e) => {
      captured ??= e.query
    },
  })
  await findLinkForVisit(db, SENTINEL)
  await db.destroy()
  const at = captured ? captured.parameters.indexOf(SENTINEL) : -1
  if (!captured || at < 0) throw new Error('could not capture the visit query')
  const { sql, parameters } = captured
  return {
    sql,
    params: (secret) => {
      const p = [...parameters]
      p[at] = secret
      return p
    },
  }
}

const COLUMNS = [
  'id', 'organization_id', 'client_secret', 'checkout_link_id', 'status', 'expires_at', 'product_ids', 'product_id',
  'product_price_id', 'currency', 'amount', 'discount_amount', 'net_amount', 'tax_amount', 'total_amount', 'discount_id',
  'allow_discount_codes', 'require_billing_address', 'trial_interval', 'trial_interval_count', 'seats', 'customer_email',
  'customer_name', 'customer_ip_address', 'customer_metadata', 'locale', 'success_url', 'return_url', 'metadata',
  'custom_field_data', 'link_query', 'created_at',
]
export const INSERT_SQL = `insert into checkouts (${COLUMNS.join(', ')}) values (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`

const METADATA_PARAMS = ['reference_id', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term']
const KNOWN = new Set(['product_id', 'customer_email', 'customer_name', 'discount_code', 'amount', 'locale', ...METADATA_PARAMS])
const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/
const LOCALES = new Set(['en', 'de', 'fr', 'es', 'it', 'nl', 'pt', 'pt-BR', 'sv', 'da', 'nb', 'fi', 'pl', 'ja'])
const TTL_MS = 86_400_000

/** The session for a visit of `link` (already read) with this query: the insert's values and the 307's Location. */
export function sessionValues(link: LinkForVisit, rawQuery: string, ip: string | undefined): { values: unknown[]; location: string } | null {
  const sellable = link.products.filter((p) => p.prices.length > 0)
  if (sellable.length === 0) return null
  const q = new URLSearchParams(rawQuery)
  const productId = q.get('product_id')
  const selected = sellable.find((p) => p.product.id === productId) ?? sellable[0]!
  const price = selected.prices[0]!
  let amount = price.price_amount ?? 0
  if (price.amount_type === 'custom') {
    amount = price.preset_amount ?? price.minimum_amount ?? 0
    const a = q.get('amount')
    if (a && /^\d{1,9}$/.test(a)) {
      const n = Number(a)
      if (n >= (price.minimum_amount ?? 0) && (price.maximum_amount == null || n <= price.maximum_amount)) amount = n
    }
  }
  const email = q.get('customer_email')?.trim()
  const name = q.get('customer_name')?.trim()
  const loc = q.get('locale')
  const metadata: Record<string, unknown> = { ...link.metadata }
  for (const k of METADATA_PARAMS) {
    const v = q.get(k)
    if (v && v.length <= 500 && !(k in metadata)) metadata[k] = v
  }
  const now = new Date()
  const clientSecret = `polar_c_${randomBytes(32).toString('base64url')}`
  const values = [
    v7(), link.organization_id, clientSecret, link.id, 'open', new Date(now.getTime() + TTL_MS),
    sellable.map((p) => p.product.id), selected.product.id, price.id, price.price_currency,
    amount, 0, amount, 0, amount, null,
    link.allow_discount_codes, link.require_billing_address, link.trial_interval, link.trial_interval_count, link.seats,
    email && email.length <= 320 && EMAIL_RE.test(email) ? email : null,
    name && name.length <= 256 ? name : null,
    ip ?? null, '{}', loc == null ? null : LOCALES.has(loc) ? loc : 'en', link.success_url, link.return_url,
    JSON.stringify(metadata), '{}', rawQuery.length <= 4096 ? rawQuery : null, now,
  ]
  const forward: string[] = []
  for (const [k, v] of q) if (!KNOWN.has(k) && !k.startsWith('custom_field_data.')) forward.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
  return { values, location: `${PUBLIC_URL}/checkout/${clientSecret}${forward.length ? `?${forward.join('&')}` : ''}` }
}
