import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { PRUNE_CHECKOUTS_JOB, SETTLE_JOB, checkoutJobHandlers, expireCheckouts, pruneCheckouts } from '../src/checkouts/jobs'
import { enqueue } from '../src/jobs/queue'
import { runDueJobs } from '../src/jobs/worker'
import { FixedClock, createOrg, createTestApp, type TestOrg } from './helpers'

/*
 * Retention (issue 10, "nothing grows forever"): sessions that expired without being confirmed are deleted
 * CHECKOUT_RETENTION_DAYS after their expires_at. The prune deletes across every organization, so this file
 * has a database of its own: on the shared one it would delete other files' expired sessions.
 */

const DAY = 86_400_000

describe('checkout retention', async () => {
  const clock = new FixedClock('2025-03-01T00:00:00Z')
  // a session lives one hour here; retention is the default 30 days
  const ctx = await createTestApp({ isolated: true, clock, config: { checkoutTtlSeconds: 3600 } })
  const { app, deps } = ctx
  const db = deps.db
  expect(deps.config.checkoutRetentionDays).toBe(30)

  const post = async (org: TestOrg, url: string, payload: object) => {
    const res = await app.inject({ method: 'POST', url, headers: org.headers, payload })
    expect(res.statusCode, res.body).toBeLessThan(300)
    return res.json()
  }
  const product = (org: TestOrg, name = 'Sticker Pack') =>
    post(org, '/v1/products/', { name, prices: [{ amount_type: 'fixed', price_amount: 1200 }] }) as Promise<{ id: string; prices: { id: string }[] }>
  const session = (org: TestOrg, body: object) => post(org, '/v1/checkouts/', body) as Promise<{ id: string; client_secret: string; expires_at: string }>
  const confirm = (secret: string, token = 'tok_sandbox_success') =>
    app.inject({ method: 'POST', url: `/v1/checkouts/client/${secret}/confirm`, payload: { customer_email: 'buyer@example.com', confirmation_token_id: token } })
  const exists = async (ids: string[]) =>
    ids.length ? (await db.selectFrom('checkouts').select('id').where('id', 'in', ids).execute()).map((r) => r.id).sort() : []
  const statusOf = async (id: string) => (await db.selectFrom('checkouts').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status
  /** Moves the clock to `days` (and `ms`) after the session's expires_at. */
  const daysAfterExpiry = (s: { expires_at: string }, days: number, ms = 0) => clock.set(new Date(new Date(s.expires_at).getTime() + days * DAY + ms))

  it('deletes sessions expired more than 30 days ago, keeps younger ones, open or expired alike', async () => {
    clock.set('2025-03-01T00:00:00Z')
    const org = await createOrg(ctx)
    const p = await product(org)
    const old = await session(org, { products: [p.id] })
    clock.advance(2 * DAY)
    const young = await session(org, { products: [p.id] })
    clock.advance(1000)
    const neverExpired = await session(org, { products: [p.id] }) // still open: the expiry job never ran for it
    clock.set(new Date(new Date(old.expires_at).getTime() + DAY / 2))
    expect(await expireCheckouts(deps)).toBeGreaterThanOrEqual(1)
    expect(await statusOf(old.id)).toBe('expired')

    daysAfterExpiry(old, 31) // young expired 29 days ago, neverExpired a second less
    expect(await statusOf(neverExpired.id)).toBe('open')
    expect(await pruneCheckouts(deps)).toBe(1)
    expect(await exists([old.id, young.id, neverExpired.id])).toEqual([young.id, neverExpired.id].sort())
    // the API forgets it like any unknown session
    expect((await app.inject({ url: `/v1/checkouts/${old.id}`, headers: org.headers })).statusCode).toBe(404)
    expect((await app.inject({ url: `/v1/checkouts/client/${old.client_secret}` })).statusCode).toBe(404)

    daysAfterExpiry(neverExpired, 31) // open, 31 days past its expiry: deleted without being marked expired first
    expect(await pruneCheckouts(deps)).toBe(2)
    expect(await exists([young.id, neverExpired.id])).toEqual([])
    expect(await pruneCheckouts(deps)).toBe(0)
  })

  it('counts from expires_at: exactly 30 days is kept, a millisecond more is not', async () => {
    clock.set('2025-05-01T00:00:00Z')
    const org = await createOrg(ctx)
    const s = await session(org, { products: [(await product(org)).id] })
    daysAfterExpiry(s, 30)
    expect(await pruneCheckouts(deps)).toBe(0)
    expect(await exists([s.id])).toEqual([s.id])
    clock.advance(1)
    expect(await pruneCheckouts(deps)).toBe(1)
    expect(await exists([s.id])).toEqual([])
  })

  it('keeps confirmed, succeeded and failed sessions, and their orders, however old', async () => {
    clock.set('2025-07-01T00:00:00Z')
    const org = await createOrg(ctx)
    const p = await product(org)
    const confirmed = await session(org, { products: [p.id] })
    const succeeded = await session(org, { products: [p.id] })
    const failed = await session(org, { products: [p.id] })
    const declined = await session(org, { products: [p.id] })
    const open = await session(org, { products: [p.id] })
    expect((await confirm(succeeded.client_secret)).statusCode).toBe(200)
    expect((await confirm(failed.client_secret, 'tok_sandbox_fail_capture')).statusCode).toBe(200)
    expect((await runDueJobs(deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] }))).toBeGreaterThanOrEqual(2)
    expect((await confirm(confirmed.client_secret)).statusCode).toBe(200) // its settlement never runs
    expect((await confirm(declined.client_secret, 'tok_sandbox_decline')).statusCode).toBe(400) // stays open, never confirmed
    expect(await statusOf(succeeded.id)).toBe('succeeded')
    expect(await statusOf(failed.id)).toBe('failed')
    expect(await statusOf(confirmed.id)).toBe('confirmed')

    daysAfterExpiry(open, 400)
    await expireCheckouts(deps)
    expect(await pruneCheckouts(deps)).toBe(2) // the open one and the declined one
    expect(await exists([confirmed.id, succeeded.id, failed.id, declined.id, open.id])).toEqual([confirmed.id, succeeded.id, failed.id].sort())
    expect(await db.selectFrom('orders').select('id').where('checkout_id', '=', succeeded.id).execute()).toHaveLength(1)
  })

  it('never deletes a session an order refers to, whatever its status says', async () => {
    clock.set('2025-08-01T00:00:00Z')
    const org = await createOrg(ctx)
    const s = await session(org, { products: [(await product(org)).id] })
    expect((await confirm(s.client_secret)).statusCode).toBe(200)
    await runDueJobs(deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
    // a row that lost its confirm somehow: the order still holds it
    await db.updateTable('checkouts').set({ status: 'expired', confirmed_at: null }).where('id', '=', s.id).execute()
    daysAfterExpiry(s, 31)
    expect(await pruneCheckouts(deps)).toBe(0)
    expect(await exists([s.id])).toEqual([s.id])
  })

  it("deletes a session's ad-hoc prices with it, never the catalog's, and the product becomes deletable", async () => {
    clock.set('2025-09-01T00:00:00Z')
    const org = await createOrg(ctx)
    const p = await product(org)
    const s = await session(org, { products: [p.id], prices: { [p.id]: [{ amount_type: 'fixed', price_amount: 99, price_currency: 'usd' }] } })
    const row = await db.selectFrom('checkouts').select(['ad_hoc_price_ids', 'product_price_id']).where('id', '=', s.id).executeTakeFirstOrThrow()
    expect(row.ad_hoc_price_ids).toHaveLength(1)
    expect(row.product_price_id).toBe(row.ad_hoc_price_ids[0])
    const prices = () => db.selectFrom('product_prices').select(['id', 'source']).where('product_id', '=', p.id).execute()
    expect(await prices()).toHaveLength(2)

    daysAfterExpiry(s, 31)
    expect(await pruneCheckouts(deps)).toBe(1)
    expect(await prices()).toEqual([{ id: p.prices[0]!.id, source: 'catalog' }])
    const del = await app.inject({ method: 'DELETE', url: `/v1/products/${p.id}`, headers: org.headers })
    expect(del.statusCode, del.body).toBe(204)
  })

  it('works through more sessions than one batch', async () => {
    clock.set('2025-10-01T00:00:00Z')
    const org = await createOrg(ctx)
    const p = await product(org)
    const ids: string[] = []
    for (let i = 0; i < 7; i++) ids.push((await session(org, { products: [p.id] })).id)
    const keep = await session(org, { products: [p.id] })
    clock.set(new Date(clock.now().getTime() + 3600_000 + 31 * DAY))
    expect(await pruneCheckouts(deps, 3)).toBe(8)
    expect(await exists([...ids, keep.id])).toEqual([])
  })

  it('works through more sessions than the default batch of 5000', async () => {
    clock.set('2025-11-01T00:00:00Z')
    const org = await createOrg(ctx)
    const s = await session(org, { products: [(await product(org)).id] })
    // 5,200 copies of the session, with their own ids and secrets: faster than 5,200 API calls
    await sql`
      insert into checkouts (id, organization_id, client_secret, status, expires_at, product_ids, product_id, product_price_id, currency,
        amount, net_amount, total_amount, allow_discount_codes, require_billing_address, created_at)
      select gen_random_uuid(), organization_id, client_secret || '_' || n, 'expired', expires_at, product_ids, product_id, product_price_id,
        currency, amount, net_amount, total_amount, allow_discount_codes, require_billing_address, created_at
      from checkouts, generate_series(1, 5200) n where id = ${s.id}
    `.execute(db)
    const count = async () => Number((await db.selectFrom('checkouts').select((eb) => eb.fn.countAll().as('n')).where('organization_id', '=', org.organizationId).executeTakeFirstOrThrow()).n)
    expect(await count()).toBe(5201)
    daysAfterExpiry(s, 31)
    expect(await pruneCheckouts(deps)).toBe(5201)
    expect(await count()).toBe(0)
  })

  it('CHECKOUT_RETENTION_DAYS=0 keeps every session', async () => {
    clock.set('2025-12-01T00:00:00Z')
    const org = await createOrg(ctx)
    const s = await session(org, { products: [(await product(org)).id] })
    daysAfterExpiry(s, 3650)
    const forever = { ...deps, config: { ...deps.config, checkoutRetentionDays: 0 } }
    expect(await pruneCheckouts(forever)).toBe(0)
    expect(await exists([s.id])).toEqual([s.id])
    const week = { ...deps, config: { ...deps.config, checkoutRetentionDays: 7 } }
    expect(await pruneCheckouts(week)).toBe(1)
  })

  it('runs as the checkouts.prune job the worker schedules', async () => {
    clock.set('2026-01-01T00:00:00Z')
    const org = await createOrg(ctx)
    const s = await session(org, { products: [(await product(org)).id] })
    daysAfterExpiry(s, 31)
    await enqueue(db, { kind: PRUNE_CHECKOUTS_JOB, payload: {} }, clock.now())
    expect(await runDueJobs(deps, checkoutJobHandlers, { kinds: [PRUNE_CHECKOUTS_JOB] })).toBe(1)
    expect(await exists([s.id])).toEqual([])
  })
})
