/**
 * Shared by the bench orchestrator (run.ts), the servers and the load generator: the data set's
 * description and the deterministic request mix (request `seq` → the same query string for every
 * server, so Kassa and the baseline see the same traffic).
 */

/** A link as the load generator needs it. */
export interface BenchLink {
  secret: string
  productIds: string[]
}

export interface BenchDataset {
  organizationId: string
  links: BenchLink[]
  /** A product of the organization that is on no link's list at all: "not one of the link's products". */
  foreignProductId: string
}

/** Where both servers answer link visits (Kassa: `$LINK_BASE_URL` = `$PUBLIC_URL/buy`). */
export const LINK_PATH = '/buy'
/** Used for the `Location` of the 307 by both servers. */
export const PUBLIC_URL = 'http://localhost:8000'

/** The metadata key each request is tagged with, so every session can be traced to its request. */
export const TAG_PARAM = 'reference_id'

/** mulberry32: a tiny, fast, seedable PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SOURCES = ['twitter', 'newsletter', 'google', 'youtube', 'podcast', 'hn', 'reddit', 'partner-blog']
const CAMPAIGNS = ['spring-sale', 'launch', 'black friday', 'retargeting/q4', 'brand']
const LOCALES = ['de', 'fr-CA', 'pt-BR', 'xx', 'en']

/**
 * The path of request number `seq` (the tag `<prefix><seq>` makes it unique): a random link and a
 * varied, realistic query: valid and invalid emails, attribution, pay-what-you-want amounts (valid,
 * out of range, not a number), a product that is or is not one of the link's, an unsupported locale,
 * and parameters Kassa only forwards. `linkIndex` fixes the link instead (the per-kind runs' fixed URLs).
 */
export function visitPath(data: BenchDataset, seq: number, tag: string, linkIndex?: number): string {
  const r = rng(seq * 2654435761)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  const picked = pick(data.links)
  const link = linkIndex === undefined ? picked : data.links[linkIndex % data.links.length]!
  const q: [string, string][] = []
  if (r() < 0.7) q.push(['customer_email', r() < 0.9 ? `buyer.${seq}+${pick(SOURCES)}@example.com` : 'not-an-email'])
  if (r() < 0.2) q.push(['customer_name', `Buyer ${seq}`])
  if (r() < 0.8) q.push(['utm_source', pick(SOURCES)])
  if (r() < 0.5) q.push(['utm_medium', r() < 0.5 ? 'social' : 'email'])
  if (r() < 0.4) q.push(['utm_campaign', pick(CAMPAIGNS)])
  if (r() < 0.6) {
    const a = r()
    q.push(['amount', a < 0.7 ? String(500 + Math.floor(r() * 50_000)) : a < 0.85 ? '10' : '12.5e3'])
  }
  if (r() < 0.6) q.push(['product_id', r() < 0.85 ? pick(link.productIds) : data.foreignProductId])
  if (r() < 0.15) q.push(['locale', pick(LOCALES)])
  if (r() < 0.2) q.push(['ref', `partner-${Math.floor(r() * 100)}`])
  q.push([TAG_PARAM, tag])
  // shuffle, so the servers never see the parameters in one fixed order
  for (let i = q.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1))
    ;[q[i], q[j]] = [q[j]!, q[i]!]
  }
  return `${LINK_PATH}/${link.secret}?${q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`
}

/** What the per-kind runs send (run.ts's "kinds" section); `new` is every other run's traffic. */
export type VisitKind = 'new' | 'reused' | 'preview' | 'prefetch' | 'limited'
export const VISIT_KINDS: readonly VisitKind[] = ['new', 'reused', 'preview', 'prefetch', 'limited']
/** A real link previewer, as isbot knows it (src/checkouts/visitors.ts's PREVIEWERS). */
export const PREVIEWER_UA = 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)'
export const VISIT_COOKIE = 'kassa_visit'

/** The line a server prints on stdout once it accepts connections. */
export const READY_RE = /^READY port=(\d+)$/m
