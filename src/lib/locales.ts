/** Polar's fourteen checkout locales. */
export const SUPPORTED_LOCALES = ['en', 'nl', 'fr', 'sv', 'es', 'de', 'hu', 'it', 'pt-BR', 'pt-PT', 'ko', 'ja', 'tr', 'pl'] as const
export type Locale = (typeof SUPPORTED_LOCALES)[number]

const byLower = new Map<string, Locale>(SUPPORTED_LOCALES.map((l) => [l.toLowerCase(), l]))
// A bare language picks the variant most of its speakers use.
const languageDefault: Record<string, Locale> = { pt: 'pt-BR' }

/** Best supported match for a BCP 47 tag: exact, then its language, else undefined. */
export function matchLocale(tag: string | null | undefined): Locale | undefined {
  if (!tag) return undefined
  const t = tag.trim().replace(/_/g, '-').toLowerCase()
  if (!/^[a-z]{2,3}(-[a-z0-9]{2,8})*$/.test(t)) return undefined
  const exact = byLower.get(t)
  if (exact) return exact
  const lang = t.split('-')[0]!
  const region = t.split('-')[1]
  if (lang === 'pt' && region) return region === 'br' ? 'pt-BR' : 'pt-PT'
  return languageDefault[lang] ?? byLower.get(lang)
}

/** The first supported language of an `Accept-Language` header, by quality. */
export function matchAcceptLanguage(header: string | undefined): Locale | undefined {
  if (!header) return undefined
  const ranked = header
    .split(',')
    .slice(0, 20)
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(';')
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean)
      return { tag: tag ?? '', q: q === undefined ? 1 : Number(q), i }
    })
    .filter((x) => x.tag && x.tag !== '*' && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i)
  for (const { tag } of ranked) {
    const m = matchLocale(tag)
    if (m) return m
  }
  return undefined
}
