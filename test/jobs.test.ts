import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { Deps } from '../src/deps'
import { enqueue } from '../src/jobs/queue'
import { backoffMs, claimJobs, runDueJobs, runJob, startWorker, type JobHandler, type JobLog } from '../src/jobs/worker'
import { FixedClock, testConfig, testDatabase } from './helpers'

// The database is shared with other test files (and, on PostgreSQL, other workers): every test uses
// kinds of its own and passes them as `kinds`, so it neither runs nor disturbs anyone else's jobs.
const newKind = (name: string) => `test.${name}.${randomUUID().slice(0, 8)}`

describe('job queue and worker', async () => {
  const database = await testDatabase()
  const db = database.db
  const makeDeps = (clock = new FixedClock('2026-03-01T00:00:00Z')): Deps & { clock: FixedClock } => ({ db, clock, config: testConfig() })

  const jobsOf = (kind: string) =>
    db.selectFrom('jobs').selectAll().where('kind', '=', kind).orderBy('created_at').orderBy('id').execute()
  const onlyJob = async (kind: string) => {
    const rows = await jobsOf(kind)
    expect(rows).toHaveLength(1)
    return rows[0]!
  }

  function captureLog() {
    const entries: { level: string; obj: any; msg?: string }[] = []
    const at = (level: string) => (obj: unknown, msg?: string) => void entries.push({ level, obj, msg })
    const log: JobLog = { info: at('info'), warn: at('warn'), error: at('error') }
    return { log, entries }
  }

  /** Polls until `check` holds (for the background loop, which runs on real time). */
  async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('timed out waiting')
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  it('runs an enqueued job once, with its payload, and marks it finished', async () => {
    const deps = makeDeps()
    const kind = newKind('once')
    const calls: unknown[][] = []
    const handlers = { [kind]: (async (_d, payload, job) => void calls.push([payload, job.kind, job.attempts])) satisfies JobHandler }

    await enqueue(db, { kind, payload: { checkout_id: 'c1', nested: { n: 1 } } }, deps.clock.now())
    expect(await runDueJobs(deps, handlers, { kinds: [kind] })).toBe(1)
    expect(calls).toEqual([[{ checkout_id: 'c1', nested: { n: 1 } }, kind, 1]])

    const job = await onlyJob(kind)
    expect(job).toMatchObject({ attempts: 1, max_attempts: 10, locked_until: null, last_error: null })
    expect(new Date(job.finished_at!).getTime()).toBe(deps.clock.now().getTime())

    deps.clock.advance(3_600_000)
    expect(await runDueJobs(deps, handlers, { kinds: [kind] })).toBe(0)
    expect(calls).toHaveLength(1)
  })

  it('waits for run_at', async () => {
    const deps = makeDeps()
    const kind = newKind('later')
    let calls = 0
    const handlers = { [kind]: async () => void calls++ }
    await enqueue(db, { kind, runAt: new Date(deps.clock.now().getTime() + 60_000) }, deps.clock.now())

    expect(await runDueJobs(deps, handlers, { kinds: [kind] })).toBe(0)
    deps.clock.advance(59_999)
    expect(await runDueJobs(deps, handlers, { kinds: [kind] })).toBe(0)
    deps.clock.advance(1)
    expect(await runDueJobs(deps, handlers, { kinds: [kind] })).toBe(1)
    expect(calls).toBe(1)
  })

  it('makes a second enqueue with the same dedupe key a no-op, before and after the first runs', async () => {
    const deps = makeDeps()
    const kind = newKind('dedupe')
    const key = `${kind}:checkout-1`
    const seen: unknown[] = []
    const handlers = { [kind]: async (_d: Deps, payload: unknown) => void seen.push(payload) }

    await enqueue(db, { kind, payload: { n: 1 }, dedupeKey: key }, deps.clock.now())
    await enqueue(db, { kind, payload: { n: 2 }, dedupeKey: key }, deps.clock.now())
    expect(await jobsOf(kind)).toHaveLength(1)
    expect(await runDueJobs(deps, handlers, { kinds: [kind] })).toBe(1)

    await enqueue(db, { kind, payload: { n: 3 }, dedupeKey: key }, deps.clock.now())
    expect(await runDueJobs(deps, handlers, { kinds: [kind] })).toBe(0)
    expect(seen).toEqual([{ n: 1 }])

    // Inside a transaction the conflict does not abort it: the rest of the change still commits.
    await db.transaction().execute(async (tx) => {
      await enqueue(tx, { kind, dedupeKey: key }, deps.clock.now())
      await enqueue(tx, { kind, dedupeKey: `${key}:other` }, deps.clock.now())
    })
    expect(await jobsOf(kind)).toHaveLength(2)
    expect(await runDueJobs(deps, handlers, { kinds: [kind] })).toBe(1)
  })

  it('retries a failing job with growing delays, then gives up (dead) with the error kept', async () => {
    const deps = makeDeps()
    const kind = newKind('flaky')
    const { log, entries } = captureLog()
    let calls = 0
    const handlers = {
      [kind]: async () => {
        calls++
        throw new Error(`gateway unavailable (${calls})`)
      },
    }
    await enqueue(db, { kind, maxAttempts: 4 }, deps.clock.now())

    const delays: number[] = []
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await runDueJobs(deps, handlers, { kinds: [kind], log, retry: { baseMs: 1000 } })).toBe(1)
      const job = await onlyJob(kind)
      expect(job).toMatchObject({ attempts: attempt, finished_at: null, locked_until: null, last_error: `gateway unavailable (${attempt})` })
      const delay = new Date(job.run_at).getTime() - deps.clock.now().getTime()
      const nominal = 1000 * 2 ** (attempt - 1)
      expect(delay).toBeGreaterThanOrEqual(nominal)
      expect(delay).toBeLessThanOrEqual(nominal * 1.25)
      delays.push(delay)

      // Not due until run_at.
      deps.clock.advance(delay - 1)
      expect(await runDueJobs(deps, handlers, { kinds: [kind], log })).toBe(0)
      deps.clock.advance(1)
    }
    expect(delays[1]!).toBeGreaterThan(delays[0]!)
    expect(delays[2]!).toBeGreaterThan(delays[1]!)
    expect(entries.filter((e) => e.level === 'warn')).toHaveLength(3)

    expect(await runDueJobs(deps, handlers, { kinds: [kind], log })).toBe(1)
    const dead = await onlyJob(kind)
    expect(dead).toMatchObject({ attempts: 4, locked_until: null, last_error: 'gateway unavailable (4)' })
    expect(new Date(dead.finished_at!).getTime()).toBe(deps.clock.now().getTime())
    expect(entries.filter((e) => e.level === 'error')).toMatchObject([{ obj: { job_id: dead.id, kind, attempts: 4 } }])

    deps.clock.advance(86_400_000)
    expect(await runDueJobs(deps, handlers, { kinds: [kind], log })).toBe(0)
    expect(calls).toBe(4)
  })

  it('takes the retry base per kind', async () => {
    const deps = makeDeps()
    const kind = newKind('webhook')
    await enqueue(db, { kind }, deps.clock.now())
    const handlers = { [kind]: async () => Promise.reject(new Error('503')) }
    await runDueJobs(deps, handlers, { kinds: [kind], retry: { baseMs: 1000, byKind: { [kind]: { baseMs: 5000 } } } })
    const delay = new Date((await onlyJob(kind)).run_at).getTime() - deps.clock.now().getTime()
    expect(delay).toBeGreaterThanOrEqual(5000)
    expect(delay).toBeLessThanOrEqual(6250)
  })

  it('fails a job of an unknown kind clearly, retries it, then marks it dead, without throwing', async () => {
    const deps = makeDeps()
    const kind = newKind('unknown')
    const { log, entries } = captureLog()
    await enqueue(db, { kind, maxAttempts: 2 }, deps.clock.now())

    expect(await runDueJobs(deps, {}, { kinds: [kind], log })).toBe(1)
    const job = await onlyJob(kind)
    expect(job).toMatchObject({ attempts: 1, finished_at: null, last_error: `no handler registered for job kind "${kind}"` })

    deps.clock.advance(10_000)
    expect(await runDueJobs(deps, {}, { kinds: [kind], log })).toBe(1)
    expect(await onlyJob(kind)).toMatchObject({ attempts: 2, last_error: `no handler registered for job kind "${kind}"`, finished_at: expect.anything() })
    expect(entries.map((e) => e.level)).toEqual(['warn', 'error'])
  })

  it('never runs a job enqueued in a transaction that rolls back', async () => {
    const deps = makeDeps()
    const kind = newKind('outbox')
    let calls = 0
    const handlers = { [kind]: async () => void calls++ }

    await expect(
      db.transaction().execute(async (tx) => {
        await enqueue(tx, { kind, payload: { n: 'rolled back' } }, deps.clock.now())
        throw new Error('the change failed')
      }),
    ).rejects.toThrow('the change failed')
    expect(await runDueJobs(deps, handlers, { kinds: [kind] })).toBe(0)
    expect(await jobsOf(kind)).toHaveLength(0)

    await db.transaction().execute((tx) => enqueue(tx, { kind, payload: { n: 'committed' } }, deps.clock.now()))
    expect(await runDueJobs(deps, handlers, { kinds: [kind] })).toBe(1)
    expect(calls).toBe(1)
  })

  it('runs a job again once the lock of a crashed worker expires', async () => {
    const deps = makeDeps()
    const kind = newKind('crash')
    const attemptsSeen: number[] = []
    const handlers = { [kind]: async (_d: Deps, _p: unknown, job: { attempts: number }) => void attemptsSeen.push(job.attempts) }
    await enqueue(db, { kind }, deps.clock.now())

    // A worker claims it and dies before finishing.
    const [claimed] = await claimJobs(db, { now: deps.clock.now(), limit: 10, lockMs: 30_000, kinds: [kind] })
    expect(claimed).toMatchObject({ kind, attempts: 1 })
    expect(new Date((await onlyJob(kind)).locked_until!).getTime()).toBe(deps.clock.now().getTime() + 30_000)

    expect(await runDueJobs(deps, handlers, { kinds: [kind] })).toBe(0)
    deps.clock.advance(30_000)
    expect(await runDueJobs(deps, handlers, { kinds: [kind] })).toBe(0)
    deps.clock.advance(1)
    expect(await runDueJobs(deps, handlers, { kinds: [kind] })).toBe(1)
    expect(attemptsSeen).toEqual([2])
    expect(await onlyJob(kind)).toMatchObject({ attempts: 2, locked_until: null, finished_at: expect.anything() })
  })

  it('does not record the outcome of a worker that lost its claim', async () => {
    const deps = makeDeps()
    const kind = newKind('stale')
    const { log, entries } = captureLog()
    await enqueue(db, { kind }, deps.clock.now())
    const [stale] = await claimJobs(db, { now: deps.clock.now(), limit: 1, lockMs: 1000, kinds: [kind] })

    deps.clock.advance(1001)
    expect(await runDueJobs(deps, { [kind]: async () => {} }, { kinds: [kind] })).toBe(1)

    // The slow first worker finally fails: the job stays finished, with no error.
    const outcome = await runJob(deps, { [kind]: async () => Promise.reject(new Error('late')) }, stale!, { log })
    expect(outcome).toBe('lost')
    expect(await onlyJob(kind)).toMatchObject({ attempts: 2, last_error: null, finished_at: expect.anything() })
    expect(entries).toMatchObject([{ level: 'warn' }])
  })

  it('gives up a job whose final attempt crashed, instead of running it past max_attempts', async () => {
    const deps = makeDeps()
    const kind = newKind('poison')
    let calls = 0
    await enqueue(db, { kind, maxAttempts: 1 }, deps.clock.now())
    await claimJobs(db, { now: deps.clock.now(), limit: 1, lockMs: 1000, kinds: [kind] })
    deps.clock.advance(1001)
    expect(await runDueJobs(deps, { [kind]: async () => void calls++ }, { kinds: [kind] })).toBe(1)
    expect(calls).toBe(0)
    expect(await onlyJob(kind)).toMatchObject({ attempts: 2, finished_at: expect.anything(), last_error: expect.stringContaining('final attempt') })
  })

  it(`runs each of 50 jobs exactly once under two concurrent runDueJobs (${database.kind})`, async () => {
    const deps = makeDeps()
    const kind = newKind('race')
    const calls = new Map<string, number>()
    const handlers = {
      [kind]: async (_d: Deps, _p: unknown, job: { id: string }) => {
        calls.set(job.id, (calls.get(job.id) ?? 0) + 1)
        await new Promise((r) => setTimeout(r, 2))
      },
    }
    for (let i = 0; i < 50; i++) await enqueue(db, { kind, payload: { i } }, deps.clock.now())

    const opts = { kinds: [kind], batchSize: 5 }
    const [a, b] = await Promise.all([runDueJobs(deps, handlers, opts), runDueJobs(deps, handlers, opts)])
    expect(a + b).toBe(50)
    if (database.kind === 'postgres') {
      // Real concurrency: both got a share.
      expect(a).toBeGreaterThan(0)
      expect(b).toBeGreaterThan(0)
    }
    const rows = await jobsOf(kind)
    expect(rows).toHaveLength(50)
    expect(calls.size).toBe(50)
    expect([...calls.values()].every((n) => n === 1)).toBe(true)
    expect(rows.every((r) => r.attempts === 1 && r.finished_at !== null)).toBe(true)
  })

  // PGlite is one connection: a second claim would wait for the first transaction instead of racing it.
  it.skipIf(database.kind !== 'postgres')('skips, without waiting, the jobs another transaction is claiming', async () => {
    const deps = makeDeps()
    const kind = newKind('skip')
    for (let i = 0; i < 5; i++) await enqueue(db, { kind }, deps.clock.now())
    const now = deps.clock.now()
    await db.transaction().execute(async (tx) => {
      const first = await claimJobs(tx, { now, limit: 3, lockMs: 30_000, kinds: [kind] })
      const second = await claimJobs(db, { now, limit: 10, lockMs: 30_000, kinds: [kind] })
      expect(first).toHaveLength(3)
      expect(second).toHaveLength(2)
      expect(new Set([...first, ...second].map((j) => j.id)).size).toBe(5)
    })
    // Everything is locked now: nothing is claimable until the locks expire.
    expect(await claimJobs(db, { now, limit: 10, lockMs: 30_000, kinds: [kind] })).toEqual([])
    await runDueJobs(makeDeps(new FixedClock(new Date(now.getTime() + 30_001))), { [kind]: async () => {} }, { kinds: [kind] })
  })

  it('startWorker runs a job promptly on wake(), and stop() waits for the job in flight', async () => {
    const deps = makeDeps()
    const kind = newKind('wake')
    const { log, entries } = captureLog()
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const started: string[] = []
    const finished: string[] = []
    const handlers = {
      [kind]: async (_d: Deps, payload: { name: string }) => {
        started.push(payload.name)
        if (payload.name === 'slow') await gate
        finished.push(payload.name)
      },
    }
    // A long poll: only wake() can make it run within the test.
    const worker = startWorker(deps, handlers, { log, pollMs: 60_000, kinds: [kind] })
    await new Promise((r) => setTimeout(r, 50)) // let the first poll find nothing and go to sleep

    await enqueue(db, { kind, payload: { name: 'fast' } }, deps.clock.now())
    const t0 = Date.now()
    worker.wake()
    await until(() => finished.includes('fast'))
    expect(Date.now() - t0).toBeLessThan(2000)

    await enqueue(db, { kind, payload: { name: 'slow' } }, deps.clock.now())
    worker.wake()
    await until(() => started.includes('slow'))
    let stopped = false
    const stopping = worker.stop().then(() => (stopped = true))
    await new Promise((r) => setTimeout(r, 50))
    expect(stopped).toBe(false)
    release()
    await stopping
    expect(finished).toEqual(['fast', 'slow'])
    expect((await jobsOf(kind)).every((j) => j.finished_at !== null)).toBe(true)
    await worker.stop() // idempotent
    expect(entries.filter((e) => e.level === 'error')).toEqual([])
  })

  it('keeps the loop going when jobs fail or have no handler', async () => {
    const deps = makeDeps()
    const bad = newKind('bad')
    const nobody = newKind('nobody')
    const good = newKind('good')
    const { log } = captureLog()
    let ran = 0
    const handlers = {
      [bad]: async () => {
        throw new TypeError('boom')
      },
      [good]: async () => void ran++,
    }
    const worker = startWorker(deps, handlers, { log, pollMs: 10, kinds: [bad, nobody, good] })
    try {
      await enqueue(db, { kind: bad }, deps.clock.now())
      await enqueue(db, { kind: nobody }, deps.clock.now())
      await until(async () => (await jobsOf(nobody))[0]?.attempts === 1 && (await jobsOf(bad))[0]?.attempts === 1)
      await enqueue(db, { kind: good }, deps.clock.now())
      await until(() => ran === 1)
      expect((await onlyJob(bad)).last_error).toBe('TypeError: boom')
    } finally {
      await worker.stop()
    }
  })

  it('runs a periodic job once per slot, however many workers', async () => {
    const clock = new FixedClock('2026-03-01T00:00:30Z')
    const deps = makeDeps(clock)
    const kind = newKind('periodic')
    const { log } = captureLog()
    const runs: string[] = []
    const handlers = { [kind]: async (d: Deps) => void runs.push(d.clock.now().toISOString()) }
    const opts = { log, pollMs: 10, kinds: [kind], periodic: [{ kind, everyMs: 60_000 }] }
    const workers = [startWorker(deps, handlers, opts), startWorker(deps, handlers, opts)]
    try {
      await until(() => runs.length === 1)
      await new Promise((r) => setTimeout(r, 100)) // both have polled several times
      expect(runs).toHaveLength(1)
      const [job] = await jobsOf(kind)
      expect(job).toMatchObject({ dedupe_key: `periodic:${kind}:${Math.floor(clock.now().getTime() / 60_000)}`, max_attempts: 3 })
      expect(new Date(job!.run_at).toISOString()).toBe('2026-03-01T00:00:00.000Z')

      clock.advance(60_000)
      workers.forEach((w) => w.wake())
      await until(() => runs.length === 2)
      await new Promise((r) => setTimeout(r, 100))
      expect(runs).toHaveLength(2)
      expect(await jobsOf(kind)).toHaveLength(2)
    } finally {
      await Promise.all(workers.map((w) => w.stop()))
    }
  })

  describe('concurrency keys and lanes', () => {
    const enqueueKeyed = async (kind: string, keys: (string | undefined)[], now: Date) => {
      for (const [i, key] of keys.entries()) {
        await enqueue(db, { kind, payload: { i }, concurrencyKey: key }, new Date(now.getTime() + i)) // created in order
      }
    }
    // run_at is the enqueue time: give each job its own, so "oldest first" is well defined
    const enqueueAt = async (kind: string, key: string | undefined, at: Date) => enqueue(db, { kind, concurrencyKey: key, runAt: at }, at)

    it('perKey caps the jobs of one key that are locked at once, counting earlier claims, and leaves unkeyed jobs alone', async () => {
      const now = new Date('2026-03-01T00:00:00Z')
      const kind = newKind('perkey')
      for (let i = 0; i < 6; i++) await enqueueAt(kind, 'endpoint:slow', new Date(now.getTime() - 10_000 + i))
      for (let i = 0; i < 3; i++) await enqueueAt(kind, 'endpoint:fast', new Date(now.getTime() - 5_000 + i))
      await enqueueAt(kind, undefined, new Date(now.getTime() - 1_000))
      await enqueueAt(kind, undefined, new Date(now.getTime() - 999))

      const first = await claimJobs(db, { now, limit: 10, lockMs: 30_000, kinds: [kind], perKey: 2 })
      const keyOf = async (ids: string[]) => {
        const rows = await db.selectFrom('jobs').select(['id', 'concurrency_key']).where('id', 'in', ids.length ? ids : ['00000000-0000-0000-0000-000000000000']).execute()
        return rows.map((r) => r.concurrency_key ?? 'none').sort()
      }
      expect(await keyOf(first.map((j) => j.id))).toEqual(['endpoint:fast', 'endpoint:fast', 'endpoint:slow', 'endpoint:slow', 'none', 'none'])
      // Both keys are at their cap while those are locked: nothing more of them, however large the limit.
      expect(await claimJobs(db, { now, limit: 10, lockMs: 30_000, kinds: [kind], perKey: 2 })).toEqual([])

      // One slow job finishes: exactly one more of that key may run.
      await db.updateTable('jobs').set({ finished_at: now, locked_until: null }).where('id', '=', first.find((j) => j.kind === kind)!.id).execute()
      const finishedKey = (await keyOf([first[0]!.id]))[0]
      const next = await claimJobs(db, { now, limit: 10, lockMs: 30_000, kinds: [kind], perKey: 2 })
      if (finishedKey === 'none') expect(next).toEqual([])
      else expect(await keyOf(next.map((j) => j.id))).toEqual([finishedKey])

      // A crashed worker's locks run out: its jobs count no more and are claimable again, still two per key.
      const later = new Date(now.getTime() + 30_001)
      const again = await claimJobs(db, { now: later, limit: 20, lockMs: 30_000, kinds: [kind], perKey: 2 })
      const keys = await keyOf(again.map((j) => j.id))
      expect(keys.filter((k) => k === 'endpoint:slow').length).toBe(2)
      expect(keys.filter((k) => k === 'endpoint:fast').length).toBeLessThanOrEqual(2)
      await runDueJobs(makeDeps(new FixedClock(new Date(later.getTime() + 60_000))), { [kind]: async () => {} }, { kinds: [kind], limit: 100 })
    })

    it('two claims racing never put more than perKey jobs of one key in flight', async () => {
      const now = new Date('2026-03-01T00:00:00Z')
      const kind = newKind('race')
      for (let i = 0; i < 40; i++) await enqueueAt(kind, `endpoint:${i % 2}`, new Date(now.getTime() - 1_000 + i))
      const claims = await Promise.all(Array.from({ length: 8 }, () => claimJobs(db, { now, limit: 3, lockMs: 30_000, kinds: [kind], perKey: 3 })))
      const ids = claims.flat().map((j) => j.id)
      expect(new Set(ids).size).toBe(ids.length)
      const locked = await db
        .selectFrom('jobs')
        .select(['concurrency_key', (eb) => eb.fn.countAll<string>().as('n')])
        .where('kind', '=', kind)
        .where('locked_until', '>', now)
        .groupBy('concurrency_key')
        .orderBy('concurrency_key')
        .execute()
      // A claim that lost a race gets fewer jobs, never a key over its cap.
      for (const r of locked) expect(Number(r.n)).toBeLessThanOrEqual(3)
      expect(ids.length).toBeGreaterThan(0)
      await claimJobs(db, { now, limit: 10, lockMs: 30_000, kinds: [kind], perKey: 3 })
      const after = await db.selectFrom('jobs').select(['concurrency_key', (eb) => eb.fn.countAll<string>().as('n')]).where('kind', '=', kind).where('locked_until', '>', now).groupBy('concurrency_key').orderBy('concurrency_key').execute()
      expect(after.map((r) => [r.concurrency_key, Number(r.n)])).toEqual([
        ['endpoint:0', 3],
        ['endpoint:1', 3],
      ])
      await runDueJobs(makeDeps(new FixedClock(new Date(now.getTime() + 60_000))), { [kind]: async () => {} }, { kinds: [kind], limit: 100 })
    })

    it('a lane refills as each job finishes: one stuck job holds one slot, not the lane', async () => {
      const deps = makeDeps()
      const kind = newKind('pool')
      const { log, entries } = captureLog()
      let release!: () => void
      const gate = new Promise<void>((r) => (release = r))
      const done: number[] = []
      const handlers = {
        [kind]: async (_d: Deps, payload: { i: number }) => {
          if (payload.i === 0) await gate
          done.push(payload.i)
        },
      }
      await enqueueKeyed(kind, Array.from({ length: 12 }, () => undefined), new Date(deps.clock.now().getTime() - 1_000))
      const worker = startWorker(deps, handlers, { log, pollMs: 60_000, kinds: [kind], lanes: [{ name: 'only', concurrency: 2 }] })
      try {
        worker.wake()
        // With a batch-and-wait loop, job 0 would hold its batch partner's slot too: here the other 11 all pass through the second slot.
        await until(() => done.length === 11)
        expect(done).not.toContain(0)
      } finally {
        release()
        await worker.stop()
      }
      expect(done).toContain(0)
      expect(entries.filter((e) => e.level === 'error')).toEqual([])
    })

    it('lanes are independent: a lane full of stuck jobs does not delay another lane', async () => {
      const deps = makeDeps()
      const slow = newKind('slowlane')
      const urgent = newKind('urgent')
      const { log } = captureLog()
      let release!: () => void
      const gate = new Promise<void>((r) => (release = r))
      let urgentRan = 0
      let slowStarted = 0
      const handlers = {
        [slow]: async () => {
          slowStarted++
          await gate
        },
        [urgent]: async () => void urgentRan++,
      }
      for (let i = 0; i < 20; i++) await enqueue(db, { kind: slow, runAt: new Date(deps.clock.now().getTime() - 10_000) }, deps.clock.now())
      const worker = startWorker(deps, handlers, {
        log,
        pollMs: 60_000,
        kinds: [slow, urgent],
        lanes: [
          { name: 'payments', concurrency: 2 },
          { name: 'deliveries', kinds: [slow], concurrency: 4 },
        ],
      })
      try {
        worker.wake()
        await until(() => slowStarted === 4)
        // The urgent job is younger than the whole slow backlog; it runs at once anyway.
        await enqueue(db, { kind: urgent }, deps.clock.now())
        worker.wake()
        await until(() => urgentRan === 1)
        expect(slowStarted).toBe(4)
      } finally {
        release()
        await worker.stop()
      }
    })
  })

  it('computes backoff as base × 2^(attempts-1), capped, with up to 25% jitter', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, { baseMs: 5000 }, () => 0))).toEqual([5000, 10_000, 20_000, 40_000])
    expect(backoffMs(1, { baseMs: 5000 }, () => 1)).toBe(6250)
    expect(backoffMs(1, {}, () => 0)).toBe(1000)
    expect(backoffMs(40, { baseMs: 1000, capMs: 60_000 }, () => 0)).toBe(60_000)
    expect(backoffMs(5000, { baseMs: 1000 }, () => 0)).toBe(3_600_000)
  })
})
