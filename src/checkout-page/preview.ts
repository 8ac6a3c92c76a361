import type { Locale } from '../lib/locales'
import type { ProductBase, ProductPrice } from '../products/schemas'
import { formatMoney } from './format'
import { html } from './html'
import { t } from './i18n/index'
import { footer, layout, recurringSuffix, renderMessage, type PageContext } from './render'

/** What a link previewer (Slackbot, WhatsApp, Twitterbot…) is shown instead of a new session. */
export interface PreviewData {
  organizationName: string
  productName: string
  description: string | null
  /** Already formatted for the locale (`previewPriceLabel`); null when the link has no price to show. */
  priceLabel: string | null
  /** Absolute http(s) URL; anything else is left out of the tags. */
  imageUrl?: string | null
  /** The canonical link URL (og:url). */
  url: string
  /** Where the "Continue to checkout" form posts. */
  continueAction: string
}

/** Open Graph wants language_TERRITORY; each locale gets the territory most of its readers are in. */
const OG_LOCALES: Record<Locale, string> = {
  en: 'en_US', nl: 'nl_NL', fr: 'fr_FR', sv: 'sv_SE', es: 'es_ES', de: 'de_DE', hu: 'hu_HU', it: 'it_IT',
  'pt-BR': 'pt_BR', 'pt-PT': 'pt_PT', ko: 'ko_KR', ja: 'ja_JP', tr: 'tr_TR', pl: 'pl_PL',
}

export const META_DESCRIPTION_MAX = 300
const META_TITLE_MAX = 200

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' })

/**
 * One line of at most `max` UTF-16 units for a meta tag: whitespace collapsed, control characters dropped,
 * cut between graphemes (never inside a surrogate pair, a flag or an accented letter), at a word when one
 * ends near the limit, with an ellipsis. Escaping comes after, so an entity is never cut either.
 */
export function metaText(text: string, max: number): string {
  const flat = text.replace(/[\u0000-\u0008\u000e-\u001f\u007f]/g, '').replace(/\s+/g, ' ').trim()
  if (flat.length <= max) return flat
  let out = ''
  for (const { segment } of graphemes.segment(flat)) {
    if (out.length + segment.length > max - 1) break
    out += segment
  }
  const space = out.lastIndexOf(' ')
  if (space > max * 0.8) out = out.slice(0, space)
  return `${out.trimEnd()}…`
}

function imageUrl(url: string | null | undefined): string | undefined {
  if (!url || !/^https?:\/\//i.test(url)) return undefined
  try {
    return new URL(url).href
  } catch {
    return undefined
  }
}

/**
 * The price a preview shows, as the checkout page words it: "€12", "€9 / mo", "€90 / 3 months", "Free",
 * "Pay what you want" (or "…, from €5" when there is a minimum). Null without a price.
 */
export function previewPriceLabel(locale: Locale, price: ProductPrice | null | undefined, product: Pick<ProductBase, 'recurring_interval' | 'recurring_interval_count'>): string | null {
  if (!price) return null
  const suffix = recurringSuffix(locale, product.recurring_interval, product.recurring_interval_count)
  if (price.amount_type === 'fixed') return price.price_amount === 0 ? t(locale, 'free') : formatMoney(price.price_amount, price.price_currency, locale) + suffix
  const label = price.minimum_amount > 0 ? t(locale, 'price_pay_what_you_want_from', { amount: formatMoney(price.minimum_amount, price.price_currency, locale) }) : t(locale, 'price_pay_what_you_want')
  return label + suffix
}

/**
 * The page crawlers and link previewers get: Open Graph and Twitter card tags for the unfurl, and for a
 * person taken for a bot, the product and a button that posts on to the checkout (bots do not POST).
 */
export function renderPreview(ctx: PageContext, p: PreviewData): string {
  const { locale } = ctx
  const description = p.description?.trim() ? p.description : null
  const fallback = p.priceLabel
    ? t(locale, 'preview_description_fallback', { price: p.priceLabel, organization: p.organizationName })
    : t(locale, 'preview_description_no_price', { organization: p.organizationName })
  const metaDescription = metaText(description ?? fallback, META_DESCRIPTION_MAX)
  const title = metaText(p.productName, META_TITLE_MAX)
  const image = imageUrl(p.imageUrl)
  const head = html`<meta name="description" content="${metaDescription}"><meta property="og:type" content="product"><meta property="og:title" content="${title}"><meta property="og:description" content="${metaDescription}"><meta property="og:site_name" content="${metaText(p.organizationName, META_TITLE_MAX)}"><meta property="og:url" content="${p.url}"><meta property="og:locale" content="${OG_LOCALES[locale] ?? 'en_US'}">${
    image ? html`<meta property="og:image" content="${image}"><meta property="og:image:alt" content="${title}">` : ''
  }<meta name="twitter:card" content="${image ? 'summary_large_image' : 'summary'}"><meta name="twitter:title" content="${title}"><meta name="twitter:description" content="${metaDescription}">${image ? html`<meta name="twitter:image" content="${image}">` : ''}`
  const body = html`<main class="center"><section class="card" aria-labelledby="k-product-name"><p class="org">${p.organizationName}</p><h1 id="k-product-name">${p.productName}</h1>${
    p.priceLabel ? html`<p class="price">${p.priceLabel}</p>` : ''
  }${description ? html`<p class="desc">${description}</p>` : ''}<form method="post" action="${p.continueAction}" class="go"><input type="hidden" name="locale" value="${locale}"><button type="submit" class="pay">${t(locale, 'preview_continue')}</button></form></section></main>`
  return layout(ctx, `${p.productName} · ${p.organizationName}`, body, { head, footer: footer(ctx) })
}

const relativeTimes = new Map<Locale, Intl.RelativeTimeFormat>()

/**
 * "in 45 seconds", "in 3 minutes" (from 120 s), "in 2 hours" (from 120 min), rounded up so the buyer is
 * never told to come back before the limit lifts. Intl words it, plurals and word order included.
 */
export function retryIn(locale: Locale, seconds: number): string {
  let f = relativeTimes.get(locale)
  if (!f) relativeTimes.set(locale, (f = new Intl.RelativeTimeFormat(locale, { numeric: 'always' })))
  const s = Math.max(1, Math.ceil(Number.isFinite(seconds) ? seconds : 60))
  if (s < 120) return f.format(s, 'second')
  if (s < 7200) return f.format(Math.ceil(s / 60), 'minute')
  return f.format(Math.ceil(s / 3600), 'hour')
}

/** The 429 page for a flood of link visits from one client. */
export function renderVisitsLimited(ctx: PageContext, retryAfterSeconds: number, organizationName?: string): string {
  const { locale } = ctx
  return renderMessage(ctx, t(locale, 'visits_limited_title'), t(locale, 'visits_limited_text', { when: retryIn(locale, retryAfterSeconds) }), undefined, organizationName)
}
