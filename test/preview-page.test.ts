import { describe, expect, it } from 'vitest'
import { formatMoney } from '../src/checkout-page/format'
import { t } from '../src/checkout-page/i18n'
import { META_DESCRIPTION_MAX, metaText, previewPriceLabel, renderPreview, renderVisitsLimited, retryIn, type PreviewData } from '../src/checkout-page/preview'
import type { PageContext } from '../src/checkout-page/render'
import type { Locale } from '../src/lib/locales'
import type { ProductPrice } from '../src/products/schemas'

const ctx = (locale: Locale): PageContext => ({ locale, nonce: 'test-nonce' })

const data = (over: Partial<PreviewData> = {}): PreviewData => ({
  organizationName: 'Acme',
  productName: 'Pro plan',
  description: 'Everything in Free, and more.',
  priceLabel: '€12',
  url: 'https://pay.example.com/l/polar_cl_abc',
  continueAction: '/l/polar_cl_abc/continue',
  ...over,
})

const decode = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))

/** The `content` of the meta tag with this `property` or `name`, decoded; undefined when absent. */
function meta(page: string, key: string): string | undefined {
  const tags = [...page.matchAll(/<meta (?:property|name)="([^"]+)" content="([^"]*)">/g)].filter((m) => m[1] === key)
  expect(tags.length, `${key} appears at most once`).toBeLessThanOrEqual(1)
  return tags[0] ? decode(tags[0][2]!) : undefined
}
const headOf = (page: string) => page.slice(0, page.indexOf('</head>'))
const bodyOf = (page: string) => page.slice(page.indexOf('<body'))

const base = { id: '00000000-0000-7000-8000-000000000001', created_at: '2026-01-01T00:00:00Z', modified_at: null, source: 'catalog', tax_behavior: null, is_archived: false, product_id: '00000000-0000-7000-8000-000000000002' } as const
const fixed = (amount: number, currency = 'eur'): ProductPrice => ({ ...base, price_currency: currency, amount_type: 'fixed', price_amount: amount })
const custom = (min: number, currency = 'usd'): ProductPrice => ({ ...base, price_currency: currency, amount_type: 'custom', minimum_amount: min, maximum_amount: null, preset_amount: null })
const oneTime = { recurring_interval: null, recurring_interval_count: null }
const every = (interval: 'day' | 'week' | 'month' | 'year', count = 1) => ({ recurring_interval: interval, recurring_interval_count: count })

