import { randomUUID } from 'node:crypto'
import http, { type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { validateEvent, WebhookVerificationError } from '@polar-sh/sdk/webhooks'
import { webhooks as webhooks1 } from 'polar-sdk-1/2026-10'
import { sql } from 'kysely'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app'
import { claimJobs, runDueJobs } from '../src/jobs/worker'
import { webhookJobHandlers, webhookRetry, WEBHOOK_JOB_KINDS } from '../src/webhooks/jobs'
import { postWebhook, RESPONSE_LOG_BYTES } from '../src/webhooks/send'
import { emitEvent, hasSubscribers, webhookSubscribedSql } from '../src/webhooks/service'
import { guardedLookup, isNonPublicAddress } from '../src/webhooks/url'
import { createOrg, createTestApp, FixedClock, isolatedDatabase, polarClient, testConfig, tokenWithScopes, type TestContext, type TestOrg } from './helpers'

// ---------------------------------------------------------------------------------------------------
// A real HTTP receiver on 127.0.0.1: every path gets its own behaviour and its own log.
// ---------------------------------------------------------------------------------------------------

interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
}
type Answer = { status: number; body?: string; headers?: Record<string, string>; hang?: boolean }

const received: Received[] = []
const behaviours = new Map<string, (n: number) => Answer>()
const hits = new Map<string, number>()
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const path = req.url ?? '/'
    const n = (hits.get(path) ?? 0) + 1
    hits.set(path, n)
    received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
    const answer = behaviours.get(path)?.(n) ?? { status: 200, body: 'ok' }
    if (answer.hang) return
    res.writeHead(answer.status, answer.headers)
    res.end(answer.body ?? '')
  })
})
let receiverBase = ''

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  receiverBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
})
afterAll(async () => {
  receiver.closeAllConnections()
  await new Promise((r) => receiver.close(r))
})

/** A fresh path on the receiver with the given behaviour (default: 200 "ok"). */
function hook(behaviour?: (n: number) => Answer): { url: string; path: string; requests: () => Received[] } {
  const path = `/hook/${randomUUID()}`
  if (behaviour) behaviours.set(path, behaviour)
  return { url: `${receiverBase}${path}`, path, requests: () => received.filter((r) => r.path === path) }
}

// ---------------------------------------------------------------------------------------------------

// Near real time: receivers check `webhook-timestamp` against their own clock (5 minutes of tolerance).
const clock = new FixedClock(new Date())

