import { COUNTRIES } from '../lib/countries'
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

/**
 * "12.50" or "12,50" typed by a buyer → minor units; undefined when it is not an amount of this currency.
 * The decimal part may have at most the currency's minor digits (two for USD, none for JPY), so "5,000"
 * (a thousands separator) or "5.999" is refused rather than read as $5.00 or rounded to $6.00.
 */
export function parseMajorAmount(input: string, currency: string): number | undefined {
  // Spaces and currency signs are dropped ("$ 12.50"); anything else (letters, exponents) is not a number here.
  const s = input.length > 64 ? '' : input.replace(/[\s\p{Sc}]/gu, '')
  const digits = fractionDigits(currency.toUpperCase())
  const m = /^(\d+)(?:[.,](\d+))?$/.exec(s)
  if (!m || (m[2] !== undefined && (digits === 0 || m[2].length > digits))) return undefined
  const minor = Number(m[1]) * 10 ** digits + Number((m[2] ?? '').padEnd(digits, '0') || 0)
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
export { COUNTRIES }

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