describe('renderPreview: the head', () => {
  it('has the title, description, Open Graph and Twitter tags, and noindex', () => {
    const page = renderPreview(ctx('en'), data())
    const head = headOf(page)
    expect(head).toContain('<title>Pro plan · Acme</title>')
    expect(head).toMatch(/<meta name="robots" content="noindex[^"]*">/)
    expect(meta(head, 'description')).toBe('Everything in Free, and more.')
    expect(meta(head, 'og:type')).toBe('product')
    expect(meta(head, 'og:title')).toBe('Pro plan')
    expect(meta(head, 'og:description')).toBe('Everything in Free, and more.')
    expect(meta(head, 'og:site_name')).toBe('Acme')
    expect(meta(head, 'og:url')).toBe('https://pay.example.com/l/polar_cl_abc')
    expect(meta(head, 'og:locale')).toBe('en_US')
    expect(meta(head, 'og:image')).toBeUndefined()
    expect(meta(head, 'twitter:card')).toBe('summary')
    expect(meta(head, 'twitter:title')).toBe('Pro plan')
    expect(meta(head, 'twitter:description')).toBe('Everything in Free, and more.')
    expect(meta(head, 'twitter:image')).toBeUndefined()
    // Previewers that read only the first bytes find the tags before the inline CSS.
    expect(head.indexOf('og:title')).toBeLessThan(head.indexOf('<style'))
  })

  it('with an image: og:image, twitter:image and the large card; a non-http(s) image is left out', () => {
    const head = headOf(renderPreview(ctx('en'), data({ imageUrl: 'https://cdn.example.com/pro.png' })))
    expect(meta(head, 'og:image')).toBe('https://cdn.example.com/pro.png')
    expect(meta(head, 'twitter:image')).toBe('https://cdn.example.com/pro.png')
    expect(meta(head, 'twitter:card')).toBe('summary_large_image')
    for (const imageUrl of ['javascript:alert(1)', 'data:image/png;base64,AAAA', '//cdn.example.com/x.png', 'https://', null]) {
      const other = headOf(renderPreview(ctx('en'), data({ imageUrl })))
      expect(meta(other, 'og:image'), String(imageUrl)).toBeUndefined()
      expect(meta(other, 'twitter:card')).toBe('summary')
    }
  })

  it('without a description, describes the price and the seller in the buyer’s language', () => {
    expect(meta(renderPreview(ctx('en'), data({ description: null, priceLabel: '€9 / mo' })), 'og:description')).toBe('€9 / mo · Sold by Acme')
    expect(meta(renderPreview(ctx('en'), data({ description: '   ', priceLabel: null })), 'description')).toBe('Sold by Acme')
    expect(meta(renderPreview(ctx('de'), data({ description: null })), 'og:description')).toBe('€12 · Verkauft von Acme')
    expect(meta(renderPreview(ctx('ja'), data({ description: null })), 'twitter:description')).toBe('€12 · 販売元: Acme')
    expect(meta(renderPreview(ctx('ja'), data({ description: null, priceLabel: null })), 'og:description')).toBe('販売元: Acme')
  })

  it.each([
    ['en', 'en_US'],
    ['de', 'de_DE'],
    ['ja', 'ja_JP'],
    ['pt-BR', 'pt_BR'],
    ['pt-PT', 'pt_PT'],
    ['ko', 'ko_KR'],
    ['sv', 'sv_SE'],
  ] as const)('og:locale for %s is %s', (locale, og) => {
    const page = renderPreview(ctx(locale), data())
    expect(meta(page, 'og:locale')).toBe(og)
    expect(page).toContain(`<html lang="${locale}"`)
  })

  it('cuts long descriptions in the tags to ~300 characters, between graphemes and never inside an entity; the card keeps them whole', () => {
    const long = `${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(10)}THE END`
    const page = renderPreview(ctx('en'), data({ description: long }))
    const d = meta(page, 'og:description')!
    expect(d.length).toBeLessThanOrEqual(META_DESCRIPTION_MAX)
    expect(d.length).toBeGreaterThan(META_DESCRIPTION_MAX * 0.8)
    expect(d.endsWith('…')).toBe(true)
    expect(d).not.toMatch(/\s…$/)
    expect(meta(page, 'twitter:description')).toBe(d)
    expect(meta(page, 'description')).toBe(d)
    expect(bodyOf(page)).toContain('THE END')

    const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
    for (const s of ['😀'.repeat(400), `x${'👩‍👩‍👧‍👦'.repeat(100)}`, '🇩🇪'.repeat(300), 'é'.repeat(400)]) {
      const cut = metaText(s, META_DESCRIPTION_MAX)
      expect(cut.length).toBeLessThanOrEqual(META_DESCRIPTION_MAX)
      expect(cut).not.toMatch(lone)
      expect(cut.endsWith('…')).toBe(true)
      // Only whole graphemes of the original before the ellipsis.
      const segs = [...new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(cut.slice(0, -1))].map((x) => x.segment)
      expect(s.startsWith(segs.join(''))).toBe(true)
    }

    // Escaping comes after the cut: the raw attribute holds only whole entities.
    const amp = renderPreview(ctx('en'), data({ description: '&<"'.repeat(200) }))
    const rawContent = /<meta property="og:description" content="([^"]*)">/.exec(amp)![1]!
    expect(rawContent).toMatch(/^(?:[^&<>"]|&#\d+;)*$/)
    expect(decode(rawContent).length).toBeLessThanOrEqual(META_DESCRIPTION_MAX)
  })

  it('collapses whitespace and drops control characters in the tags', () => {
    const page = renderPreview(ctx('en'), data({ description: 'Line one\n\n\tLine\u0000 two\r\n', productName: 'Pro\nplan' }))
    expect(meta(page, 'og:description')).toBe('Line one Line two')
    expect(meta(page, 'og:title')).toBe('Pro plan')
  })
})

describe('renderPreview: hostile input', () => {
  const hostile = [
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    '" property="og:image" content="https://evil.example/x.png',
    '</title><script>alert(1)</script>',
    '`${alert(1)}`&amp;&#34;',
  ]

  it.each(hostile)('is escaped in every attribute and text: %s', (evil) => {
    const page = renderPreview(ctx('en'), {
      organizationName: evil,
      productName: evil,
      description: evil,
      priceLabel: evil,
      imageUrl: `https://cdn.example.com/${evil}`,
      url: `https://pay.example.com/l/${evil}`,
      continueAction: `/l/x?${evil}`,
    })
    expect(page).not.toContain('<script')
    expect(page).not.toContain('<img')
    // No tag gains an event handler attribute (quoted values emptied first: they may hold the escaped text).
    expect(page.replace(/"[^"]*"/g, '""')).not.toMatch(/<[a-z][^>]*\son\w+=/i)
    // Every meta tag is exactly one name and one quoted content, nothing smuggled in beside them.
    const metas = headOf(page).match(/<meta [^>]*>/g)!
    for (const tag of metas) expect(tag).toMatch(/^<meta (?:charset="utf-8"|(?:name|property|http-equiv)="[\w:-]+" content="[^"<>`']*")>$/)
    expect(metas.filter((m) => m.includes('og:image"'))).toHaveLength(1)
    expect(meta(page, 'og:title')).toBe(metaText(evil, 200))
    expect(meta(page, 'og:site_name')).toBe(metaText(evil, 200))
    expect(meta(page, 'og:description')).toBe(metaText(evil, 300))
    expect(meta(page, 'og:url')).toBe(`https://pay.example.com/l/${evil}`)
    const title = /<title>([^<]*)<\/title>/.exec(page)![1]!
    expect(decode(title)).toBe(`${evil} · ${evil}`)
    const action = /<form method="post" action="([^"]*)" class="go">/.exec(page)![1]!
    expect(decode(action)).toBe(`/l/x?${evil}`)
    expect(decode(/<h1 id="k-product-name">([^<]*)<\/h1>/.exec(page)![1]!)).toBe(evil)
    expect(decode(/<p class="org">([^<]*)<\/p>/.exec(page)![1]!)).toBe(evil)
  })

  it('a placeholder in a name is not filled twice', () => {
    const page = renderPreview(ctx('en'), data({ description: null, organizationName: '{price}', priceLabel: '{organization}' }))
    expect(meta(page, 'og:description')).toBe('{organization} · Sold by {price}')
  })
})

describe('renderPreview: the body', () => {
  it('shows the organization, product, price, description and a continue form that posts, without script', () => {
    const page = renderPreview(ctx('en'), data({ continueAction: '/l/polar_cl_abc/continue?theme=dark&embed=false' }))
    const body = bodyOf(page)
    expect(body).toContain('<p class="org">Acme</p>')
    expect(body).toContain('<h1 id="k-product-name">Pro plan</h1>')
    expect(body).toContain('<p class="price">€12</p>')
    expect(body).toContain('<p class="desc">Everything in Free, and more.</p>')
    const form = /<form method="post" action="([^"]*)" class="go">(.*?)<\/form>/.exec(body)!
    expect(decode(form[1]!)).toBe('/l/polar_cl_abc/continue?theme=dark&embed=false')
    expect(form[2]).toContain('<input type="hidden" name="locale" value="en">')
    expect(form[2]).toContain('<button type="submit" class="pay">Continue to checkout</button>')
    expect(page).not.toContain('<script')
    expect(page).toContain('<style nonce="test-nonce">')
  })

  it('leaves out the price and description when there are none', () => {
    const body = bodyOf(renderPreview(ctx('en'), data({ description: null, priceLabel: null })))
    expect(body).not.toContain('class="price"')
    expect(body).not.toContain('class="desc"')
    expect(body).toContain('Continue to checkout')
  })

  it.each([
    ['de', 'Weiter zur Kasse'],
    ['ja', '購入手続きへ進む'],
    ['fr', 'Continuer vers le paiement'],
  ] as const)('the button speaks %s', (locale, label) => {
    const page = renderPreview(ctx(locale), data())
    expect(page).toContain(`<button type="submit" class="pay">${label}</button>`)
    expect(page).toContain(`<input type="hidden" name="locale" value="${locale}">`)
  })
})

