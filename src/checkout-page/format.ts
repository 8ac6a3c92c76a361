import type { Locale } from '../lib/locales'

const moneyFormats = new Map<string, Intl.NumberFormat>()

/** Money in minor units, formatted for the locale; whole amounts drop the cents ($10, not $10.00). */
export function formatMoney(amount: number, currency: string, locale: Locale, opts: { exact?: boolean } = {}): string {
  const cur = currency.toUpperCase()
  const digits = fractionDigits(cur)
  const whole = amount % 10 ** digits === 0 && !opts.exact
  const key = `${locale}|${cur}|${whole}`
  let f = moneyFormats.get(key)
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: 'currency', currency: cur, ...(whole ? { minimumFractionDigits: 0, maximumFractionDigits: 0 } : {}) })
    moneyFormats.set(key, f)
  }
  return f.format(amount / 10 ** digits)
}

const digitsCache = new Map<string, number>()
/** How many minor units a currency has (JPY 0, USD 2, …), as Intl knows it. */
export function fractionDigits(currency: string): number {
  let d = digitsCache.get(currency)
  if (d === undefined) {
    try {
      d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
    } catch {
      d = 2
    }
    digitsCache.set(currency, d)
  }
  return d
}

/** "12.50" or "12,50" typed by a buyer → minor units; undefined when not a number. */
export function parseMajorAmount(input: string, currency: string): number | undefined {
  // Spaces and currency signs are dropped ("$ 12.50"); anything else (letters, exponents) is not a number here.
  const s = input.length > 64 ? '' : input.replace(/[\s\p{Sc}]/gu, '')
  if (!/^\d+([.,]\d{1,3})?$/.test(s)) return undefined
  const n = Number(s.replace(',', '.'))
  const digits = fractionDigits(currency.toUpperCase())
  const minor = Math.round(n * 10 ** digits)
  return Number.isSafeInteger(minor) ? minor : undefined
}

export function toMajorInput(amount: number, currency: string): string {
  const digits = fractionDigits(currency.toUpperCase())
  return (amount / 10 ** digits).toFixed(digits)
}

export function formatDate(date: Date | string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(date))
}

/** ISO 3166-1 alpha-2 codes; names come from Intl.DisplayNames in the buyer's language. */
export const COUNTRIES =
  'AD AE AF AG AI AL AM AO AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GT GU GW GY HK HN HR HT HU ID IE IL IM IN IO IQ IS IT JE JM JO JP KE KG KH KI KM KN KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RW SA SB SC SE SG SH SI SK SL SM SN SO SR SS ST SV SX SZ TC TD TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW'.split(' ')

const countryLists = new Map<string, [string, string][]>()
export function countryOptions(locale: Locale): [string, string][] {
  let list = countryLists.get(locale)
  if (!list) {
    const names = new Intl.DisplayNames([locale], { type: 'region' })
    list = COUNTRIES.map((c): [string, string] => [c, names.of(c) ?? c]).sort((a, b) => a[1].localeCompare(b[1], locale))
    countryLists.set(locale, list)
  }
  return list
}
