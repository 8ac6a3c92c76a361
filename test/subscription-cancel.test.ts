import { webhookCustomerStateChangedPayloadFromJSON } from '@polar-sh/sdk/models/components/webhookcustomerstatechangedpayload.js'
import { webhookSubscriptionCanceledPayloadFromJSON } from '@polar-sh/sdk/models/components/webhooksubscriptioncanceledpayload.js'
import { webhookSubscriptionRevokedPayloadFromJSON } from '@polar-sh/sdk/models/components/webhooksubscriptionrevokedpayload.js'
import { webhookSubscriptionUncanceledPayloadFromJSON } from '@polar-sh/sdk/models/components/webhooksubscriptionuncanceledpayload.js'
import { webhookSubscriptionUpdatedPayloadFromJSON } from '@polar-sh/sdk/models/components/webhooksubscriptionupdatedpayload.js'
import { describe, expect, it } from 'vitest'
import { SETTLE_JOB, checkoutJobHandlers } from '../src/checkouts/jobs'
import { runDueJobs } from '../src/jobs/worker'
import { newId } from '../src/lib/ids'
import { endSubscriptionAtPeriodEnd } from '../src/subscriptions/lifecycle'
import { FixedClock, createOrg, createTestApp, polarClient, tokenWithScopes, type TestOrg } from './helpers'

/**
 * Issue 12: cancel at period end, uncancel and revoke over Polar's API (`PATCH` and `DELETE
 * /v1/subscriptions/{id}`), with Polar's rules, error answers and events, and the end of a canceled
 * subscription at its period end (what the renewal job calls).
 */

const parsers: Record<string, (json: string) => { ok: boolean; error?: unknown }> = {
  'subscription.updated': webhookSubscriptionUpdatedPayloadFromJSON,
  'subscription.canceled': webhookSubscriptionCanceledPayloadFromJSON,
  'subscription.uncanceled': webhookSubscriptionUncanceledPayloadFromJSON,
  'subscription.revoked': webhookSubscriptionRevokedPayloadFromJSON,
  'customer.state_changed': webhookCustomerStateChangedPayloadFromJSON,
}