describe('webhooks', async () => {
  // A database of its own: drain() runs and counts every webhook job, and another file's endpoints on the
  // shared database (the fuzzer's, say) would keep jobs pending forever.
  const database = await isolatedDatabase()
  const ctx = await createTestApp({ clock, database, config: { webhooksAllowInsecure: true, webhookRetryBaseMs: 1 } })
  const strict = await createTestApp({ clock, database, config: { webhooksAllowInsecure: false } })
  const { app } = ctx

  const runWebhookJobs = (c: TestContext = ctx) =>
    runDueJobs(c.deps, webhookJobHandlers, { kinds: WEBHOOK_JOB_KINDS, retry: { byKind: webhookRetry(c.deps.config) }, limit: 1000 })

  const pendingJobs = async () =>
    (await ctx.deps.db.selectFrom('jobs').select('id').where('kind', 'in', WEBHOOK_JOB_KINDS).where('finished_at', 'is', null).execute()).length

  /** Runs deliveries, moving the clock past each backoff, until none is left. */
  async function drain(c: TestContext = ctx): Promise<void> {
    for (let round = 0; round < 200; round++) {
      await runWebhookJobs(c)
      if ((await pendingJobs()) === 0) return
      clock.advance(1000)
    }
    throw new Error('webhook jobs did not drain')
  }

  const createEndpoint = async (org: TestOrg, body: Record<string, unknown>) => {
    const res = await app.inject({ method: 'POST', url: '/v1/webhooks/endpoints', headers: org.headers, payload: { format: 'raw', ...body } })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as { id: string; secret: string; url: string; enabled: boolean; events: string[] }
  }

  const createProduct = async (org: TestOrg, name = 'Webhook Product') => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/products',
      headers: org.headers,
      payload: { name, prices: [{ amount_type: 'fixed', price_amount: 1500 }] },
    })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as { id: string; name: string }
  }

  const deliveries = async (org: TestOrg, endpointId: string) => {
    const res = await app.inject({ method: 'GET', url: `/v1/webhooks/deliveries?endpoint_id=${endpointId}&limit=100`, headers: org.headers })
    expect(res.statusCode, res.body).toBe(200)
    return res.json().items as Array<{
      id: string
      succeeded: boolean
      http_code: number | null
      response: string | null
      attempt: number
      duration_ms: number
      webhook_event: { id: string; type: string; payload: string; succeeded: boolean | null; skipped: boolean; last_http_code: number | null }
    }>
  }

  describe('endpoints API', () => {
    it('creates, gets, lists, updates, resets the secret of and deletes endpoints through the SDK', async () => {
      const org = await createOrg(ctx)
      const polar = await polarClient(app, org.token)
      const { url } = hook()

      const created = await polar.webhooks.createWebhookEndpoint({ url, format: 'raw', events: ['order.paid', 'checkout.created'], name: 'Orders' })
      expect(created).toMatchObject({ url, format: 'raw', events: ['order.paid', 'checkout.created'], enabled: true, name: 'Orders', organizationId: org.organizationId })
      expect(created.secret).toMatch(/^polar_whs_[A-Za-z0-9_-]{43}$/)

      // The secret is shown once: masked afterwards.
      const got = await polar.webhooks.getWebhookEndpoint({ id: created.id })
      expect(got.secret).toBe(`polar_whs_********${created.secret.slice(-4)}`)
      expect(got).toMatchObject({ id: created.id, url, events: ['order.paid', 'checkout.created'] })

      const other = await polar.webhooks.createWebhookEndpoint({ url: hook().url, format: 'raw', events: [] })
      const list = await polar.webhooks.listWebhookEndpoints({})
      expect(list.result.pagination).toEqual({ totalCount: 2, maxPage: 1 })
      expect(list.result.items.map((e) => e.id).sort()).toEqual([created.id, other.id].sort())
      expect(list.result.items.every((e) => e.secret.includes('********'))).toBe(true)

      const newUrl = hook().url
      const updated = await polar.webhooks.updateWebhookEndpoint({ id: created.id, webhookEndpointUpdate: { url: newUrl, events: ['product.created'], enabled: false } })
      expect(updated).toMatchObject({ url: newUrl, events: ['product.created'], enabled: false, name: 'Orders' })
      expect(updated.modifiedAt).not.toBeNull()
      const renamed = await polar.webhooks.updateWebhookEndpoint({ id: created.id, webhookEndpointUpdate: { name: null } })
      expect(renamed).toMatchObject({ url: newUrl, name: null, enabled: false })

      const reset = await polar.webhooks.resetWebhookEndpointSecret({ id: created.id })
      expect(reset.secret).toMatch(/^polar_whs_/)
      expect(reset.secret).not.toBe(created.secret)
      expect(reset.secret).not.toContain('*')

      await polar.webhooks.deleteWebhookEndpoint({ id: created.id })
      const gone = await app.inject({ method: 'GET', url: `/v1/webhooks/endpoints/${created.id}`, headers: org.headers })
      expect(gone.statusCode).toBe(404)
      expect(gone.json()).toEqual({ error: 'ResourceNotFound', detail: 'Not found' })
      expect((await polar.webhooks.listWebhookEndpoints({})).result.items.map((e) => e.id)).toEqual([other.id])
    })

    const strictCases: [string, string, number, string?][] = [
      ['http to a public host', 'http://93.184.215.14/hook', 422, 'url_scheme'],
      ['https to a loopback address', 'https://127.0.0.1/hook', 422, 'value_error'],
      ['https to localhost', 'https://localhost/hook', 422, 'value_error'],
      ['https to a private address', 'https://10.1.2.3/hook', 422, 'value_error'],
      ['https to the metadata service', 'https://169.254.169.254/latest/meta-data', 422, 'value_error'],
      ['https to IPv6 loopback', 'https://[::1]/hook', 422, 'value_error'],
      ['https to an IPv4-mapped private address', 'https://[::ffff:192.168.0.1]/hook', 422, 'value_error'],
      ['https to an obfuscated loopback address', 'https://2130706433/hook', 422, 'value_error'],
      ['https to the metadata service, octal', 'https://0251.0376.0251.0376/', 422, 'value_error'],
      ['https to IPv4-mapped metadata, hex', 'https://[::ffff:a9fe:a9fe]/', 422, 'value_error'],
      ['https to Teredo', 'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 422, 'value_error'],
      ['https to local NAT64', 'https://[64:ff9b:1::a00:1]/', 422, 'value_error'],
      ['a host that does not exist', 'https://no-such-host.invalid/hook', 422, 'value_error'],
      ['javascript:', 'javascript:alert(1)', 422, 'url_scheme'],
      ['data:', 'data:text/plain,hi', 422, 'url_scheme'],
      ['ftp:', 'ftp://example.com/x', 422, 'url_scheme'],
      ['protocol-relative', '//example.com/hook', 422, 'url_parsing'],
      ['https to a public address', 'https://93.184.215.14/hook', 201],
    ]
    it.each(strictCases)('without WEBHOOKS_ALLOW_INSECURE: %s → %i', async (_name, url, status, type) => {
      const org = await createOrg(strict)
      const res = await strict.app.inject({ method: 'POST', url: '/v1/webhooks/endpoints', headers: org.headers, payload: { url, format: 'raw', events: [] } })
      expect(res.statusCode, res.body).toBe(status)
      if (status === 422) {
        expect(res.json()).toEqual({ error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'url'], msg: expect.any(String), type, input: url }] })
      }
    })

    const insecureCases: [string, string, number][] = [
      ['http to 127.0.0.1', 'http://127.0.0.1:9/hook', 201],
      ['http to localhost', 'http://localhost:9/hook', 201],
      ['http to [::1]', 'http://[::1]:9/hook', 201],
      ['https to a private address', 'https://10.1.2.3/hook', 201],
      ['http to a private address', 'http://192.168.1.10/hook', 201],
      ['https to the metadata service', 'https://169.254.169.254/latest/meta-data', 422],
      ['http to the metadata service, decimal', 'http://2852039166/', 422],
      ['http to the metadata service, hex', 'http://0xa9.0xfe.0xa9.0xfe/', 422],
      ['http to the metadata service, octal', 'http://0251.0376.0251.0376/', 422],
      ['https to IPv4-mapped metadata, hex', 'https://[::ffff:a9fe:a9fe]/', 422],
      ['https to AWS IPv6 metadata', 'https://[fd00:ec2::254]/', 422],
      ['https to link-local IPv6', 'https://[fe80::1]/', 422],
      ['https to NAT64 metadata', 'https://[64:ff9b::a9fe:a9fe]/', 422],
      ['https to 6to4 metadata', 'https://[2002:a9fe:a9fe::]/', 422],
      ['https to Teredo', 'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 422],
      ['http to a public host', 'http://93.184.215.14/hook', 422],
      ['javascript:', 'javascript:alert(1)', 422],
    ]
    it.each(insecureCases)('with WEBHOOKS_ALLOW_INSECURE: %s → %i', async (_name, url, status) => {
      const org = await createOrg(ctx)
      const res = await app.inject({ method: 'POST', url: '/v1/webhooks/endpoints', headers: org.headers, payload: { url, format: 'raw', events: [] } })
      expect(res.statusCode, res.body).toBe(status)
    })

    it('refuses other bad bodies in Polar’s 422 format', async () => {
      const org = await createOrg(ctx)
      const post = (payload: object) => app.inject({ method: 'POST', url: '/v1/webhooks/endpoints', headers: org.headers, payload })
      const url = hook().url

      const missing = await post({ format: 'raw', events: [] })
      expect(missing.statusCode).toBe(422)
      expect(missing.json().detail).toEqual([expect.objectContaining({ loc: ['body', 'url'], type: 'missing' })])

      const discord = await post({ url, format: 'discord', events: [] })
      expect(discord.statusCode).toBe(422)
      expect(discord.json().detail).toEqual([expect.objectContaining({ loc: ['body', 'format'], type: 'literal_error' })])

      const badEvent = await post({ url, format: 'raw', events: ['order.paid', 'order.exploded'] })
      expect(badEvent.statusCode).toBe(422)
      expect(badEvent.json().detail).toEqual([expect.objectContaining({ loc: ['body', 'events', 1], type: 'enum' })])

      // Polar's other event types are accepted (never sent); duplicates collapse; server-owned fields are ignored.
      const ok = await post({ url, format: 'raw', events: ['order.refunded', 'order.paid', 'order.paid'], secret: 'mine', enabled: false, id: randomUUID() })
      expect(ok.statusCode).toBe(201)
      expect(ok.json()).toMatchObject({ events: ['order.refunded', 'order.paid'], enabled: true })
      expect(ok.json().secret).not.toBe('mine')

      const foreignOrg = await post({ url, format: 'raw', events: [], organization_id: randomUUID() })
      expect(foreignOrg.statusCode).toBe(422)

      const badUpdate = await app.inject({ method: 'PATCH', url: `/v1/webhooks/endpoints/${ok.json().id}`, headers: org.headers, payload: { url: 'javascript:alert(1)' } })
      expect(badUpdate.statusCode).toBe(422)
      expect(badUpdate.json().detail[0]).toMatchObject({ loc: ['body', 'url'], type: 'url_scheme' })
    })

    it('checks scopes and keeps organizations apart', async () => {
      const org = await createOrg(ctx)
      const intruder = await createOrg(ctx)
      const endpoint = await createEndpoint(org, { url: hook().url, events: ['product.created'] })
      await createProduct(org)
      await drain()
      const eventId = (await deliveries(org, endpoint.id))[0]!.webhook_event.id

      const routes: [string, string, object?][] = [
        ['GET', '/v1/webhooks/endpoints'],
        ['POST', '/v1/webhooks/endpoints', { url: hook().url, format: 'raw', events: [] }],
        ['GET', `/v1/webhooks/endpoints/${endpoint.id}`],
        ['PATCH', `/v1/webhooks/endpoints/${endpoint.id}`, { name: 'x' }],
        ['PATCH', `/v1/webhooks/endpoints/${endpoint.id}/secret`],
        ['DELETE', `/v1/webhooks/endpoints/${endpoint.id}`],
        ['GET', `/v1/webhooks/deliveries?endpoint_id=${endpoint.id}`],
        ['POST', `/v1/webhooks/events/${eventId}/redeliver`],
      ]
      const readOnly = await tokenWithScopes(ctx, org.organizationId, ['webhooks:read'])
      const noWebhooks = await tokenWithScopes(ctx, org.organizationId, ['products:read', 'products:write'])
      for (const [method, url, payload] of routes) {
        const send = (headers: Record<string, string>) => app.inject({ method: method as 'GET', url, headers, ...(payload ? { payload } : {}) })
        const anonymous = await send({})
        expect(anonymous.statusCode, `${method} ${url}`).toBe(401)
        expect(anonymous.json()).toMatchObject({ error: 'Unauthorized' })
        const missing = await send(noWebhooks)
        expect(missing.statusCode, `${method} ${url}`).toBe(403)
        expect(missing.json()).toMatchObject({ error: 'NotPermitted' })
        const ro = await send(readOnly)
        expect(ro.statusCode, `${method} ${url} with webhooks:read`).toBe(method === 'GET' ? 200 : 403)
      }

      // Another organization sees nothing of it.
      for (const [method, url, payload] of routes.slice(2)) {
        const res = await app.inject({ method: method as 'GET', url, headers: intruder.headers, ...(payload ? { payload } : {}) })
        if (url.startsWith('/v1/webhooks/deliveries')) {
          expect(res.statusCode).toBe(200)
          expect(res.json()).toEqual({ items: [], pagination: { total_count: 0, max_page: 0 } })
        } else {
          expect(res.statusCode, `${method} ${url}`).toBe(404)
          expect(res.json()).toEqual({ error: 'ResourceNotFound', detail: 'Not found' })
        }
      }
      const theirs = await app.inject({ method: 'GET', url: '/v1/webhooks/endpoints', headers: intruder.headers })
      expect(theirs.json().items).toEqual([])
      const listedByOrg = await app.inject({ method: 'GET', url: `/v1/webhooks/endpoints?organization_id=${intruder.organizationId}`, headers: org.headers })
      expect(listedByOrg.json().items).toEqual([])
      expect(await pendingJobs()).toBe(0)
    })
  })

  describe('delivery', () => {
    it('delivers product.created, signed so that validateEvent and standardwebhooks verify it', async () => {
      const org = await createOrg(ctx)
      const target = hook()
      const endpoint = await createEndpoint(org, { url: target.url, events: ['product.created', 'product.updated'] })
      const product = await createProduct(org, 'Signed Product')
      await app.inject({ method: 'PATCH', url: `/v1/products/${product.id}`, headers: org.headers, payload: { name: 'Signed Product 2' } })
      expect(target.requests()).toHaveLength(0) // nothing is sent on the request path
      await drain()

      // Per-endpoint ordering is not promised: the two may arrive either way round.
      expect(target.requests()).toHaveLength(2)
      const byType = (type: string) => target.requests().find((r) => JSON.parse(r.body).type === type)
      const [created, updated] = [byType('product.created'), byType('product.updated')]
      expect(created!.headers['content-type']).toBe('application/json')
      const headers = (r: Received) => ({
        'webhook-id': String(r.headers['webhook-id']),
        'webhook-timestamp': String(r.headers['webhook-timestamp']),
        'webhook-signature': String(r.headers['webhook-signature']),
      })

      const event = validateEvent(created!.body, headers(created!), endpoint.secret)
      expect(event.type).toBe('product.created')
      if (event.type !== 'product.created') throw new Error('unreachable')
      expect(event.data).toMatchObject({ id: product.id, name: 'Signed Product', organizationId: org.organizationId })
      expect(event.data.prices[0]).toMatchObject({ amountType: 'fixed', priceAmount: 1500 })
      const second = validateEvent(updated!.body, headers(updated!), endpoint.secret)
      expect(second).toMatchObject({ type: 'product.updated', data: { id: product.id, name: 'Signed Product 2' } })
      // SDK 1.x: `webhooks.validateEvent` from the version module, async, snake_case payload
      const one = await webhooks1.validateEvent(created!.body, headers(created!), endpoint.secret)
      expect(one).toMatchObject({ type: 'product.created', data: { id: product.id, organization_id: org.organizationId } })
      await expect(webhooks1.validateEvent(created!.body, headers(created!), 'whsec_wrong')).rejects.toBeInstanceOf(webhooks1.PolarWebhookVerificationError)

      // The same with the Standard Webhooks library: the key is the secret's UTF-8 bytes, base64-encoded.
      const wh = new Webhook(Buffer.from(endpoint.secret, 'utf8').toString('base64'))
      const raw = wh.verify(created!.body, headers(created!)) as { type: string; timestamp: string; data: { id: string } }
      expect(raw).toMatchObject({ type: 'product.created', timestamp: expect.any(String), data: { id: product.id } })
      // Polar's order, with the endpoint's API version (the current one: 0.49.0 sends no Polar-Version).
      expect(Object.keys(raw)).toEqual(['type', 'timestamp', 'api_version', 'data'])
      expect(raw).toMatchObject({ api_version: '2026-04' })

      // A wrong secret or a tampered body does not verify.
      expect(() => validateEvent(created!.body, headers(created!), 'polar_whs_wrong')).toThrow(WebhookVerificationError)
      expect(() => validateEvent(created!.body.replace('Signed', 'Forged'), headers(created!), endpoint.secret)).toThrow(WebhookVerificationError)

      // webhook-id is the event's id in the delivery log.
      const log = await deliveries(org, endpoint.id)
      expect(log.map((d) => d.webhook_event.id).sort()).toEqual([headers(created!)['webhook-id'], headers(updated!)['webhook-id']].sort())
    })

    it('retries a receiver answering 500 twice and delivers on the third attempt with the same webhook-id', async () => {
      const org = await createOrg(ctx)
      const target = hook((n) => (n <= 2 ? { status: 500, body: `boom ${n}` } : { status: 204 }))
      const endpoint = await createEndpoint(org, { url: target.url, events: ['product.created'] })
      await createProduct(org)

      expect(await runWebhookJobs()).toBe(1)
      expect(target.requests()).toHaveLength(1)
      expect(await runWebhookJobs()).toBe(0) // backing off
      await drain()

      const requests = target.requests()
      expect(requests).toHaveLength(3)
      const ids = new Set(requests.map((r) => r.headers['webhook-id']))
      expect(ids.size).toBe(1)
      expect(new Set(requests.map((r) => r.body)).size).toBe(1)

      const log = await deliveries(org, endpoint.id)
      expect(log.map((d) => [d.attempt, d.http_code, d.succeeded, d.response])).toEqual([
        [3, 204, true, ''],
        [2, 500, false, 'boom 2'],
        [1, 500, false, 'boom 1'],
      ])
      expect(log.every((d) => d.webhook_event.id === [...ids][0] && d.webhook_event.succeeded === true && d.webhook_event.last_http_code === 204)).toBe(true)
      expect(log.every((d) => Number.isInteger(d.duration_ms) && d.duration_ms >= 0)).toBe(true)
    })

    it('counts redirects and unreachable endpoints as failures, and logs at most 2 KB of a response', async () => {
      const org = await createOrg(ctx)
      const elsewhere = hook()
      const redirect = hook(() => ({ status: 302, headers: { location: elsewhere.url }, body: 'moved' }))
      const big = hook(() => ({ status: 400, body: 'é'.repeat(3000) }))
      const closed = await new Promise<string>((resolve) => {
        const s = http.createServer()
        s.listen(0, '127.0.0.1', () => {
          const { port } = s.address() as AddressInfo
          s.close(() => resolve(`http://127.0.0.1:${port}/gone`))
        })
      })
      const r = await createEndpoint(org, { url: redirect.url, events: ['product.created'] })
      const b = await createEndpoint(org, { url: big.url, events: ['product.created'] })
      const c = await createEndpoint(org, { url: closed, events: ['product.created'] })
      await createProduct(org)
      await runWebhookJobs()

      const [rLog] = await deliveries(org, r.id)
      expect(rLog).toMatchObject({ succeeded: false, http_code: 302, response: 'moved', attempt: 1 })
      expect(elsewhere.requests()).toHaveLength(0)
      const [bLog] = await deliveries(org, b.id)
      expect(bLog).toMatchObject({ succeeded: false, http_code: 400 })
      expect(Buffer.byteLength(bLog!.response!, 'utf8')).toBeLessThanOrEqual(RESPONSE_LOG_BYTES + 2)
      expect(bLog!.response!.startsWith('éé')).toBe(true)
      const [cLog] = await deliveries(org, c.id)
      expect(cLog).toMatchObject({ succeeded: false, http_code: null, response: expect.stringContaining('ECONNREFUSED') })

      // Leave nothing behind for the other tests.
      await app.inject({ method: 'DELETE', url: `/v1/webhooks/endpoints/${r.id}`, headers: org.headers })
      await app.inject({ method: 'DELETE', url: `/v1/webhooks/endpoints/${b.id}`, headers: org.headers })
      await app.inject({ method: 'DELETE', url: `/v1/webhooks/endpoints/${c.id}`, headers: org.headers })
      await drain()
      const skipped = await deliveries(org, r.id)
      expect(skipped).toHaveLength(1)
      expect(skipped[0]!.webhook_event).toMatchObject({ skipped: true })
    })

    it('gives up on a receiver that does not answer within the timeout', async () => {
      const target = hook(() => ({ status: 200, hang: true }))
      const result = await postWebhook(target.url, '{}', {}, { allowInsecure: true, timeoutMs: 200 })
      expect(result).toMatchObject({ ok: false, status: null, error: 'Timed out after 0.2 s' })
      expect(result.durationMs).toBeGreaterThanOrEqual(150)
    })

    it('sends nothing for an event emitted in a transaction that rolls back', async () => {
      const org = await createOrg(ctx)
      const target = hook()
      await createEndpoint(org, { url: target.url, events: ['checkout_link.created', 'product.created'] })
      await expect(
        ctx.deps.db.transaction().execute(async (tx) => {
          await emitEvent(tx, { organizationId: org.organizationId, type: 'checkout_link.created', data: { id: randomUUID() }, now: clock.now() })
          throw new Error('the change failed')
        }),
      ).rejects.toThrow('the change failed')
      // A product create that fails validation inside its transaction emits nothing either.
      const bad = await app.inject({
        method: 'POST',
        url: '/v1/products',
        headers: org.headers,
        payload: { name: 'Bad', prices: [{ amount_type: 'fixed', price_amount: 100 }], attached_custom_fields: [{ custom_field_id: randomUUID(), required: true }] },
      })
      expect(bad.statusCode).toBe(422)
      expect(await pendingJobs()).toBe(0)
      await drain()
      expect(target.requests()).toHaveLength(0)
      const events = await ctx.deps.db.selectFrom('webhook_events').select('id').where('organization_id', '=', org.organizationId).execute()
      expect(events).toEqual([])
    })

    it('writes nothing when no endpoint listens, and only sends the subscribed events', async () => {
      const org = await createOrg(ctx)
      await createProduct(org)
      const none = await ctx.deps.db.selectFrom('webhook_events').select('id').where('organization_id', '=', org.organizationId).execute()
      expect(none).toEqual([])
      expect(await hasSubscribers(ctx.deps.db, org.organizationId, 'product.created')).toBe(false)

      const onlyCreated = hook()
      const onlyUpdated = hook()
      const both = hook()
      const nothing = hook()
      await createEndpoint(org, { url: onlyCreated.url, events: ['product.created'] })
      await createEndpoint(org, { url: onlyUpdated.url, events: ['product.updated'] })
      await createEndpoint(org, { url: both.url, events: ['product.updated', 'product.created'] })
      await createEndpoint(org, { url: nothing.url, events: [] })
      const disabled = hook()
      const d = await createEndpoint(org, { url: disabled.url, events: ['product.created'] })
      await app.inject({ method: 'PATCH', url: `/v1/webhooks/endpoints/${d.id}`, headers: org.headers, payload: { enabled: false } })
      expect(await hasSubscribers(ctx.deps.db, org.organizationId, 'product.created')).toBe(true)
      expect(await hasSubscribers(ctx.deps.db, org.organizationId, 'order.paid')).toBe(false)
      // The same test folded into a query a hot path makes anyway.
      const folded = await ctx.deps.db
        .selectFrom('organizations as o')
        .select([
          webhookSubscribedSql(sql.ref('o.id'), 'product.created').as('created'),
          webhookSubscribedSql(sql.ref('o.id'), 'checkout.created').as('checkout'),
        ])
        .where('o.id', '=', org.organizationId)
        .executeTakeFirstOrThrow()
      expect(folded).toEqual({ created: true, checkout: false })

      const p = await createProduct(org)
      await app.inject({ method: 'PATCH', url: `/v1/products/${p.id}`, headers: org.headers, payload: { description: 'now with text' } })
      // Lazy data: built only when some endpoint listens.
      let built = 0
      await emitEvent(ctx.deps.db, { organizationId: org.organizationId, type: 'order.paid', data: () => (built++, {}), now: clock.now() })
      expect(built).toBe(0)
      await drain()

      const types = (t: { requests: () => Received[] }) => t.requests().map((r) => JSON.parse(r.body).type)
      expect(types(onlyCreated)).toEqual(['product.created'])
      expect(types(onlyUpdated)).toEqual(['product.updated'])
      expect(types(both).sort()).toEqual(['product.created', 'product.updated'])
      expect(types(nothing)).toEqual([])
      expect(types(disabled)).toEqual([])
    })

    it('delivers Kassa’s own checkout_link events: signed the same way, unknown to the SDK’s parser', async () => {
      const org = await createOrg(ctx)
      const target = hook()
      const endpoint = await createEndpoint(org, { url: target.url, events: ['checkout_link.deleted'] })
      const data = { id: randomUUID(), label: 'Spring sale' }
      const at = clock.now()
      await ctx.deps.db.transaction().execute((tx) => emitEvent(tx, { organizationId: org.organizationId, type: 'checkout_link.deleted', data, now: at }))
      await drain()
      const [req] = target.requests()
      expect(JSON.parse(req!.body)).toEqual({ type: 'checkout_link.deleted', timestamp: at.toISOString(), api_version: '2026-04', data })
      const wh = new Webhook(Buffer.from(endpoint.secret).toString('base64'))
      expect(wh.verify(req!.body, req!.headers as Record<string, string>)).toMatchObject({ type: 'checkout_link.deleted', data })
      expect(() => validateEvent(req!.body, req!.headers as Record<string, string>, endpoint.secret)).toThrow(/Failed to parse event/)
    })
  })

  describe('durability', () => {
    it('delivers events written before a restart after it, including one whose worker died mid-delivery', async () => {
      // Two app instances on the same database, one after the other, as across a restart.
      const config = testConfig({ webhooksAllowInsecure: true, webhookRetryBaseMs: 1 })
      const boot = async () => {
        const instance = await buildApp({ config, database, clock, logger: false })
        await instance.ready()
        return { app: instance, deps: { db: database.db, clock, config }, database, clock } satisfies TestContext
      }
      const before = await boot()
      const org = await createOrg(before)
      const target = hook()
      await before.app.inject({ method: 'POST', url: '/v1/webhooks/endpoints', headers: org.headers, payload: { url: target.url, format: 'raw', events: ['product.created'] } })
      for (const name of ['Before Restart 1', 'Before Restart 2', 'Before Restart 3']) {
        const res = await before.app.inject({ method: 'POST', url: '/v1/products', headers: org.headers, payload: { name, prices: [{ amount_type: 'fixed', price_amount: 100 }] } })
        expect(res.statusCode).toBe(201)
      }
      // One delivery is claimed by a worker that then "crashes" before sending.
      const [claimed] = await claimJobs(before.deps.db, { now: clock.now(), limit: 1, lockMs: 25_000, kinds: WEBHOOK_JOB_KINDS })
      expect(claimed).toBeDefined()
      await before.app.close()

      const after = await boot()
      await runDueJobs(after.deps, webhookJobHandlers, { kinds: WEBHOOK_JOB_KINDS })
      expect(target.requests()).toHaveLength(2)
      clock.advance(26_000) // the dead worker's claim runs out
      await drain(after)
      const names = target.requests().map((r) => JSON.parse(r.body).data.name).sort()
      expect(names).toEqual(['Before Restart 1', 'Before Restart 2', 'Before Restart 3'])
      expect(new Set(target.requests().map((r) => r.headers['webhook-id'])).size).toBe(3)
      await after.app.close()
    })

    it('disables an endpoint after 10 consecutive failed events; a success resets the count; it can be re-enabled', async () => {
      const org = await createOrg(ctx)
      let failing = true
      const target = hook(() => (failing ? { status: 503 } : { status: 200 }))
      const endpoint = await createEndpoint(org, { url: target.url, events: ['order.paid'] })
      const emit = (n: number) =>
        ctx.deps.db.transaction().execute(async (tx) => {
          for (let i = 0; i < n; i++) await emitEvent(tx, { organizationId: org.organizationId, type: 'order.paid', data: { i }, now: clock.now() })
        })
      const state = () => ctx.deps.db.selectFrom('webhook_endpoints').select(['enabled', 'consecutive_failures']).where('id', '=', endpoint.id).executeTakeFirstOrThrow()

      await emit(9)
      await drain()
      expect(target.requests()).toHaveLength(90) // 9 events × 10 attempts
      expect(await state()).toEqual({ enabled: true, consecutive_failures: 9 })

      failing = false
      await emit(1)
      await drain()
      expect(await state()).toEqual({ enabled: true, consecutive_failures: 0 })

      failing = true
      await emit(10)
      await drain()
      expect(await state()).toEqual({ enabled: false, consecutive_failures: 10 })
      const polar = await polarClient(app, org.token)
      expect((await polar.webhooks.getWebhookEndpoint({ id: endpoint.id })).enabled).toBe(false)

      // Disabled: new events are not even queued.
      const sent = target.requests().length
      await emit(1)
      expect(await pendingJobs()).toBe(0)
      await drain()
      expect(target.requests()).toHaveLength(sent)

      failing = false
      const enabled = await polar.webhooks.updateWebhookEndpoint({ id: endpoint.id, webhookEndpointUpdate: { enabled: true } })
      expect(enabled.enabled).toBe(true)
      expect(await state()).toEqual({ enabled: true, consecutive_failures: 0 })
      await emit(1)
      await drain()
      expect(target.requests()).toHaveLength(sent + 1)
      expect(target.requests().at(-1)!.body).toContain('"order.paid"')
    })

    it('refuses at delivery time a URL that is no longer allowed', async () => {
      const org = await createOrg(ctx)
      const target = hook()
      const endpoint = await createEndpoint(org, { url: target.url, events: ['product.created'] })
      await createProduct(org)
      // The same database, but a server that does not allow insecure webhooks.
      await runDueJobs(strict.deps, webhookJobHandlers, { kinds: WEBHOOK_JOB_KINDS })
      expect(target.requests()).toHaveLength(0)
      const [log] = await deliveries(org, endpoint.id)
      expect(log).toMatchObject({ succeeded: false, http_code: null, response: expect.stringContaining('URL refused') })
      await drain()
      expect(target.requests()).toHaveLength(1)
    })
  })

  describe('delivery log and redelivery', () => {
    it('lists deliveries through the SDK, filters them, and redelivers an event with the same webhook-id', async () => {
      const org = await createOrg(ctx)
      const target = hook((n) => (n === 1 ? { status: 500, body: 'x'.repeat(5000) } : { status: 200, body: '{"ok":true}' }))
      const endpoint = await createEndpoint(org, { url: target.url, events: ['product.created', 'product.updated'] })
      const product = await createProduct(org)
      await drain()
      clock.advance(1000)
      await app.inject({ method: 'PATCH', url: `/v1/products/${product.id}`, headers: org.headers, payload: { name: 'Renamed' } })
      await drain()

      const polar = await polarClient(app, org.token)
      const page = await polar.webhooks.listWebhookDeliveries({ endpointId: endpoint.id })
      expect(page.result.pagination).toEqual({ totalCount: 3, maxPage: 1 })
      const [updated, created2, created1] = page.result.items
      expect(created1).toMatchObject({ succeeded: false, httpCode: 500, webhookEvent: { type: 'product.created', succeeded: true, skipped: false, isArchived: false } })
      expect(created1!.response).toHaveLength(RESPONSE_LOG_BYTES)
      expect(created2).toMatchObject({ succeeded: true, httpCode: 200, response: '{"ok":true}' })
      expect(updated).toMatchObject({ succeeded: true, httpCode: 200, webhookEvent: { type: 'product.updated', lastHttpCode: 200 } })
      expect(JSON.parse(updated!.webhookEvent.payload!)).toMatchObject({ type: 'product.updated', data: { id: product.id, name: 'Renamed' } })

      const only = async (q: string) => (await app.inject({ method: 'GET', url: `/v1/webhooks/deliveries?endpoint_id=${endpoint.id}&${q}`, headers: org.headers })).json().items.length
      expect(await only('succeeded=false')).toBe(1)
      expect(await only('http_code_class=5xx')).toBe(1)
      expect(await only('http_code_class=2xx')).toBe(2)
      expect(await only('event_type=product.updated')).toBe(1)
      expect(await only('query=Renamed')).toBe(1)
      expect(await only(`start_timestamp=${encodeURIComponent(new Date(clock.now().getTime() + 60_000).toISOString())}`)).toBe(0)
      expect((await polar.webhooks.listWebhookDeliveries({ endpointId: endpoint.id, limit: 1, page: 2 })).result.items[0]!.id).toBe(created2!.id)

      // Redeliver the created event: the same webhook-id and body, a new attempt in the log.
      const eventId = created1!.webhookEvent.id
      const firstBody = target.requests().find((r) => r.headers['webhook-id'] === eventId)!.body
      await polar.webhooks.redeliverWebhookEvent({ id: eventId })
      await drain()
      const again = target.requests().filter((r) => r.headers['webhook-id'] === eventId)
      expect(again).toHaveLength(3)
      expect(again.at(-1)!.body).toBe(firstBody)
      const validated = validateEvent(again.at(-1)!.body, again.at(-1)!.headers as Record<string, string>, endpoint.secret)
      expect(validated.type).toBe('product.created')
      const log = await deliveries(org, endpoint.id)
      expect(log[0]).toMatchObject({ attempt: 3, succeeded: true, webhook_event: { id: eventId } })

      const unknown = await app.inject({ method: 'POST', url: `/v1/webhooks/events/${randomUUID()}/redeliver`, headers: org.headers })
      expect(unknown.statusCode).toBe(404)
    })
  })

  it('refuses non-public addresses at connection time', async () => {
    for (const a of ['127.0.0.1', '10.0.0.1', '172.20.1.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '64:ff9b::a00:1']) {
      expect(isNonPublicAddress(a), a).toBe(true)
    }
    for (const a of ['93.184.215.14', '1.1.1.1', '2606:4700:4700::1111', '64:ff9b::101:101']) expect(isNonPublicAddress(a), a).toBe(false)
    const lookup = guardedLookup('public')
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => lookup('localhost', {}, (e) => resolve(e)))
    expect(err?.code).toBe('EADDRNOTALLOWED')
  })
})
