import { sql, type RawBuilder } from 'kysely'
import type { Executor } from '../db/index'
import type { TimeInterval } from './schemas'

/**
 * One SQL query per family of slugs (Polar's server/polar/metrics/queries.py and its Tinybird pipes), each over
 * `generate_series` of the periods in the caller's time zone: a period is a local timestamp (`p`, without zone),
 * an event falls in the period its local time truncates to, and `p at time zone tz` is the period's instant.
 * Plain SQL that PGlite and PostgreSQL both run.
 */
export interface Window {
  organizationId: string
  unit: TimeInterval
  tz: string
  /** Local bounds: the start date's midnight and the end date's last microsecond. */
  startLocal: string
  endLocal: string
}

export interface Filters {
  organizationIds?: string[]
  productIds?: string[]
  customerIds?: string[]
  billingTypes?: ('one_time' | 'recurring')[]
}

export type Row = { local: string; ts: Date } & Record<string, number>
type Raw = RawBuilder<unknown>

const periodsCte = (w: Window): Raw =>
  sql`periods as (select p from generate_series(date_trunc(${sql.lit(w.unit)}, ${w.startLocal}::timestamp), ${w.endLocal}::timestamp, ${sql.lit(`1 ${w.unit}`)}::interval) as g(p))`
const startTz = (w: Window): Raw => sql`(${w.startLocal}::timestamp at time zone ${w.tz})`
const endTz = (w: Window): Raw => sql`(${w.endLocal}::timestamp at time zone ${w.tz})`
/** The local period a timestamptz falls in. */
const bucket = (w: Window, col: Raw): Raw => sql`date_trunc(${sql.lit(w.unit)}, ${col} at time zone ${w.tz})`
const periodColumns = (w: Window): Raw => sql`to_char(periods.p, 'YYYY-MM-DD"T"HH24:MI:SS') as local, (periods.p at time zone ${w.tz}) as ts`

const inList = (col: Raw, ids: string[]): Raw => (ids.length === 0 ? sql`false` : sql`${col} in (${sql.join(ids)})`)

function billingCondition(types: Filters['billingTypes'], product: Raw): Raw | null {
  if (!types || types.length === 0 || (types.includes('one_time') && types.includes('recurring'))) return null
  return types[0] === 'one_time' ? sql`${product}.recurring_interval is null` : sql`${product}.recurring_interval is not null`
}

/** Filters of a row with one product (orders, subscriptions): Polar's `_get_readable_orders_statement`. */
function rowFilters(alias: string, w: Window, f: Filters): Raw {
  const t = sql.ref(alias)
  const parts: Raw[] = [sql`${t}.organization_id = ${w.organizationId}`]
  if (f.organizationIds) parts.push(inList(sql`${t}.organization_id`, f.organizationIds))
  if (f.productIds) parts.push(inList(sql`${t}.product_id`, f.productIds))
  if (f.customerIds) parts.push(inList(sql`${t}.customer_id`, f.customerIds))
  const billing = billingCondition(f.billingTypes, sql`bp`)
  if (billing) parts.push(sql`exists (select 1 from products bp where bp.id = ${t}.product_id and ${billing})`)
  return sql.join(parts, sql` and `)
}

/** Filters of a checkout session, whose products are a list: Polar joins CheckoutProduct (any of them matches). */
function checkoutFilters(w: Window, f: Filters): Raw {
  const parts: Raw[] = [sql`c.organization_id = ${w.organizationId}`]
  if (f.organizationIds) parts.push(inList(sql`c.organization_id`, f.organizationIds))
  if (f.customerIds) parts.push(inList(sql`c.customer_id`, f.customerIds))
  const billing = billingCondition(f.billingTypes, sql`cp`)
  if (f.productIds || billing) {
    const conds: Raw[] = [sql`cp.id = any(c.product_ids)`]
    if (f.productIds) conds.push(inList(sql`cp.id`, f.productIds))
    if (billing) conds.push(billing)
    parts.push(sql`exists (select 1 from products cp where ${sql.join(conds, sql` and `)})`)
  }
  return sql.join(parts, sql` and `)
}

async function run(db: Executor, query: Raw): Promise<Row[]> {
  const { rows } = await query.execute(db)
  return (rows as Record<string, unknown>[]).map((r) => {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(r)) out[k] = k === 'local' ? v : k === 'ts' ? new Date(v as string | Date) : Number(v)
    return out as Row
  })
}

