import Stripe from 'stripe'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkoutJobHandlers, RECONCILE_JOB, SETTLE_JOB } from '../src/checkouts/jobs'
import { runDueJobs } from '../src/jobs/worker'
import { stripeClient } from '../src/payments/stripe-client'
import { startFakeStripe, type FakeStripe } from './fake-stripe'
import { createOrg, createTestApp, FixedClock, polarClient, type TestContext, type TestOrg } from './helpers'

const SECRET = 'sk_test_kassaStripeTests123'
const PUBLISHABLE = 'pk_test_kassaStripeTests123'
const WHSEC = 'whsec_kassaStripeTestsSecret123'

describe('attack', async () => {
  let fake: FakeStripe
  let ctx: TestContext
  let stripe: Stripe
  const clock = new FixedClock(new Date())
  beforeAll(async () => {
    fake = await startFakeStripe()
    ctx = await createTestApp({ isolated: true, clock, config: { stripeSecretKey: SECRET, stripePublishableKey: PUBLISHABLE, stripeWebhookSecret: WHSEC, stripeApiUrl: fake.url, encryptionKey: Buffer.alloc(32, 7).toString('base64') } })
    stripe = stripeClient(SECRET, { apiUrl: fake.url })
  })
  afterAll(() => fake?.close())
  const token = async (pm: string) => (await stripe.testHelpers.confirmationTokens.create({ payment_method: pm })).id
  async function session(org: TestOrg, amount = 2500, currency = 'eur') {
    const polar = await polarClient(ctx.app, org.token)
    const product = await polar.products.create({ name: 'Poster', prices: [{ amountType: 'fixed', priceAmount: amount, priceCurrency: currency }] })
    const link = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [product.id] })
    const visit = await ctx.app.inject({ method: 'GET', url: `/buy/${link.clientSecret}?customer_email=buyer@example.com` })
    const secret = (visit.headers.location as string).split('/checkout/')[1]!.split('?')[0]!
    return { polar, product, secret }
  }
  const confirm = (secret: string, body: Record<string, unknown>) =>
    ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${secret}/confirm`, payload: { customer_name: 'Ada', customer_billing_address: { country: 'DE' }, ...body } })
  function deliver(org: TestOrg, event: Stripe.Event, secret = WHSEC) {
    const { payload, header } = fake.webhook(secret, event)
    return ctx.app.inject({ method: 'POST', url: `/v1/integrations/stripe/webhook/${org.organizationId}`, payload, headers: { 'content-type': 'application/json', 'stripe-signature': header } })
  }

  it('A: amount below Stripe minimum -> session stuck confirmed, confirm says 200 confirmed', async () => {
    const org = await createOrg(ctx)
    const { polar, secret } = await session(org, 30)
    const res = await confirm(secret, { confirmation_token_id: await token('pm_card_visa') })
    console.log('A confirm', res.statusCode, res.json().status, res.json().detail)
    for (let i = 0; i < 14; i++) { clock.advance(3 * 3600_000); await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [RECONCILE_JOB, SETTLE_JOB] }) }
    const got = await polar.checkouts.clientGet({ clientSecret: secret })
    console.log('A after reconcile', got.status)
    const again = await confirm(secret, { confirmation_token_id: await token('pm_card_visa') })
    console.log('A retry', again.statusCode, again.body.slice(0, 200))
    const jobs = await ctx.deps.db.selectFrom('jobs').select(['dedupe_key', 'attempts', 'last_error', 'finished_at']).where('kind', '=', RECONCILE_JOB).execute()
    console.log('A jobs', JSON.stringify(jobs).slice(0, 600))
  })

  it('B: webhook decline lands before confirm answer -> confirm 200 "confirmed" on an open session', async () => {
    const org = await createOrg(ctx)
    const { secret } = await session(org)
    const proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = []
      for await (const c of req) chunks.push(c as Buffer)
      const up = await fetch(fake.url + req.url, { method: req.method, headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)) as [string, string][]), body: req.method === 'POST' ? Buffer.concat(chunks) : undefined })
      const body = Buffer.from(await up.arrayBuffer())
      if (req.method === 'POST' && req.url === '/v1/payment_intents') {
        const ev = [...fake.events].reverse().find((e) => e.type === 'payment_intent.payment_failed')!
        const d = await deliver(org, ev)
        console.log('B webhook first', d.statusCode, d.body)
      }
      res.writeHead(up.status, Object.fromEntries([...up.headers.entries()].filter(([k]) => !['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k))))
      res.end(body)
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    const old = ctx.deps.config.stripeApiUrl
    ;(ctx.deps.config as { stripeApiUrl?: string }).stripeApiUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    try {
      const res = await confirm(secret, { confirmation_token_id: await token('pm_card_chargeDeclined') })
      console.log('B confirm', res.statusCode, res.json().status, res.json().detail)
      const row = await ctx.deps.db.selectFrom('checkouts').select(['status']).where('client_secret', '=', secret).executeTakeFirstOrThrow()
      console.log('B row', row.status)
    } finally {
      ;(ctx.deps.config as { stripeApiUrl?: string }).stripeApiUrl = old
      proxy.close()
    }
  })

  it('C: hostile webhook inputs', async () => {
    const org = await createOrg(ctx)
    const url = `/v1/integrations/stripe/webhook/${org.organizationId}`
    const cases: [string, Parameters<typeof ctx.app.inject>[0]][] = [
      ['baduuid', { method: 'POST', url: '/v1/integrations/stripe/webhook/not-a-uuid', payload: '{}', headers: { 'content-type': 'application/json' } }],
      ['nosig', { method: 'POST', url, payload: '{}', headers: { 'content-type': 'application/json' } }],
      ['text', { method: 'POST', url, payload: 'hello', headers: { 'content-type': 'text/plain', 'stripe-signature': 't=1,v1=abc' } }],
      ['noct', { method: 'POST', url, payload: 'hello', headers: { 'stripe-signature': 't=1,v1=abc' } }],
      ['huge', { method: 'POST', url, payload: 'x'.repeat(300_000), headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=abc' } }],
      ['sigarray', { method: 'POST', url, payload: '{}', headers: { 'content-type': 'application/json', 'stripe-signature': ['a', 'b'] as unknown as string } }],
      ['form', { method: 'POST', url, payload: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded', 'stripe-signature': 't=1,v1=abc' } }],
      ['get', { method: 'GET', url }],
    ]
    for (const [name, req] of cases) {
      const r = await ctx.app.inject(req)
      console.log('C', name, r.statusCode, r.body.slice(0, 160))
    }
    // signed but malformed events
    const mk = (type: string, object: unknown) => ({ id: `evt_${Math.random().toString(36).slice(2)}`, object: 'event', api_version: '2026-11-18.endive', created: 1, livemode: false, pending_webhooks: 0, request: null, type, data: { object } }) as unknown as Stripe.Event
    for (const [type, obj] of [['payment_intent.succeeded', null], ['payment_intent.succeeded', { metadata: null }], ['charge.refunded', { id: 'ch_x', payment_intent: null, metadata: null }], ['charge.dispute.created', { id: 'dp', charge: 'ch_nope', payment_intent: 'pi_nope' }], ['charge.refunded', {}]] as const) {
      const r = await deliver(org, mk(type, obj))
      console.log('C signed', type, JSON.stringify(obj), r.statusCode, r.body.slice(0, 160))
    }
    // confirm with weird tokens
    const { secret } = await session(org)
    for (const t of ['x'.repeat(256), 'ctoken_doesnotexist', 12345, { a: 1 }, 'pm_card_visa', 'tok_sandbox_success']) {
      const r = await confirm(secret, { confirmation_token_id: t })
      console.log('C token', String(t).slice(0, 20), r.statusCode, r.body.slice(0, 200))
    }
  })

  it('D: payment settings secret echo and cross-org', async () => {
    const a = await createOrg(ctx)
    const b = await createOrg(ctx)
    const long = 'sk_test_' + 'S'.repeat(1000)
    const r = await ctx.app.inject({ method: 'PUT', url: `/v1/organizations/${a.organizationId}/payment-settings`, headers: a.headers, payload: { processor: 'stripe', secret_key: long, publishable_key: 'pk_test_abcdefghijkl' } })
    console.log('D long', r.statusCode, r.body.includes('SSSSSSSSSS') ? 'ECHOES SECRET' : 'no echo', r.body.slice(0, 200))
    const r2 = await ctx.app.inject({ method: 'PUT', url: `/v1/organizations/${a.organizationId}/payment-settings`, headers: a.headers, payload: { processor: 'stripe', secret_key: 'sk_test_abcdefghijklmnop', publishable_key: 'pk_test_abcdefghijkl', extra: 'sk_live_zzzzzzzzzzzzzzzz' } })
    console.log('D extra', r2.statusCode, r2.body.slice(0, 300))
    const r3 = await ctx.app.inject({ method: 'PUT', url: `/v1/organizations/${a.organizationId}/payment-settings`, headers: a.headers, payload: { processor: 'sandbox', secret_key: 'sk_test_abcdefghijklmnop' } })
    console.log('D sandbox+secret', r3.statusCode, r3.body.slice(0, 400))
    const r4 = await ctx.app.inject({ method: 'GET', url: `/v1/organizations/${a.organizationId}/payment-settings`, headers: b.headers })
    console.log('D cross', r4.statusCode)
    const r5 = await ctx.app.inject({ method: 'GET', url: `/v1/organizations/${b.organizationId}/payment-settings`, headers: b.headers })
    console.log('D env-default view for b', r5.statusCode, r5.body.slice(0, 400))
  })

  it('E: processor switched to sandbox while a 3DS payment is in flight', async () => {
    const org = await createOrg(ctx)
    const { polar, secret } = await session(org)
    const res = await confirm(secret, { confirmation_token_id: await token('pm_card_threeDSecure2Required') })
    const intentId = (res.json().payment_processor_metadata.intent_client_secret as string).split('_secret_')[0]!
    const sw = await ctx.app.inject({ method: 'PUT', url: `/v1/organizations/${org.organizationId}/payment-settings`, headers: org.headers, payload: { processor: 'sandbox' } })
    console.log('E switch', sw.statusCode)
    fake.completeNextAction(intentId, 'succeed')
    const ev = [...fake.events].reverse().find((e) => e.type === 'payment_intent.succeeded' && (e.data.object as { id: string }).id === intentId)!
    const d = await deliver(org, ev)
    console.log('E webhook', d.statusCode, d.body)
    const poll = await polar.checkouts.clientGet({ clientSecret: secret })
    for (let i = 0; i < 14; i++) { clock.advance(3 * 3600_000); await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [RECONCILE_JOB, SETTLE_JOB] }) }
    const after = await polar.checkouts.clientGet({ clientSecret: secret })
    console.log('E', poll.status, after.status, 'PI', fake.intents.get(intentId)!.status, 'orders', (await polar.orders.list({})).result.items.length)
  })
})
