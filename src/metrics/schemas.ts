import { z } from 'zod'
import { stringList, Uuid } from '../http/schemas'
import { ProductBillingType } from '../orders/schemas'

// Polar's server/polar/metrics/schemas.py and kit/time_queries.py.

export const TimeInterval = z.enum(['year', 'month', 'week', 'day', 'hour'])
export type TimeInterval = z.infer<typeof TimeInterval>

export const MetricType = z.enum(['scalar', 'currency', 'currency_sub_cent', 'percentage'])
export type MetricType = z.infer<typeof MetricType>

/** Polar's MIN_DATE ("before that, Polar didn't even exist"), kept so the answer is the same. */
export const MIN_DATE = '2023-01-01'
export const MAX_INTERVAL_DAYS: Record<TimeInterval, number> = { hour: 7, day: 366, week: 7 * 53, month: 365 * 4, year: 365 * 10 }
export const MIN_INTERVAL_DAYS: Record<TimeInterval, number> = { hour: 0, day: 0, week: 14, month: 60, year: 366 }

/** The query each slug comes from (one SQL query per family), and how its total is made (Polar's get_cumulative). */
export type Family = 'checkouts' | 'orders' | 'new_subscriptions' | 'cancellations' | 'active_subscriptions' | 'churn_rate' | 'meta'
export type Total = 'sum' | 'last' | 'ratio'
export interface MetricDef {
  slug: string
  display_name: string
  type: MetricType
  family: Family
  total: Total
  /** For `meta` slugs and ratio totals: [numerator, denominator]. */
  deps?: [string, string]
}

const m = (slug: string, display_name: string, type: MetricType, family: Family, total: Total, deps?: [string, string]): MetricDef => ({ slug, display_name, type, family, total, deps })

/** Polar's METRICS order (metrics.py), restricted to the slugs Kassa computes. */
export const METRICS: readonly MetricDef[] = [
  m('active_subscriptions', 'Active Subscriptions', 'scalar', 'active_subscriptions', 'last'),
  m('monthly_recurring_revenue', 'Monthly Recurring Revenue', 'currency', 'active_subscriptions', 'last'),
  m('checkouts', 'Checkouts', 'scalar', 'checkouts', 'sum'),
  m('succeeded_checkouts', 'Succeeded Checkouts', 'scalar', 'checkouts', 'sum'),
  m('churn_rate', 'Churn Rate', 'percentage', 'churn_rate', 'last'),
  m('orders', 'Orders', 'scalar', 'orders', 'sum'),
  m('revenue', 'Revenue', 'currency', 'orders', 'sum'),
  m('net_revenue', 'Net Revenue', 'currency', 'orders', 'sum'),
  m('cumulative_revenue', 'Cumulative Revenue', 'currency', 'orders', 'last'),
  m('average_order_value', 'Average Order Value', 'currency', 'orders', 'ratio', ['revenue', 'orders']),
  m('one_time_products', 'One-Time Products', 'scalar', 'orders', 'sum'),
  m('one_time_products_revenue', 'One-Time Products Revenue', 'currency', 'orders', 'sum'),
  m('new_subscriptions', 'New Subscriptions', 'scalar', 'new_subscriptions', 'sum'),
  m('new_subscriptions_revenue', 'New Subscriptions Revenue', 'currency', 'orders', 'sum'),
  m('renewed_subscriptions', 'Renewed Subscriptions', 'scalar', 'orders', 'sum'),
  m('renewed_subscriptions_revenue', 'Renewed Subscriptions Revenue', 'currency', 'orders', 'sum'),
  m('canceled_subscriptions', 'Canceled Subscriptions', 'scalar', 'cancellations', 'sum'),
  m('checkouts_conversion', 'Checkouts Conversion Rate', 'percentage', 'meta', 'ratio', ['succeeded_checkouts', 'checkouts']),
]
export const METRIC_SLUGS = METRICS.map((d) => d.slug)

export const MetricsQuery = z.object({
  start_date: z.iso.date().describe('Start date.'),
  end_date: z.iso.date().describe('End date.'),
  timezone: z.string().max(64).default('UTC').describe('Timezone to use for the timestamps (an IANA name). Default is UTC.'),
  interval: TimeInterval.describe('Interval between two timestamps.'),
  organization_id: stringList(Uuid).optional().describe('Filter by organization ID.'),
  product_id: stringList(Uuid).optional().describe('Filter by product ID.'),
  billing_type: stringList(ProductBillingType)
    .optional()
    .describe('Filter by billing type. `recurring` will filter data corresponding to subscriptions creations or renewals. `one_time` will filter data corresponding to one-time purchases.'),
  customer_id: stringList(Uuid).optional().describe('Filter by customer ID.'),
  metrics: stringList(z.string().max(100))
    .optional()
    .describe('List of metric slugs to focus on. When provided, only the queries needed for these metrics will be executed. If not provided, all metrics are returned.'),
})
export type MetricsQuery = z.infer<typeof MetricsQuery>

const Metric = z.object({
  slug: z.string().describe('Unique identifier for the metric.'),
  display_name: z.string().describe('Human-readable name for the metric.'),
  type: MetricType.describe('Type of the metric, useful to know the unit or format of the value.'),
})
const values = Object.fromEntries(METRIC_SLUGS.map((s) => [s, z.number().nullable().optional()]))

export const MetricsResponse = z.object({
  periods: z.array(z.object({ timestamp: z.string().describe('Timestamp of this period data.'), ...values })).describe('List of data for each timestamp.'),
  totals: z.object(values).describe('Totals for the whole selected period.'),
  metrics: z.object(Object.fromEntries(METRIC_SLUGS.map((s) => [s, Metric.optional()]))).describe('Information about the returned metrics.'),
})
export type MetricsResponse = z.infer<typeof MetricsResponse>

const Limit = z.object({ min_days: z.number().int(), max_days: z.number().int() })
export const MetricsLimits = z.object({
  min_date: z.string().describe('Minimum date to get metrics.'),
  intervals: z.object({ hour: Limit, day: Limit, week: Limit, month: Limit, year: Limit }).describe('Limits for each interval.'),
})