/** `checkouts`, `succeeded_checkouts` (Polar's get_checkouts_cte; sessions counted by `created_at`). */
export function checkouts(db: Executor, w: Window, f: Filters): Promise<Row[]> {
  return run(db, sql`with ${periodsCte(w)},
    x as (
      select ${bucket(w, sql`c.created_at`)} as b, count(*) as n, count(*) filter (where c.status = 'succeeded') as s
      from checkouts c
      where ${checkoutFilters(w, f)} and c.created_at >= ${startTz(w)} and c.created_at <= ${endTz(w)}
      group by 1
    )
    select ${periodColumns(w)}, coalesce(x.n, 0)::float8 as checkouts, coalesce(x.s, 0)::float8 as succeeded_checkouts
    from periods left join x on x.b = periods.p order by periods.p`)
}

/**
 * The paid orders' slugs (Polar's metrics_events.pipe): an order counts in the period of its `created_at` when
 * it is paid (`paid`, `partially_refunded` or `refunded`); revenue is its `net_amount` (after discounts, before
 * tax), net revenue takes the refunded amount off. A subscription's order is "new" when the subscription
 * started in the same period, "renewed" otherwise. Orders before the start date seed the cumulative revenue.
 */
export function orders(db: Executor, w: Window, f: Filters): Promise<Row[]> {
  const isNew = sql`x.subscription_id is not null and ${bucket(w, sql`x.started_at`)} = x.b`
  const isRenewal = sql`x.subscription_id is not null and ${bucket(w, sql`x.started_at`)} <> x.b`
  return run(db, sql`with ${periodsCte(w)},
    x as (
      select ${bucket(w, sql`o.created_at`)} as b, o.created_at >= ${startTz(w)} as in_range,
        o.net_amount as revenue, o.net_amount - o.refunded_amount as net, o.subscription_id, s.started_at
      from orders o left join subscriptions s on s.id = o.subscription_id
      where ${rowFilters('o', w, f)} and o.status in ('paid', 'partially_refunded', 'refunded') and o.created_at <= ${endTz(w)}
    ),
    agg as (
      select x.b, count(*) as orders, sum(x.revenue) as revenue, sum(x.net) as net_revenue,
        ceil(sum(x.revenue)::numeric / count(*)) as average_order_value,
        count(*) filter (where x.subscription_id is null) as one_time_products,
        coalesce(sum(x.revenue) filter (where x.subscription_id is null), 0) as one_time_products_revenue,
        coalesce(sum(x.revenue) filter (where ${isNew}), 0) as new_subscriptions_revenue,
        count(distinct x.subscription_id) filter (where ${isRenewal}) as renewed_subscriptions,
        coalesce(sum(x.revenue) filter (where ${isRenewal}), 0) as renewed_subscriptions_revenue
      from x where x.in_range group by x.b
    ),
    hist as (select coalesce(sum(x.revenue), 0) as revenue from x where not x.in_range)
    select ${periodColumns(w)},
      coalesce(agg.orders, 0)::float8 as orders, coalesce(agg.revenue, 0)::float8 as revenue,
      coalesce(agg.net_revenue, 0)::float8 as net_revenue,
      (sum(coalesce(agg.revenue, 0)) over (order by periods.p) + hist.revenue)::float8 as cumulative_revenue,
      coalesce(agg.average_order_value, 0)::float8 as average_order_value,
      coalesce(agg.one_time_products, 0)::float8 as one_time_products,
      coalesce(agg.one_time_products_revenue, 0)::float8 as one_time_products_revenue,
      coalesce(agg.new_subscriptions_revenue, 0)::float8 as new_subscriptions_revenue,
      coalesce(agg.renewed_subscriptions, 0)::float8 as renewed_subscriptions,
      coalesce(agg.renewed_subscriptions_revenue, 0)::float8 as renewed_subscriptions_revenue
    from periods cross join hist left join agg on agg.b = periods.p order by periods.p`)
}

const live = (alias: string): Raw => sql`${sql.ref(alias)}.status not in ('incomplete', 'incomplete_expired')`
const endOf = (alias: string): Raw => sql`coalesce(${sql.ref(`${alias}.ended_at`)}, ${sql.ref(`${alias}.ends_at`)})`

/**
 * `new_subscriptions` (Polar's sub_created_daily): subscriptions created in the period, unless they end in that
 * same period.
 */