describe('previewPriceLabel', () => {
  it.each([
    ['fixed, whole', 'en', fixed(1200), oneTime, '€12'],
    ['fixed, with cents', 'en', fixed(1250, 'usd'), oneTime, '$12.50'],
    ['fixed, zero-decimal currency', 'ja', fixed(1200, 'jpy'), oneTime, formatMoney(1200, 'jpy', 'ja')],
    ['fixed, de', 'de', fixed(1250), oneTime, formatMoney(1250, 'eur', 'de')],
    ['monthly', 'en', fixed(900, 'usd'), every('month'), '$9 / mo'],
    ['yearly', 'en', fixed(9900, 'usd'), every('year'), '$99 / yr'],
    ['every 3 months', 'en', fixed(2500, 'usd'), every('month', 3), '$25 / 3 months'],
    ['monthly, de', 'de', fixed(900), every('month'), `${formatMoney(900, 'eur', 'de')} / Mon.`],
    ['weekly, ja', 'ja', fixed(500, 'jpy'), every('week'), `${formatMoney(500, 'jpy', 'ja')} ${t('ja', 'per_week')}`],
    ['free', 'en', fixed(0), oneTime, 'Free'],
    ['free, recurring', 'en', fixed(0), every('month'), 'Free'],
    ['free, de', 'de', fixed(0), oneTime, 'Kostenlos'],
    ['free, ja', 'ja', fixed(0), oneTime, '無料'],
    ['pay what you want, with a minimum', 'en', custom(500), oneTime, 'Pay what you want, from $5'],
    ['pay what you want, no minimum', 'en', custom(0), oneTime, 'Pay what you want'],
    ['pay what you want, monthly', 'en', custom(300), every('month'), 'Pay what you want, from $3 / mo'],
    ['pay what you want, de', 'de', custom(500, 'eur'), oneTime, `Preis frei wählbar, ab ${formatMoney(500, 'eur', 'de')}`],
    ['pay what you want, ja', 'ja', custom(500, 'jpy'), oneTime, `任意の金額（${formatMoney(500, 'jpy', 'ja')}から）`],
  ] as const)('%s', (_, locale, price, product, expected) => {
    expect(previewPriceLabel(locale, price, product)).toBe(expected)
  })

  it('is null without a price', () => {
    expect(previewPriceLabel('en', null, oneTime)).toBeNull()
    expect(previewPriceLabel('en', undefined, every('month'))).toBeNull()
  })
})

