import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll } from 'vitest'
import { sql } from 'kysely'
import { checkoutJobHandlers, SETTLE_JOB } from '../../src/checkouts/jobs'
import type { Config } from '../../src/config'
import { DEFAULT_LOCK_MS, runJob } from '../../src/jobs/worker'
import type { Clock } from '../../src/lib/clock'
import { createOrg, createTestApp, type TestContext, type TestOrg } from '../helpers'

/** A port the OS just handed out and released (the app listens on it right after). */
async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const { port } = s.address() as AddressInfo
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

export interface E2EApp extends TestContext {
  /** `http://127.0.0.1:<port>`: the app's PUBLIC_URL, so its redirects stay on this origin. */
  base: string
  settlement: Settlement
  /** A fresh organization whose settlement jobs this app runs. */
  createOrg(name?: string): Promise<TestOrg>
}

/**
 * Settlement in place of the background worker: the app's `wakeWorker` (called after every
 * confirm) runs the settlement jobs at once, so a polling page sees `succeeded` shortly after
 * paying. `auto = false` leaves them queued until `run()` (to look at the processing state).
 *
 * Only the jobs of this app's organizations are run, through the worker's own `runJob`: the test
 * database is shared with other files (and, on PostgreSQL, with other workers at the same time), and
 * their settlement jobs are theirs to run, on their clocks.
 */
export interface Settlement {
  auto: boolean
  /** Claims and runs the due settlement jobs of this app's organizations; returns how many ran. */
  run(): Promise<number>
  /** Waits for settlements started by `wakeWorker`. */
  idle(): Promise<void>
}

/**
 * The real app on a loopback port with PUBLIC_URL pointing at it, on the shared test database.
 * Call it while collecting a describe block (it registers its own `afterAll`).
 */
export async function startE2EApp(opts: { clock?: Clock; config?: Partial<Config> } = {}): Promise<E2EApp> {
  let lastError: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const ctx = await createTestApp({ clock: opts.clock, config: { publicUrl: base, linkBaseUrl: `${base}/buy`, ...opts.config } })
    try {
      await ctx.app.listen({ port, host: '127.0.0.1' })
    } catch (err) {
      // Someone took the port between freePort() and listen(): try another.
      lastError = err
      continue
    }
    const orgs = new Set<string>()
    const deps = ctx.deps
    async function run(): Promise<number> {
      if (orgs.size === 0) return 0
      const now = deps.clock.now()
      // The claim as the worker makes it (lock + attempt), for this app's sessions only.
      const jobs = await deps.db
        .updateTable('jobs')
        .set((eb) => ({ locked_until: new Date(now.getTime() + DEFAULT_LOCK_MS), attempts: eb('attempts', '+', 1) }))
        .where('kind', '=', SETTLE_JOB)
        .where('finished_at', 'is', null)
        .where('run_at', '<=', now)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
        .where(sql<boolean>`payload->>'checkout_id' in (select id::text from checkouts where organization_id in (${sql.join([...orgs])}))`)
        .returning(['id', 'kind', 'payload', 'attempts', 'max_attempts'])
        .execute()
      for (const j of jobs) await runJob(deps, checkoutJobHandlers, { id: j.id, kind: j.kind, payload: j.payload, attempts: j.attempts, maxAttempts: j.max_attempts })
      return jobs.length
    }
    const pending = new Set<Promise<unknown>>()
    const settlement: Settlement = {
      auto: true,
      run,
      async idle() {
        while (pending.size) await Promise.allSettled([...pending])
      },
    }
    ctx.app.deps.wakeWorker = () => {
      if (!settlement.auto) return
      const p = settlement.run().catch((err) => console.error('settlement failed', err))
      pending.add(p)
      void p.finally(() => pending.delete(p))
    }
    // Registered after createTestApp's close hook, so it runs first (vitest runs afterAll hooks in reverse).
    afterAll(() => settlement.idle())
    return {
      ...ctx,
      base,
      settlement,
      async createOrg(name?: string) {
        const org = await createOrg(ctx, name)
        orgs.add(org.organizationId)
        return org
      },
    }
  }
  throw lastError
}

/** A stand-in merchant site on another loopback port: answers 200 to anything (the success_url). */
export async function startMerchantSite(): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(`<!doctype html><title>Thanks</title><h1>Thanks from the merchant</h1>`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