describe('subscription cancel, uncancel and revoke', async () => {
  const clock = new FixedClock('2026-03-01T12:00:00Z')
  // Its own database: it runs the settlement jobs, which other files share on PostgreSQL.
  const ctx = await createTestApp({ isolated: true, clock, config: { webhooksAllowInsecure: true } })
  const { app } = ctx
  const db = ctx.deps.db
  const settle = () => runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })

  /** An organization listening to every subscription event (recorded in webhook_events, never delivered here). */
  async function shop() {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    await polar.webhooks.createWebhookEndpoint({
      url: 'http://127.0.0.1:9/hook',
      format: 'raw',
      events: ['subscription.created', 'subscription.active', 'subscription.updated', 'subscription.canceled', 'subscription.uncanceled', 'subscription.revoked', 'customer.state_changed'] as never,
    })
    const plan = await polar.products.create({ name: 'Plan', recurringInterval: 'month', prices: [{ amountType: 'fixed', priceAmount: 1000 }] } as never)
    return { org, polar, plan }
  }

  /** A subscription bought over the API and settled: a fresh customer each time. */
  async function subscribe(s: Awaited<ReturnType<typeof shop>>, email = `buyer-${newId().slice(-8)}@example.com`) {
    const session = await s.polar.checkouts.create({ products: [s.plan.id], customerEmail: email } as never)
    await s.polar.checkouts.clientConfirm({ clientSecret: session.clientSecret, checkoutConfirmStripe: { confirmationTokenId: 'tok_sandbox_success' } })
    await settle()
    const row = await db.selectFrom('subscriptions').selectAll().where('checkout_id', '=', session.id).executeTakeFirstOrThrow()
    return row
  }

  /** Event types recorded for the organization since `mark()`, in order; every payload parsed by the SDK's webhook models. */
  async function eventsMarker(org: TestOrg) {
    const all = () => db.selectFrom('webhook_events').select(['id', 'type', 'payload']).where('organization_id', '=', org.organizationId).orderBy('id').execute()
    const seen = new Set((await all()).map((e) => e.id))
    return async () => {
      const fresh = (await all()).filter((e) => !seen.has(e.id))
      for (const e of fresh) {
        seen.add(e.id)
        const parse = parsers[e.type]
        const parsed = parse?.(e.payload.replace(',"data":', ',"api_version":"2025-11-01","data":'))
        expect(parsed?.ok, `${e.type}: ${String(parsed?.error)}`).toBe(true)
      }
      return { types: fresh.map((e) => e.type), payloads: fresh.map((e) => JSON.parse(e.payload) as { type: string; data: Record<string, unknown> }) }
    }
  }

  const patch = (org: TestOrg, id: string, payload: unknown, headers = org.headers) => app.inject({ method: 'PATCH', url: `/v1/subscriptions/${id}`, headers, payload: payload as object })
  const del = (org: TestOrg, id: string, headers = org.headers) => app.inject({ method: 'DELETE', url: `/v1/subscriptions/${id}`, headers })
  const answer = (r: { statusCode: number; json: () => unknown }) => ({ status: r.statusCode, body: r.json() })
  const endedAnswer = { status: 410, body: { error: 'ResourceUnavailable', detail: 'This subscription has ended: it can no longer be uncanceled.' } }
  const alreadyCanceled = { status: 403, body: { error: 'AlreadyCanceledSubscription', detail: 'This subscription is already canceled or will be at the end of the period.' } }

  it('cancels at period end through the SDK: status unchanged, ends at the period end, with the reason and Polar events', async () => {
    const s = await shop()
    const row = await subscribe(s)
    const events = await eventsMarker(s.org)
    clock.advance(60_000)
    const canceled = await s.polar.subscriptions.update({
      id: row.id,
      subscriptionUpdate: { cancelAtPeriodEnd: true, customerCancellationReason: 'too_expensive', customerCancellationComment: 'Inflation be crazy' },
    })
    expect(canceled.status).toBe('active')
    expect(canceled.cancelAtPeriodEnd).toBe(true)
    expect(canceled.canceledAt).toEqual(clock.now())
    expect(canceled.endsAt).toEqual(canceled.currentPeriodEnd)
    expect(canceled.endedAt).toBeNull()
    expect(canceled.customerCancellationReason).toBe('too_expensive')
    expect(canceled.customerCancellationComment).toBe('Inflation be crazy')
    expect((await s.polar.subscriptions.get({ id: row.id })).cancelAtPeriodEnd).toBe(true)

    const { types, payloads } = await events()
    expect(types).toEqual(['subscription.updated', 'subscription.canceled', 'customer.state_changed'])
    expect(payloads[1]!.data.cancel_at_period_end).toBe(true)
    // Still active until the period ends: still in the customer's state, with its cancellation showing.
    const state = payloads[2]!.data as { active_subscriptions: { id: string; cancel_at_period_end: boolean; ends_at: string }[] }
    expect(state.active_subscriptions).toMatchObject([{ id: row.id, cancel_at_period_end: true, ends_at: new Date(row.current_period_end).toISOString() }])

    // Cancel again: Polar's AlreadyCanceledSubscription, nothing sent.
    expect(answer(await patch(s.org, row.id, { cancel_at_period_end: true }))).toEqual(alreadyCanceled)
    await expect(s.polar.subscriptions.update({ id: row.id, subscriptionUpdate: { cancelAtPeriodEnd: true } })).rejects.toMatchObject({ statusCode: 403 })
    expect((await events()).types).toEqual([])
  })

  it('uncancels while not ended, clearing the cancellation; uncancelling a live subscription is a 400', async () => {
    const s = await shop()
    const row = await subscribe(s)
    await s.polar.subscriptions.update({ id: row.id, subscriptionUpdate: { cancelAtPeriodEnd: true, customerCancellationReason: 'unused' } })
    const events = await eventsMarker(s.org)
    const back = await s.polar.subscriptions.update({ id: row.id, subscriptionUpdate: { cancelAtPeriodEnd: false } })
    expect(back).toMatchObject({ status: 'active', cancelAtPeriodEnd: false, canceledAt: null, endsAt: null, endedAt: null, customerCancellationReason: null, customerCancellationComment: null })
    expect((await events()).types).toEqual(['subscription.updated', 'subscription.uncanceled', 'customer.state_changed'])

    expect(answer(await patch(s.org, row.id, { cancel_at_period_end: false }))).toEqual({ status: 400, body: { error: 'BadRequest', detail: 'This subscription is not set to be canceled at the end of the period: there is nothing to uncancel.' } })
    expect((await events()).types).toEqual([])
    // And it can be canceled again.
    expect((await patch(s.org, row.id, { cancel_at_period_end: true })).statusCode).toBe(200)
  })

  it('revokes now (PATCH revoke: true): canceled, ended now, out of the customer state; then every change is refused as Polar does', async () => {
    const s = await shop()
    const row = await subscribe(s)
    const events = await eventsMarker(s.org)
    clock.advance(60_000)
    const revoked = await s.polar.subscriptions.update({ id: row.id, subscriptionUpdate: { revoke: true, customerCancellationReason: 'other', customerCancellationComment: 'Bye' } })
    expect(revoked).toMatchObject({ status: 'canceled', cancelAtPeriodEnd: false, customerCancellationReason: 'other', customerCancellationComment: 'Bye' })
    expect(revoked.endedAt).toEqual(clock.now())
    expect(revoked.endsAt).toEqual(clock.now())
    expect(revoked.canceledAt).toEqual(clock.now())
    const { types, payloads } = await events()
    expect(types).toEqual(['subscription.updated', 'subscription.canceled', 'subscription.revoked', 'customer.state_changed'])
    expect(payloads[3]!.data.active_subscriptions).toEqual([])

    expect(answer(await del(s.org, row.id))).toEqual(alreadyCanceled)
    expect(answer(await patch(s.org, row.id, { revoke: true }))).toEqual(alreadyCanceled)
    expect(answer(await patch(s.org, row.id, { cancel_at_period_end: true }))).toEqual(alreadyCanceled)
    expect(answer(await patch(s.org, row.id, { cancel_at_period_end: false }))).toEqual(endedAnswer)
    await expect(s.polar.subscriptions.revoke({ id: row.id })).rejects.toMatchObject({ statusCode: 403 })
    expect((await events()).types).toEqual([])
  })

  it('DELETE revokes through the SDK, also a subscription set to cancel at period end (Polar sends subscription.canceled again)', async () => {
    const s = await shop()
    const row = await subscribe(s)
    await s.polar.subscriptions.update({ id: row.id, subscriptionUpdate: { cancelAtPeriodEnd: true, customerCancellationReason: 'unused' } })
    const events = await eventsMarker(s.org)
    clock.advance(60_000)
    const revoked = await s.polar.subscriptions.revoke({ id: row.id })
    // Polar's revoke keeps the scheduled flag and the earlier reason; the end is now.
    expect(revoked).toMatchObject({ status: 'canceled', cancelAtPeriodEnd: true, customerCancellationReason: 'unused' })
    expect(revoked.endedAt).toEqual(clock.now())
    expect(revoked.endsAt).toEqual(clock.now())
    expect((await events()).types).toEqual(['subscription.updated', 'subscription.canceled', 'subscription.revoked', 'customer.state_changed'])
  })

  it("answers 404 for another organization's subscription and unknown ids, and needs subscriptions:write", async () => {
    const s = await shop()
    const row = await subscribe(s)
    const other = await createOrg(ctx)
    const notFound = { status: 404, body: { error: 'ResourceNotFound', detail: 'Not found' } }
    expect(answer(await patch(other, row.id, { cancel_at_period_end: true }))).toEqual(notFound)
    expect(answer(await patch(other, row.id, { revoke: true }))).toEqual(notFound)
    expect(answer(await del(other, row.id))).toEqual(notFound)
    expect(answer(await del(s.org, newId()))).toEqual(notFound)
    expect(answer(await patch(s.org, newId(), { cancel_at_period_end: false }))).toEqual(notFound)

    expect((await app.inject({ method: 'DELETE', url: `/v1/subscriptions/${row.id}` })).statusCode).toBe(401)
    const reader = await tokenWithScopes(ctx, s.org.organizationId, ['subscriptions:read'])
    const denied = { status: 403, body: { error: 'NotPermitted', detail: 'You do not have the required scope for this operation.' } }
    expect(answer(await patch(s.org, row.id, { cancel_at_period_end: true }, reader))).toEqual(denied)
    expect(answer(await del(s.org, row.id, reader))).toEqual(denied)
    const writer = await tokenWithScopes(ctx, s.org.organizationId, ['subscriptions:write'])
    expect((await app.inject({ method: 'GET', url: `/v1/subscriptions/${row.id}`, headers: writer })).statusCode).toBe(200)
    expect((await patch(s.org, row.id, { cancel_at_period_end: true }, writer)).statusCode).toBe(200)
    expect((await del(s.org, row.id, writer)).statusCode).toBe(200)
  })

  it.each([
    ['product change', { product_id: '00000000-0000-0000-0000-000000000001' }, 'product_id'],
    ['discount change', { discount_id: null }, 'discount_id'],
    ['trial change', { trial_end: 'now' }, 'trial_end'],
    ['seats', { seats: 3 }, 'seats'],
    ['units', { units: 3 }, 'units'],
    ['billing period', { current_billing_period_end: '2030-01-01T00:00:00Z' }, 'current_billing_period_end'],
    ['pause', { pause_at_period_end: true }, 'pause_at_period_end'],
    ['resume', { resume: true }, 'resume'],
    ['pending update', { pending_update: null }, 'pending_update'],
    ['metadata', { metadata: { a: 'b' } }, 'metadata'],
  ])('answers a %s with 422: Kassa does not support it yet', async (_, body, key) => {
    const s = await shop()
    const row = await subscribe(s)
    expect(answer(await patch(s.org, row.id, body))).toEqual({
      status: 422,
      body: {
        error: 'PolarRequestValidationError',
        detail: [{ loc: ['body', key], msg: `Kassa does not support updating ${key} yet: a subscription update can only cancel (cancel_at_period_end), uncancel or revoke.`, type: 'value_error', input: (body as Record<string, unknown>)[key] }],
      },
    })
  })

  it('answers malformed updates with 422 and an empty one with the subscription unchanged', async () => {
    const s = await shop()
    const row = await subscribe(s)
    const events = await eventsMarker(s.org)
    const cases: [unknown, (string | number)[]][] = [
      [{ revoke: false }, ['body', 'revoke']],
      [{ cancel_at_period_end: 'soon' }, ['body', 'cancel_at_period_end']],
      [{ cancel_at_period_end: true, customer_cancellation_reason: 'bored' }, ['body', 'customer_cancellation_reason']],
      [{ cancel_at_period_end: true, revoke: true }, ['body', 'revoke']],
      [{ customer_cancellation_reason: 'other' }, ['body', 'cancel_at_period_end']],
      [{ cancel_at_period_end: true, wat: 1 }, ['body', 'wat']],
    ]
    for (const [body, loc] of cases) {
      const r = await patch(s.org, row.id, body)
      expect(r.statusCode, JSON.stringify(body)).toBe(422)
      expect(r.json().detail[0].loc, JSON.stringify(body)).toEqual(loc)
    }
    const same = await patch(s.org, row.id, {})
    expect(same.statusCode).toBe(200)
    expect(same.json()).toMatchObject({ id: row.id, status: 'active', cancel_at_period_end: false })
    expect((await events()).types).toEqual([])
  })

  it('filters the list by cancel_at_period_end, customer_cancellation_reason and canceled_at, and sorts by ends_at', async () => {
    const s = await shop()
    const a = await subscribe(s)
    const b = await subscribe(s)
    const c = await subscribe(s)
    clock.set('2026-03-02T00:00:00Z')
    await patch(s.org, a.id, { cancel_at_period_end: true, customer_cancellation_reason: 'too_expensive' })
    clock.set('2026-03-04T00:00:00Z')
    await patch(s.org, b.id, { revoke: true, customer_cancellation_reason: 'other' })
    const ids = async (query: string) => {
      const r = await app.inject({ method: 'GET', url: `/v1/subscriptions/?${query}`, headers: s.org.headers })
      expect(r.statusCode, query).toBe(200)
      return (r.json().items as { id: string }[]).map((i) => i.id)
    }
    expect(await ids('cancel_at_period_end=true')).toEqual([a.id])
    expect((await ids('cancel_at_period_end=false')).sort()).toEqual([b.id, c.id].sort())
    expect(await ids('customer_cancellation_reason=too_expensive')).toEqual([a.id])
    expect((await ids('customer_cancellation_reason=too_expensive&customer_cancellation_reason=other')).sort()).toEqual([a.id, b.id].sort())
    expect(await ids('canceled_at_after=2026-03-03T00:00:00Z')).toEqual([b.id])
    expect(await ids('canceled_at_before=2026-03-03T00:00:00Z')).toEqual([a.id])
    expect(await ids('canceled_at_after=2026-03-01T00:00:00Z&canceled_at_before=2026-03-05T00:00:00Z&customer_cancellation_reason=other')).toEqual([b.id])
    expect(await ids('active=false')).toEqual([b.id])
    // Ends: b now (2026-03-04), a at its period end (a month after purchase); c never (nulls last ascending, as PostgreSQL orders them).
    expect(await ids('sorting=ends_at')).toEqual([b.id, a.id, c.id])
    const { result } = await s.polar.subscriptions.list({ cancelAtPeriodEnd: true })
    expect(result.items.map((i) => i.id)).toEqual([a.id])
  })

  it('ends a subscription canceled at period end once its period has ended (the renewal job calls this), once', async () => {
    const s = await shop()
    const row = await subscribe(s)
    const live = await subscribe(s)
    await patch(s.org, row.id, { cancel_at_period_end: true })
    const events = await eventsMarker(s.org)
    const load = (id: string) => db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
    const end = async (id: string) => {
      const current = await load(id)
      return db.transaction().execute((tx) => endSubscriptionAtPeriodEnd(tx, ctx.deps, current, clock.now()))
    }

    // Not yet due.
    expect(await end(row.id)).toBeUndefined()
    const periodEnd = new Date(row.current_period_end)
    clock.set(new Date(periodEnd.getTime() + 3_600_000))
    // A subscription that is not set to cancel is not the job's to end.
    expect(await end(live.id)).toBeUndefined()
    const ended = await end(row.id)
    expect(ended).toMatchObject({ status: 'canceled', cancel_at_period_end: true })
    expect(new Date(ended!.ended_at!)).toEqual(periodEnd)
    expect(new Date(ended!.ends_at!)).toEqual(periodEnd)
    expect((await events()).types).toEqual(['subscription.updated', 'subscription.canceled', 'subscription.revoked', 'customer.state_changed'])

    // Again (a retried job): nothing more.
    expect(await end(row.id)).toBeUndefined()
    expect((await events()).types).toEqual([])
    const got = await s.polar.subscriptions.get({ id: row.id })
    expect(got).toMatchObject({ status: 'canceled' })
    expect(got.endedAt).toEqual(periodEnd)
    expect(answer(await patch(s.org, row.id, { cancel_at_period_end: false }))).toEqual(endedAnswer)
  })

  it('applies concurrent changes one after the other: one cancel and one revoke win, the repeats are refused', async () => {
    const s = await shop()
    const row = await subscribe(s)
    const events = await eventsMarker(s.org)
    const cancels = await Promise.all([1, 2, 3].map(() => patch(s.org, row.id, { cancel_at_period_end: true })))
    expect(cancels.map((r) => r.statusCode).sort()).toEqual([200, 403, 403])
    const revokes = await Promise.all([1, 2, 3].map(() => del(s.org, row.id)))
    expect(revokes.map((r) => r.statusCode).sort()).toEqual([200, 403, 403])
    const { types } = await events()
    expect(types.filter((t) => t === 'subscription.revoked')).toHaveLength(1)
    expect(types.filter((t) => t === 'subscription.canceled')).toHaveLength(2)
    expect(types).toHaveLength(7)
  })
})
