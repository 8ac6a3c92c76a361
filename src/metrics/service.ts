import type { AuthContext } from '../auth/types'
import type { Deps } from '../deps'
import { RequestValidationError } from '../http/errors'
import * as repo from './repository'
import { MAX_INTERVAL_DAYS, METRICS, MIN_DATE, MIN_INTERVAL_DAYS, TimeInterval, type Family, type MetricDef, type MetricsQuery, type MetricsResponse } from './schemas'

const BY_SLUG = new Map(METRICS.map((d) => [d.slug, d]))

const QUERIES: Record<Exclude<Family, 'meta'>, (db: Deps['db'], w: repo.Window, f: repo.Filters) => Promise<repo.Row[]>> = {
  checkouts: repo.checkouts,
  orders: repo.orders,
  new_subscriptions: repo.newSubscriptions,
  cancellations: repo.cancellations,
  active_subscriptions: repo.activeSubscriptions,
  churn_rate: repo.churnRate,
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

const days = (start: string, end: string) => Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000)

/** Polar's kit/time_queries.py `is_under_limits`: only the maximum is enforced (the minimum is advice for charts). */
export const isUnderLimits = (start: string, end: string, interval: TimeInterval) => start <= end && days(start, end) <= MAX_INTERVAL_DAYS[interval]

/** `2026-01-15T00:00:00-08:00`: the period's start in the caller's zone, as Polar writes it. */
function withOffset(local: string, instant: Date): string {
  const minutes = Math.round((Date.parse(`${local}Z`) - instant.getTime()) / 60_000)
  if (minutes === 0) return `${local}Z`
  const a = Math.abs(minutes)
  return `${local}${minutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`
}

function total(def: MetricDef, periods: Record<string, number>[]): number {
  if (def.total === 'sum') return periods.reduce((s, p) => s + (p[def.slug] ?? 0), 0)
  if (def.total === 'last') return periods.length ? (periods[periods.length - 1]![def.slug] ?? 0) : 0
  const [num, den] = def.deps!
  const d = periods.reduce((s, p) => s + (p[den] ?? 0), 0)
  return d > 0 ? periods.reduce((s, p) => s + (p[num] ?? 0), 0) / d : 0
}

export function metricsLimits() {
  const intervals = Object.fromEntries(TimeInterval.options.map((i) => [i, { min_days: MIN_INTERVAL_DAYS[i], max_days: MAX_INTERVAL_DAYS[i] }]))
  return { min_date: MIN_DATE, intervals: intervals as Record<TimeInterval, { min_days: number; max_days: number }> }
}

export async function getMetrics(deps: Pick<Deps, 'db'>, auth: AuthContext, q: MetricsQuery): Promise<MetricsResponse> {
  if (q.metrics) {
    const invalid = [...new Set(q.metrics.filter((s) => !BY_SLUG.has(s)))].sort()
    if (invalid.length) throw new RequestValidationError([{ loc: ['query', 'metrics'], msg: `Invalid metric slugs: ${invalid.join(', ')}`, type: 'value_error', input: q.metrics }])
  }
  if (!isTimeZone(q.timezone)) {
    throw new RequestValidationError([{ loc: ['query', 'timezone'], msg: 'Invalid timezone name.', type: 'TimeZoneName', input: q.timezone }], 'schema')
  }
  if (!isUnderLimits(q.start_date, q.end_date, q.interval)) {
    throw new RequestValidationError([
      { loc: ['query'], msg: 'The interval is too small for the given date range. Use a larger interval or reduce the date range.', type: 'value_error', input: [q.start_date, q.end_date, q.interval] },
    ])
  }
  const wanted = q.metrics ? METRICS.filter((d) => q.metrics!.includes(d.slug)) : [...METRICS]
  // A derived slug needs its inputs: they are computed, not returned.
  const needed = new Set(wanted.flatMap((d) => [d.slug, ...(d.deps ?? [])]))
  const families = new Set([...needed].map((s) => BY_SLUG.get(s)!.family).filter((f): f is Exclude<Family, 'meta'> => f !== 'meta'))

  const window: repo.Window = { organizationId: auth.organizationId, unit: q.interval, tz: q.timezone, startLocal: `${q.start_date} 00:00:00`, endLocal: `${q.end_date} 23:59:59.999999` }
  const filters: repo.Filters = { organizationIds: q.organization_id, productIds: q.product_id, customerIds: q.customer_id, billingTypes: q.billing_type }
  let results: repo.Row[][]
  try {
    results = await Promise.all([...families].map((f) => QUERIES[f](deps.db, window, filters)))
  } catch (err) {
    // A zone the runtime knows but the database does not.
    if ((err as { code?: string }).code === '22023') throw new RequestValidationError([{ loc: ['query', 'timezone'], msg: 'Invalid timezone name.', type: 'TimeZoneName', input: q.timezone }], 'schema')
    throw err
  }
  const base = results[0] ?? (await repo.cancellations(deps.db, window, filters))
  const values: Record<string, number>[] = base.map((_, i) => Object.assign({}, ...results.map((rows) => rows[i])) as Record<string, number>)
  for (const v of values) {
    const checkouts = v.checkouts ?? 0
    if (needed.has('checkouts_conversion')) v.checkouts_conversion = checkouts > 0 ? (v.succeeded_checkouts ?? 0) / checkouts : 0
  }
  return {
    periods: base.map((row, i) => ({ timestamp: withOffset(row.local, row.ts), ...Object.fromEntries(wanted.map((d) => [d.slug, values[i]![d.slug] ?? 0])) })),
    totals: Object.fromEntries(wanted.map((d) => [d.slug, total(d, values)])),
    metrics: Object.fromEntries(wanted.map((d) => [d.slug, { slug: d.slug, display_name: d.display_name, type: d.type }])),
  }
}
