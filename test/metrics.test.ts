import { Polar } from '@polar-sh/sdk'
import { RFCDate } from '@polar-sh/sdk/types/rfcdate.js'
import { describe, expect, it } from 'vitest'
import { checkoutJobHandlers, SETTLE_JOB } from '../src/checkouts/jobs'
import { runDueJobs } from '../src/jobs/worker'
import { CHARGE_RENEWAL_JOB, CYCLE_JOB, renewalJobHandlers, scheduleRenewals } from '../src/renewals/service'
import { createOrg, createTestApp, FixedClock, listen, tokenWithScopes, type TestOrg } from './helpers'

// Issue 13 part 1: Polar's metrics API over a known history, checked against numbers computed here from the rows.
describe('metrics', async () => {
  const clock = new FixedClock('2026-03-01T12:00:00Z')
  const ctx = await createTestApp({ isolated: true, clock })
  const org: TestOrg = await createOrg(ctx)
  const other: TestOrg = await createOrg(ctx)
  const h = org.headers

  const product = async (o: TestOrg, name: string, amount: number, recurring = false) =>
    (await ctx.app.inject({ method: 'POST', url: '/v1/products/', headers: o.headers, payload: { name, prices: [{ amount_type: 'fixed', price_amount: amount }], ...(recurring ? { recurring_interval: 'month' } : {}) } })).json().id as string
  const session = async (o: TestOrg, productId: string, email: string) =>
    (await ctx.app.inject({ method: 'POST', url: '/v1/checkouts/', headers: o.headers, payload: { products: [productId], customer_email: email } })).json() as { id: string; client_secret: string }
  async function buy(o: TestOrg, productId: string, email: string, at: string) {
    clock.set(at)
    const s = await session(o, productId, email)
    const res = await ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${s.client_secret}/confirm`, payload: { confirmation_token_id: 'tok_sandbox_success', customer_name: 'Ada' } })
    expect(res.statusCode).toBe(200)
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
    return ctx.deps.db.selectFrom('orders').selectAll().where('checkout_id', '=', s.id).executeTakeFirstOrThrow()
  }

  // The history (March 8 2026: Los Angeles moves from -08:00 to -07:00).
  const A = await product(org, 'Poster', 1000)
  const B = await product(org, 'Print', 2500)
  const M = await product(org, 'Monthly', 2000, true)
  clock.set('2026-03-02T09:00:00Z')
  await session(org, B, 'window@example.com') // opened, never paid
  await buy(org, A, 'ada@example.com', '2026-03-02T12:00:00Z')
  await buy(org, B, 'bob@example.com', '2026-03-04T03:00:00Z') // March 3rd in Los Angeles
  const sub1Order = await buy(org, M, 'cy@example.com', '2026-03-05T10:00:00Z')
  await buy(other, await product(other, 'Elsewhere', 9999), 'x@example.com', '2026-03-05T11:00:00Z') // another tenant
  const refunded = await buy(org, A, 'dee@example.com', '2026-03-06T10:00:00Z')
  clock.set('2026-03-07T10:00:00Z')
  expect((await ctx.app.inject({ method: 'POST', url: '/v1/refunds/', headers: h, payload: { order_id: refunded.id, reason: 'customer_request', amount: 400 } })).statusCode).toBe(201)
  const sub2Order = await buy(org, M, 'eve@example.com', '2026-03-10T10:00:00Z')
  clock.set('2026-03-20T10:00:00Z')
  expect((await ctx.app.inject({ method: 'PATCH', url: `/v1/subscriptions/${sub2Order.subscription_id}`, headers: h, payload: { cancel_at_period_end: true } })).statusCode).toBe(200)
  await buy(org, A, 'fay@example.com', '2026-04-01T05:00:00Z') // March 31st in Los Angeles
  clock.set('2026-04-05T12:00:00Z') // the first subscription renews
  await scheduleRenewals(ctx.deps)
  await runDueJobs(ctx.deps, renewalJobHandlers as never, { kinds: [CYCLE_JOB, CHARGE_RENEWAL_JOB], limit: 1000 })
  clock.set('2026-05-01T00:00:00Z')

  const db = ctx.deps.db
  const orgId = org.organizationId
  const checkouts = await db.selectFrom('checkouts').select(['created_at', 'status', 'product_ids', 'customer_id']).where('organization_id', '=', orgId).execute()
  const orders = await db.selectFrom('orders').selectAll().where('organization_id', '=', orgId).execute()
  const subs = await db.selectFrom('subscriptions').selectAll().where('organization_id', '=', orgId).execute()
  const products = await db.selectFrom('products').select(['id', 'recurring_interval']).where('organization_id', '=', orgId).execute()

  it('seeds the history it means to', () => {
    expect(checkouts).toHaveLength(7)
    expect(orders.map((o) => [o.billing_reason, o.status, o.net_amount, o.refunded_amount]).sort()).toEqual(
      [['purchase', 'paid', 1000, 0], ['purchase', 'paid', 1000, 0], ['purchase', 'paid', 2500, 0], ['purchase', 'partially_refunded', 1000, 400], ['subscription_create', 'paid', 2000, 0], ['subscription_create', 'paid', 2000, 0], ['subscription_cycle', 'paid', 2000, 0]].sort(),
    )
    expect(orders.find((o) => o.billing_reason === 'subscription_cycle')!.subscription_id).toBe(sub1Order.subscription_id)
    const canceled = subs.find((s) => s.id === sub2Order.subscription_id)!
    expect(canceled.canceled_at!.toISOString()).toBe('2026-03-20T10:00:00.000Z')
    expect(canceled.ends_at!.toISOString()).toBe('2026-04-10T10:00:00.000Z')
  })

  // ---- the independent computation ----
  const partsOf = (d: Date, tz: string) => {
    const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(d).map((x) => [x.type, x.value]))
    return { day: `${p.year}-${p.month}-${p.day}`, month: `${p.year}-${p.month}`, wall: Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!) }
  }
  /** The instant of a local midnight. */
  const midnight = (day: string, tz: string) => {
    const guess = Date.parse(`${day}T00:00:00Z`)
    let t = guess - (partsOf(new Date(guess), tz).wall - guess)
    t = guess - (partsOf(new Date(t), tz).wall - t)
    return t
  }
  const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)
  type Unit = 'day' | 'month'
  const key = (d: Date, unit: Unit, tz: string) => partsOf(d, tz)[unit]
  interface Filter { products?: string[]; billing?: 'one_time' | 'recurring'; customers?: string[] }

  function expected(start: string, end: string, unit: Unit, tz: string, f: Filter = {}) {
    const recurring = new Set(products.filter((p) => p.recurring_interval !== null).map((p) => p.id))
    const productOk = (id: string) => (!f.products || f.products.includes(id)) && (!f.billing || (f.billing === 'recurring') === recurring.has(id))
    const customerOk = (id: string | null) => !f.customers || (id !== null && f.customers.includes(id))
    const inRange = (d: Date) => partsOf(d, tz).day >= start && partsOf(d, tz).day <= end
    const periods: string[] = []
    for (let d = start; d <= end; d = addDays(d, 1)) {
      const k = unit === 'day' ? d : `${d.slice(0, 7)}`
      if (!periods.includes(k)) periods.push(k)
    }
    const periodStart = (k: string) => (unit === 'day' ? k : `${k}-01`)
    const cs = checkouts.filter((c) => c.product_ids.some(productOk) && customerOk(c.customer_id) && inRange(c.created_at))
    const paid = orders.filter((o) => ['paid', 'partially_refunded', 'refunded'].includes(o.status) && productOk(o.product_id) && customerOk(o.customer_id))
    const os = paid.filter((o) => inRange(o.created_at))
    const ss = subs.filter((s) => productOk(s.product_id) && customerOk(s.customer_id))
    const subOf = (id: string | null) => subs.find((s) => s.id === id)
    const endOf = (s: (typeof subs)[number]) => s.ended_at ?? s.ends_at
    const startInstant = midnight(start, tz)
    const endInstant = midnight(addDays(end, 1), tz)
    let cumulative = paid.filter((o) => partsOf(o.created_at, tz).day < start).reduce((s, o) => s + o.net_amount, 0)
    const rows = periods.map((k) => {
      const c = cs.filter((x) => key(x.created_at, unit, tz) === k)
      const o = os.filter((x) => key(x.created_at, unit, tz) === k)
      const revenue = o.reduce((s, x) => s + x.net_amount, 0)
      cumulative += revenue
      const isNew = (x: (typeof o)[number]) => x.subscription_id !== null && key(subOf(x.subscription_id)!.started_at!, unit, tz) === k
      const isRenewal = (x: (typeof o)[number]) => x.subscription_id !== null && key(subOf(x.subscription_id)!.started_at!, unit, tz) !== k
      const active = ss.filter((s) => (s.started_at === null || key(s.started_at, unit, tz) <= k) && (endOf(s) === null || key(endOf(s)!, unit, tz) > k)
        && (s.started_at === null || +s.started_at < endInstant) && (endOf(s) === null || +endOf(s)! >= startInstant))
      const ws = midnight(unit === 'day' ? addDays(k, -30) : addDays(periodStart(k), -30), tz)
      const we = midnight(periodStart(k), tz)
      const activeAtWs = ss.filter((s) => (s.started_at === null || +s.started_at <= ws) && (endOf(s) === null || +endOf(s)! > ws)).length
      const canceledIn = ss.filter((s) => s.canceled_at !== null && +s.canceled_at >= ws && +s.canceled_at < we).length
      const succeeded = c.filter((x) => x.status === 'succeeded').length
      return {
        timestamp: midnight(periodStart(k), tz),
        checkouts: c.length,
        succeeded_checkouts: succeeded,
        checkouts_conversion: c.length ? succeeded / c.length : 0,
        orders: o.length,
        revenue,
        net_revenue: o.reduce((s, x) => s + x.net_amount - x.refunded_amount, 0),
        average_order_value: o.length ? Math.ceil(revenue / o.length) : 0,
        cumulative_revenue: cumulative,
        one_time_products: o.filter((x) => x.subscription_id === null).length,
        one_time_products_revenue: o.filter((x) => x.subscription_id === null).reduce((s, x) => s + x.net_amount, 0),
        new_subscriptions: ss.filter((s) => inRange(s.created_at) && key(s.created_at, unit, tz) === k && (endOf(s) === null || key(endOf(s)!, unit, tz) > k)).length,
        new_subscriptions_revenue: o.filter(isNew).reduce((s, x) => s + x.net_amount, 0),
        renewed_subscriptions: new Set(o.filter(isRenewal).map((x) => x.subscription_id)).size,
        renewed_subscriptions_revenue: o.filter(isRenewal).reduce((s, x) => s + x.net_amount, 0),
        active_subscriptions: active.length,
        monthly_recurring_revenue: active.reduce((s, x) => s + Math.round(x.amount / x.recurring_interval_count), 0),
        canceled_subscriptions: ss.filter((s) => s.canceled_at !== null && inRange(s.canceled_at) && key(s.canceled_at, unit, tz) === k).length,
        churn_rate: activeAtWs > 0 ? canceledIn / activeAtWs : 0,
      }
    })
    const sum = (slug: keyof (typeof rows)[number]) => rows.reduce((s, r) => s + r[slug], 0)
    const last = (slug: keyof (typeof rows)[number]) => rows[rows.length - 1]![slug]
    const totals = {
      checkouts: sum('checkouts'), succeeded_checkouts: sum('succeeded_checkouts'), checkouts_conversion: sum('checkouts') ? sum('succeeded_checkouts') / sum('checkouts') : 0,
      orders: sum('orders'), revenue: sum('revenue'), net_revenue: sum('net_revenue'), average_order_value: sum('orders') ? sum('revenue') / sum('orders') : 0,
      cumulative_revenue: last('cumulative_revenue'), one_time_products: sum('one_time_products'), one_time_products_revenue: sum('one_time_products_revenue'),
      new_subscriptions: sum('new_subscriptions'), new_subscriptions_revenue: sum('new_subscriptions_revenue'), renewed_subscriptions: sum('renewed_subscriptions'),
      renewed_subscriptions_revenue: sum('renewed_subscriptions_revenue'), active_subscriptions: last('active_subscriptions'), monthly_recurring_revenue: last('monthly_recurring_revenue'),
      canceled_subscriptions: sum('canceled_subscriptions'), churn_rate: last('churn_rate'),
    }
    return { rows, totals }
  }

  const SLUGS = ['checkouts', 'succeeded_checkouts', 'checkouts_conversion', 'orders', 'revenue', 'net_revenue', 'average_order_value', 'cumulative_revenue', 'one_time_products', 'one_time_products_revenue', 'new_subscriptions', 'new_subscriptions_revenue', 'renewed_subscriptions', 'renewed_subscriptions_revenue', 'active_subscriptions', 'monthly_recurring_revenue', 'canceled_subscriptions', 'churn_rate'] as const
  type Answer = { periods: Record<string, number | string>[]; totals: Record<string, number>; metrics: Record<string, { slug: string; display_name: string; type: string }> }
  const get = async (query: string, headers: Record<string, string> = h) => ctx.app.inject({ method: 'GET', url: `/v1/metrics/?${query}`, headers })
  const round = (v: number) => Math.round(v * 1e9) / 1e9

  async function compare(start: string, end: string, unit: Unit, tz: string, f: Filter = {}, extra = '') {
    const q = new URLSearchParams({ start_date: start, end_date: end, interval: unit, timezone: tz })
    for (const p of f.products ?? []) q.append('product_id', p)
    for (const c of f.customers ?? []) q.append('customer_id', c)
    if (f.billing) q.append('billing_type', f.billing)
    const res = await get(q.toString() + extra)
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json() as Answer
    const want = expected(start, end, unit, tz, f)
    expect(body.periods.map((p) => Date.parse(p.timestamp as string))).toEqual(want.rows.map((r) => r.timestamp))
    for (const slug of SLUGS) {
      expect(body.periods.map((p) => round(p[slug] as number)), `${slug} (${unit}, ${tz}, ${JSON.stringify(f)})`).toEqual(want.rows.map((r) => round(r[slug])))
      expect(round(body.totals[slug]!), `total ${slug}`).toBe(round(want.totals[slug]))
    }
    expect(Object.keys(body.metrics).sort()).toEqual([...SLUGS].sort())
    return { body, want }
  }

  it('by day in UTC: every slug as computed from the rows', async () => {
    const { body, want } = await compare('2026-03-01', '2026-04-30', 'day', 'UTC')
    expect(body.periods).toHaveLength(61)
    expect(body.periods[0]!.timestamp).toBe('2026-03-01T00:00:00Z')
    const day = (d: string) => body.periods.find((p) => (p.timestamp as string).startsWith(d))!
    expect(day('2026-03-04')).toMatchObject({ orders: 1, revenue: 2500 })
    expect(day('2026-04-05')).toMatchObject({ renewed_subscriptions: 1, renewed_subscriptions_revenue: 2000, orders: 1 })
    expect(day('2026-03-06')).toMatchObject({ revenue: 1000, net_revenue: 600 })
    expect(want.totals).toMatchObject({ orders: 7, revenue: 11_500, net_revenue: 11_100, checkouts: 7, succeeded_checkouts: 6, new_subscriptions: 2, canceled_subscriptions: 1, cumulative_revenue: 11_500 })
    expect(day('2026-03-12')).toMatchObject({ active_subscriptions: 2, monthly_recurring_revenue: 4000 })
    expect(day('2026-04-10')).toMatchObject({ active_subscriptions: 1 }) // the canceled one ended that day
    expect(day('2026-04-19')!.churn_rate).toBeCloseTo(0.5) // one of the two active on March 20 canceled in the 30 days since
  })

  it('by day in Los Angeles: a purchase near midnight UTC falls on the day before, periods start at local midnight', async () => {
    const { body } = await compare('2026-03-01', '2026-04-30', 'day', 'America/Los_Angeles')
    expect(body.periods[0]!.timestamp).toBe('2026-03-01T00:00:00-08:00')
    expect(body.periods[10]!.timestamp).toBe('2026-03-11T00:00:00-07:00')
    const day = (d: string) => body.periods.find((p) => (p.timestamp as string).startsWith(d))!
    expect(day('2026-03-03')).toMatchObject({ orders: 1, revenue: 2500 })
    expect(day('2026-03-04')).toMatchObject({ orders: 0 })
    expect(day('2026-03-31')).toMatchObject({ orders: 1, revenue: 1000 })
  })

  it('by month in UTC and in Los Angeles, from mid-month: earlier orders only seed the cumulative revenue', async () => {
    const utc = await compare('2026-03-01', '2026-04-30', 'month', 'UTC')
    expect(utc.body.periods.map((p) => [p.timestamp, p.orders, p.revenue])).toEqual([['2026-03-01T00:00:00Z', 5, 8500], ['2026-04-01T00:00:00Z', 2, 3000]])
    const la = await compare('2026-03-01', '2026-04-30', 'month', 'America/Los_Angeles')
    expect(la.body.periods.map((p) => [p.timestamp, p.orders, p.revenue])).toEqual([['2026-03-01T00:00:00-08:00', 6, 9500], ['2026-04-01T00:00:00-07:00', 1, 2000]])
    // the renewal is in another month than the subscription's start: renewed; March's subscription orders are new
    expect(la.body.periods.map((p) => [p.new_subscriptions_revenue, p.renewed_subscriptions])).toEqual([[4000, 0], [0, 1]])
    const mid = await compare('2026-03-04', '2026-04-30', 'month', 'America/Los_Angeles')
    expect(mid.body.periods[0]).toMatchObject({ timestamp: '2026-03-01T00:00:00-08:00', orders: 4, cumulative_revenue: 3500 + 6000 })
    await compare('2026-03-04', '2026-04-30', 'day', 'UTC')
  })

  it('by week and by year: periods start on a Monday and on January 1st, the sums match the days\'', async () => {
    const days = (await get('start_date=2026-03-01&end_date=2026-04-30&interval=day&timezone=America/Los_Angeles')).json() as Answer
    const weeks = (await get('start_date=2026-03-01&end_date=2026-04-30&interval=week&timezone=America/Los_Angeles')).json() as Answer
    expect(weeks.periods[0]!.timestamp).toBe('2026-02-23T00:00:00-08:00')
    expect(weeks.periods.map((p) => new Date(p.timestamp as string).getUTCDay())).toEqual(weeks.periods.map(() => 1))
    const years = (await get('start_date=2026-03-01&end_date=2026-04-30&interval=year')).json() as Answer
    expect(years.periods.map((p) => p.timestamp)).toEqual(['2026-01-01T00:00:00Z'])
    for (const slug of ['orders', 'revenue', 'net_revenue', 'checkouts', 'canceled_subscriptions', 'one_time_products_revenue'] as const) {
      expect(weeks.totals[slug], slug).toBe(days.totals[slug])
      expect(years.totals[slug], slug).toBe(days.totals[slug])
    }
    // Polar compares periods: in a year, the renewal is in the subscription's first period, so it counts as new revenue
    expect(years.periods[0]).toMatchObject({ renewed_subscriptions: 0, new_subscriptions_revenue: 6000 })
  })

  it('is in the OpenAPI document', async () => {
    const doc = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, { get?: { parameters?: { name: string }[] } }> }
    expect(doc.paths['/v1/metrics']?.get?.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['start_date', 'end_date', 'interval', 'timezone', 'product_id', 'billing_type', 'customer_id', 'metrics']))
    expect(doc.paths['/v1/metrics/limits']?.get).toBeDefined()
  })

  it('filters: a product, a billing type, a customer, another organization', async () => {
    await compare('2026-03-01', '2026-04-30', 'day', 'UTC', { products: [A] })
    const recurring = await compare('2026-03-01', '2026-04-30', 'month', 'America/Los_Angeles', { billing: 'recurring' })
    expect(recurring.body.totals).toMatchObject({ one_time_products: 0, orders: 3, revenue: 6000 })
    const oneTime = await compare('2026-03-01', '2026-04-30', 'day', 'America/Los_Angeles', { billing: 'one_time' })
    expect(oneTime.body.totals).toMatchObject({ orders: 4, new_subscriptions: 0, active_subscriptions: 0, checkouts: 5 })
    await compare('2026-03-01', '2026-04-30', 'month', 'UTC', { products: [M, B] })
    await compare('2026-03-01', '2026-04-30', 'day', 'UTC', { customers: [sub1Order.customer_id] })
    const res = await get(`start_date=2026-03-01&end_date=2026-04-30&interval=month&organization_id=${other.organizationId}`)
    expect(res.statusCode).toBe(200)
    expect((res.json() as Answer).totals).toMatchObject({ orders: 0, checkouts: 0, revenue: 0 })
  })

  it('metrics[]: only those slugs are returned', async () => {
    const res = await get('start_date=2026-03-01&end_date=2026-03-31&interval=month&metrics=checkouts_conversion&metrics=average_order_value')
    const body = res.json() as Answer
    expect(Object.keys(body.metrics).sort()).toEqual(['average_order_value', 'checkouts_conversion'])
    expect(Object.keys(body.periods[0]!).sort()).toEqual(['average_order_value', 'checkouts_conversion', 'timestamp'])
    expect(Object.keys(body.totals).sort()).toEqual(['average_order_value', 'checkouts_conversion'])
    expect(body.metrics.checkouts_conversion).toEqual({ slug: 'checkouts_conversion', display_name: 'Checkouts Conversion Rate', type: 'percentage' })
    expect(body.totals.average_order_value).toBe(8500 / 5)
  })

  it("422s as Polar's: over the interval's limit, start after end, a bad zone, an unknown slug, a missing interval", async () => {
    const over = await get('start_date=2026-03-01&end_date=2026-03-09&interval=hour')
    expect(over.statusCode).toBe(422)
    expect(over.json()).toEqual({ error: 'PolarRequestValidationError', detail: [{ loc: ['query'], msg: 'The interval is too small for the given date range. Use a larger interval or reduce the date range.', type: 'value_error', input: ['2026-03-01', '2026-03-09', 'hour'] }] })
    expect((await get('start_date=2026-03-01&end_date=2026-03-08&interval=hour')).statusCode).toBe(200)
    expect((await get('start_date=2025-01-01&end_date=2026-01-03&interval=day')).statusCode).toBe(422)
    expect((await get('start_date=2026-03-02&end_date=2026-03-01&interval=day')).statusCode).toBe(422)
    const zone = await get('start_date=2026-03-01&end_date=2026-03-02&interval=day&timezone=Mars/Olympus')
    expect(zone.statusCode).toBe(422)
    expect(zone.json().detail[0]).toMatchObject({ loc: ['query', 'timezone'] })
    const slug = await get('start_date=2026-03-01&end_date=2026-03-02&interval=day&metrics=revenue&metrics=nope')
    expect(slug.statusCode).toBe(422)
    expect(slug.json().detail[0]).toMatchObject({ loc: ['query', 'metrics'], msg: 'Invalid metric slugs: nope' })
    expect((await get('start_date=2026-03-01&end_date=2026-03-02')).statusCode).toBe(422)
    expect((await get('start_date=2026-03-01&end_date=2026-03-02&interval=fortnight')).statusCode).toBe(422)
  })

  it('needs metrics:read', async () => {
    const q = 'start_date=2026-03-01&end_date=2026-03-02&interval=day'
    expect((await get(q, await tokenWithScopes(ctx, orgId, ['orders:read']))).statusCode).toBe(403)
    expect((await get(q, await tokenWithScopes(ctx, orgId, ['metrics:read']))).statusCode).toBe(200)
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/metrics/limits', headers: await tokenWithScopes(ctx, orgId, ['orders:read']) })).statusCode).toBe(403)
  })

  it("the limits are Polar's", async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/metrics/limits', headers: h })
    expect(res.json()).toEqual({
      min_date: '2023-01-01',
      intervals: { hour: { min_days: 0, max_days: 7 }, day: { min_days: 0, max_days: 366 }, week: { min_days: 14, max_days: 371 }, month: { min_days: 60, max_days: 1460 }, year: { min_days: 366, max_days: 3650 } },
    })
  })

  it("Polar's SDK 0.49 parses both answers", async () => {
    const polar = new Polar({ accessToken: org.token, serverURL: await listen(ctx.app) })
    const r = await polar.metrics.get({ startDate: new RFCDate('2026-03-01'), endDate: new RFCDate('2026-04-30'), interval: 'month', timezone: 'America/Los_Angeles', productId: [A, B], billingType: 'one_time' })
    expect(r.periods).toHaveLength(2)
    expect(r.periods[0]!.timestamp).toEqual(new Date('2026-03-01T08:00:00Z'))
    expect(r.periods[0]).toMatchObject({ orders: 4, revenue: 5500, netRevenue: 5100, oneTimeProducts: 4, checkoutsConversion: 4 / 5 })
    expect(r.totals).toMatchObject({ orders: 4, cumulativeRevenue: 5500 })
    expect(r.metrics.monthlyRecurringRevenue).toEqual({ slug: 'monthly_recurring_revenue', displayName: 'Monthly Recurring Revenue', type: 'currency' })
    const only = await polar.metrics.get({ startDate: new RFCDate('2026-03-01'), endDate: new RFCDate('2026-03-01'), interval: 'hour', metrics: ['checkouts'] })
    expect(only.periods).toHaveLength(24)
    const limits = await polar.metrics.limits()
    expect(limits.minDate).toEqual(new RFCDate('2023-01-01'))
    expect(limits.intervals.year).toEqual({ minDays: 366, maxDays: 3650 })
  })
})