export function newSubscriptions(db: Executor, w: Window, f: Filters): Promise<Row[]> {
  return run(db, sql`with ${periodsCte(w)},
    x as (
      select ${bucket(w, sql`s.created_at`)} as b, count(distinct s.id) as n
      from subscriptions s
      where ${rowFilters('s', w, f)} and ${live('s')} and s.created_at >= ${startTz(w)} and s.created_at <= ${endTz(w)}
        and (${endOf('s')} is null or ${bucket(w, endOf('s'))} > ${bucket(w, sql`s.created_at`)})
      group by 1
    )
    select ${periodColumns(w)}, coalesce(x.n, 0)::float8 as new_subscriptions
    from periods left join x on x.b = periods.p order by periods.p`)
}

/** `canceled_subscriptions` (Polar's metrics_cancellations.pipe): cancellations by `canceled_at`. */
export function cancellations(db: Executor, w: Window, f: Filters): Promise<Row[]> {
  return run(db, sql`with ${periodsCte(w)},
    x as (
      select ${bucket(w, sql`s.canceled_at`)} as b, count(*) as n
      from subscriptions s
      where ${rowFilters('s', w, f)} and s.canceled_at >= ${startTz(w)} and s.canceled_at <= ${endTz(w)}
      group by 1
    )
    select ${periodColumns(w)}, coalesce(x.n, 0)::float8 as canceled_subscriptions
    from periods left join x on x.b = periods.p order by periods.p`)
}

/**
 * `active_subscriptions`, `monthly_recurring_revenue` (Polar's get_active_subscriptions_cte): a subscription is
 * active in every period from the one it started in to the one before it ends (`ended_at`, else `ends_at`); its
 * monthly amount is its amount spread over its interval, left out while the trial lasts past the period.
 */
export function activeSubscriptions(db: Executor, w: Window, f: Filters): Promise<Row[]> {
  const step = sql.lit(`1 ${w.unit}`)
  return run(db, sql`with ${periodsCte(w)},
    s as (
      select s.id, s.started_at, s.trial_end, ${endOf('s')} as e,
        case s.recurring_interval
          when 'year' then round(s.amount::numeric / (12 * s.recurring_interval_count))
          when 'month' then round(s.amount::numeric / s.recurring_interval_count)
          when 'week' then round(s.amount::numeric * 52 / (12 * s.recurring_interval_count))
          when 'day' then round(s.amount::numeric * 365 / (12 * s.recurring_interval_count))
        end as monthly
      from subscriptions s
      where ${rowFilters('s', w, f)} and ${live('s')}
        and (s.started_at is null or s.started_at <= ${endTz(w)}) and (${endOf('s')} is null or ${endOf('s')} >= ${startTz(w)})
    )
    select ${periodColumns(w)}, count(s.id)::float8 as active_subscriptions,
      coalesce(sum(s.monthly) filter (where s.trial_end is null or s.trial_end < ((periods.p + ${step}::interval) at time zone ${w.tz})), 0)::float8 as monthly_recurring_revenue
    from periods left join s on (s.started_at is null or ${bucket(w, sql`s.started_at`)} <= periods.p) and (s.e is null or ${bucket(w, sql`s.e`)} > periods.p)
    group by periods.p order by periods.p`)
}

/**
 * `churn_rate` (Polar's get_churn_rate_cte): cancellations in the 30 days before the period's start over the
 * subscriptions active 30 days before it (for a year: the cancellations during the year over those active at its
 * start).
 */
export function churnRate(db: Executor, w: Window, f: Filters): Promise<Row[]> {
  const year = w.unit === 'year'
  const ws = year ? sql`(periods.p at time zone ${w.tz})` : sql`((periods.p - interval '30 days') at time zone ${w.tz})`
  const we = year ? sql`((periods.p + interval '1 year') at time zone ${w.tz})` : sql`(periods.p at time zone ${w.tz})`
  const activeAtStart = sql`(s.started_at is null or s.started_at <= ${ws}) and (s.e is null or s.e > ${ws})`
  const canceledIn = sql`(s.canceled_at is not null and s.canceled_at >= ${ws} and s.canceled_at < ${we})`
  return run(db, sql`with ${periodsCte(w)},
    s as (select s.id, s.started_at, s.canceled_at, ${endOf('s')} as e from subscriptions s where ${rowFilters('s', w, f)} and ${live('s')})
    select ${periodColumns(w)},
      case when count(s.id) filter (where ${activeAtStart}) > 0
        then (count(s.id) filter (where ${canceledIn}))::float8 / (count(s.id) filter (where ${activeAtStart}))::float8
        else 0 end as churn_rate
    from periods left join s on (${activeAtStart}) or ${canceledIn}
    group by periods.p order by periods.p`)
}
