import type { Interval, Price, ProductBase } from './types'

const locale = typeof navigator !== 'undefined' ? navigator.language : 'en'

/** Digits after the decimal point of a currency's minor unit (2 for usd, 0 for jpy). */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).resolvedOptions().maximumFractionDigits ?? 2
  } catch {
    return 2
  }
}

/** Integer minor units → "$12.00". */
export function money(amount: number, currency = 'usd'): string {
  const digits = currencyDigits(currency)
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: currency.toUpperCase() }).format(amount / 10 ** digits)
  } catch {
    return `${(amount / 10 ** digits).toFixed(digits)} ${currency.toUpperCase()}`
  }
}

/** "12.5" in a currency's major unit → 1250 minor units; null when not a number. */
export function toMinor(value: string, currency: string): number | null {
  const v = value.trim().replace(',', '.')
  if (!/^\d+(\.\d+)?$/.test(v)) return null
  return Math.round(Number(v) * 10 ** currencyDigits(currency))
}

export function fromMinor(amount: number | null | undefined, currency: string): string {
  if (amount == null) return ''
  const digits = currencyDigits(currency)
  return (amount / 10 ** digits).toFixed(digits)
}

export function date(iso: string | null | undefined): string {
  if (!iso) return '—'
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(new Date(iso))
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso))
}

const INTERVAL_ADVERB: Record<Interval, string> = { day: 'Daily', week: 'Weekly', month: 'Monthly', year: 'Yearly' }
const INTERVAL_SHORT: Record<Interval, string> = { day: 'day', week: 'wk', month: 'mo', year: 'yr' }

export function billing(p: Pick<ProductBase, 'recurring_interval' | 'recurring_interval_count'>): string {
  if (!p.recurring_interval) return 'One-time'
  const n = p.recurring_interval_count ?? 1
  return n === 1 ? INTERVAL_ADVERB[p.recurring_interval] : `Every ${n} ${p.recurring_interval}s`
}

export function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`
}

export function priceLabel(price: Price, product?: Pick<ProductBase, 'recurring_interval'>): string {
  const per = product?.recurring_interval ? ` / ${INTERVAL_SHORT[product.recurring_interval]}` : ''
  if (price.amount_type === 'custom') return `Pay what you want (min ${money(price.minimum_amount, price.price_currency)})`
  if (price.price_amount === 0) return 'Free'
  return `${money(price.price_amount, price.price_currency)}${per}`
}

export function productPrices(product: ProductBase & { prices: Price[] }): string {
  const live = product.prices.filter((p) => !p.is_archived)
  if (!live.length) return '—'
  return live.map((p) => priceLabel(p, product)).join(', ')
}

export function metadataEntries(m: Record<string, unknown> | null | undefined): [string, string][] {
  return Object.entries(m ?? {}).map(([k, v]) => [k, String(v)])
}

/** A `datetime-local` input's value (local time) ↔ ISO 8601 UTC. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}
export function fromLocalInput(value: string): string | null {
  if (!value) return null
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? null : d.toISOString()
}
