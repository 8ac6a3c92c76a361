import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { startBackgroundWork } from '../src/background'
import type { JobLog } from '../src/jobs/worker'
import { createOrg, createTestApp, type TestContext } from './helpers'

/**
 * Issue 10, "payments first": settlement never waits behind webhook deliveries, and one slow endpoint
 * cannot hold the worker. Kassa's own background work (src/background.ts, as main.ts starts it) runs
 * against a receiver that holds every request for seconds, with hundreds of deliveries queued for it.
 */

const HOLD_MS = 4_000

/** A receiver that answers 204 after `holdMs`, and records how many requests it held at once, per path. */
async function receiver(holdMs: number) {
  const inFlight = new Map<string, number>()
  const maxInFlight = new Map<string, number>()
  const got = new Map<string, string[]>()
  const server = http.createServer((req, res) => {
    const path = req.url ?? ''
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const n = (inFlight.get(path) ?? 0) + 1
      inFlight.set(path, n)
      maxInFlight.set(path, Math.max(maxInFlight.get(path) ?? 0, n))
      const answer = () => {
        inFlight.set(path, (inFlight.get(path) ?? 1) - 1)
        got.set(path, [...(got.get(path) ?? []), JSON.parse(Buffer.concat(chunks).toString('utf8')).type])
        if (!res.destroyed) res.writeHead(204).end()
      }
      if (holdMs > 0) setTimeout(answer, holdMs).unref()
      else answer()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })
  const port = (server.address() as AddressInfo).port
  return { url: (path: string) => `http://127.0.0.1:${port}${path}`, maxInFlight, got }
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function shop(ctx: TestContext, hookUrl: string, events: string[]) {
  const org = await createOrg(ctx, 'Busy Shop')
  const post = async (url: string, payload: Record<string, unknown>) => {
    const res = await ctx.app.inject({ method: 'POST', url, headers: org.headers, payload })
    expect(res.statusCode, res.body).toBe(201)
    return res.json()
  }
  await post('/v1/webhooks/endpoints', { url: hookUrl, format: 'raw', events })
  const product = await post('/v1/products/', { name: 'Ticket', prices: [{ amount_type: 'fixed', price_amount: 1500 }] })
  const link = await post('/v1/checkout-links/', { payment_processor: 'stripe', products: [product.id] })
  return { org, link: link as { id: string; client_secret: string } }
}

describe('payments first', async () => {
  // Its own database: it runs the whole worker, which would take other files' jobs on a shared one.
  const ctx = await createTestApp({ isolated: true, config: { webhooksAllowInsecure: true, webhookRetryBaseMs: 600_000 } })
  const slow = await receiver(HOLD_MS)
  const fast = await receiver(0)
  const errors: unknown[] = []
  const log: JobLog = { info() {}, warn() {}, error: (obj: unknown) => void errors.push(obj) }

  it('a payment settles while a slow endpoint has hundreds of deliveries queued, which it gets at most two at a time', async () => {
    const deps = ctx.app.deps
    // A shop whose endpoint answers after 4 s, subscribed to checkout.created: every visit queues a delivery.
    const busy = await shop(ctx, slow.url('/busy'), ['checkout.created'])
    const BACKLOG = 300
    for (let i = 0; i < BACKLOG; i++) {
      const visit = await ctx.app.inject({ method: 'GET', url: `/buy/${busy.link.client_secret}?reference_id=v${i}` })
      expect(visit.statusCode).toBe(307)
    }
    // Another shop, with a fast endpoint, sells something while that backlog is being worked through.
    const other = await shop(ctx, fast.url('/other'), ['order.paid'])
    const pendingOf = async (url: string) =>
      Number(
        (
          await sql<{ n: string }>`
            select count(*) as n from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
            where e.url = ${url} and d.status = 'pending'`.execute(deps.db)
        ).rows[0]!.n,
      )
    expect(await pendingOf(slow.url('/busy'))).toBe(BACKLOG)

    const worker = startBackgroundWork(deps, log, { pollMs: 50 })
    deps.wakeWorker = () => worker.wake()
    try {
      // The worker is busy with the backlog (its delivery lane holds the slow endpoint's requests).
      await until(() => (slow.maxInFlight.get('/busy') ?? 0) >= 2, 10_000, 'the slow endpoint to be called')

      const visit = await ctx.app.inject({ method: 'GET', url: `/buy/${other.link.client_secret}?customer_email=buyer@example.com` })
      const secret = /\/checkout\/(polar_c_[A-Za-z0-9_-]+)/.exec(visit.headers.location as string)![1]!
      const confirm = await ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${secret}/confirm`, payload: { confirmation_token_id: 'tok_sandbox_success' } })
      expect(confirm.statusCode, confirm.body).toBe(200)
      const paidOrders = async () =>
        Number((await sql<{ n: string }>`select count(*) as n from orders where organization_id = ${other.org.organizationId} and status = 'paid'`.execute(deps.db)).rows[0]!.n)
      await until(async () => (await paidOrders()) === 1, 10_000, 'the payment to settle')
      // Its order.paid reaches the other shop's endpoint too: the slow endpoint holds its own slots only.
      await until(() => (fast.got.get('/other') ?? []).includes('order.paid'), 10_000, "the other shop's order.paid")

      // Settlement and that delivery did not wait for the backlog: almost all of it is still queued.
      expect(await pendingOf(slow.url('/busy'))).toBeGreaterThan(BACKLOG - 20)
      // And the slow endpoint never had more than WEBHOOK_ENDPOINT_CONCURRENCY (2) requests at once.
      expect(deps.config.webhookEndpointConcurrency).toBe(2)
      expect(slow.maxInFlight.get('/busy')).toBe(2)
    } finally {
      await worker.stop()
    }
    expect(errors).toEqual([])
  })
})