describe('renderVisitsLimited', () => {
  it.each([
    [1, 'in 1 second'],
    [30, 'in 30 seconds'],
    [29.2, 'in 30 seconds'],
    [119, 'in 119 seconds'],
    [120, 'in 2 minutes'],
    [121, 'in 3 minutes'],
    [3600, 'in 60 minutes'],
    [7200, 'in 2 hours'],
    [0, 'in 1 second'],
    [-5, 'in 1 second'],
    [Number.NaN, 'in 60 seconds'],
  ])('%s s: %s', (seconds, when) => {
    expect(retryIn('en', seconds)).toBe(when)
  })

  it('en: a message page with the wait, and the organization when known', () => {
    const page = renderVisitsLimited(ctx('en'), 45, 'Acme')
    expect(page).toContain('<title>Too many visits</title>')
    expect(page).toContain('<h1>Too many visits</h1>')
    expect(page).toContain('<p>This link was opened too many times from your network. Try again in 45 seconds.</p>')
    expect(page).toContain('<p class="org">Acme</p>')
    expect(page).not.toContain('<script')
    expect(renderVisitsLimited(ctx('en'), 45)).not.toContain('class="org"')
  })

  it('de: seconds and minutes', () => {
    expect(renderVisitsLimited(ctx('de'), 90)).toContain('<h1>Zu viele Aufrufe</h1>')
    expect(renderVisitsLimited(ctx('de'), 90)).toContain('Dieser Link wurde zu oft aus Ihrem Netzwerk geöffnet. Versuchen Sie es in 90 Sekunden erneut.')
    expect(renderVisitsLimited(ctx('de'), 300)).toContain('Versuchen Sie es in 5 Minuten erneut.')
    expect(renderVisitsLimited(ctx('de'), 1)).toContain('Versuchen Sie es in 1 Sekunde erneut.')
  })

  it('ja: seconds and minutes', () => {
    const page = renderVisitsLimited(ctx('ja'), 300, 'Acme')
    expect(page).toContain('<html lang="ja"')
    expect(page).toContain('<h1>アクセスが多すぎます</h1>')
    expect(page).toContain(`${retryIn('ja', 300)}にもう一度お試しください。`)
    expect(retryIn('ja', 300)).toMatch(/^5\s?分後$/)
    expect(retryIn('ja', 30)).toMatch(/^30\s?秒後$/)
  })

  it('pl: the plural forms come from Intl', () => {
    expect(renderVisitsLimited(ctx('pl'), 120)).toContain('Spróbuj ponownie za 2 minuty.')
    expect(renderVisitsLimited(ctx('pl'), 300)).toContain('Spróbuj ponownie za 5 minut.')
  })

  it('escapes the organization name', () => {
    const page = renderVisitsLimited(ctx('en'), 30, '<script>alert(1)</script>')
    expect(page).not.toContain('<script')
    expect(page).toContain('<p class="org">&#60;script&#62;alert(1)&#60;/script&#62;</p>')
  })
})
