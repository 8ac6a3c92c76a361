import type { FastifyBaseLogger } from 'fastify'
import type { Executor } from '../db/index'
import type { Deps } from '../deps'
import { enqueue } from './queue'

/**
 * The job worker: claims due jobs from the `jobs` table and runs their handlers.
 *
 * Delivery is at-least-once. A handler may run again after it already did its work: when the process
 * stops between the handler's commit and the job being marked finished, or when a handler outlives its
 * lock (`lockMs`) and another worker claims the job. So every handler must be idempotent: check the
 * state it is about to change (`where status = 'confirmed'`), lean on unique constraints (one order per
 * checkout), and make repeated side effects harmless (a webhook keeps its `webhook-id`). Handlers should
 * also bound their own run time (HTTP timeouts, `job.signal`) well under `lockMs`.
 *
 * Several processes may share one PostgreSQL: a claim is one `update … for update skip locked`, so two
 * workers never hold the same job at once, and a crashed worker's jobs are claimable again as soon as
 * their lock runs out (25 s by default, so interrupted work resumes within 30 s of the next start).
 */

export type JobLog = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>

export interface JobContext {
  id: string
  kind: string
  /** 1 on the first run, counting runs whose worker crashed. */
  attempts: number
  maxAttempts: number
  /** Aborted when the job's lock runs out: past that point another worker may claim the job. */
  signal: AbortSignal
}

/** Must be idempotent (see above). Throw to fail the attempt: the job is retried with backoff. */
export type JobHandler = (deps: Deps, payload: any, job: JobContext) => Promise<void>
export type JobHandlers = Record<string, JobHandler>

export interface ClaimedJob {
  id: string
  kind: string
  payload: unknown
  /** Already counts this run. */
  attempts: number
  maxAttempts: number
}

export interface RetryOptions {
  /** The first retry's delay; each later one doubles (plus up to 25% jitter). Default 1000 ms. */
  baseMs?: number
  /** The delay stops doubling here (before jitter). Default one hour. */
  capMs?: number
  /** Per-kind overrides, e.g. `{ 'webhooks.deliver': { baseMs: config.webhookRetryBaseMs } }`. */
  byKind?: Record<string, { baseMs?: number; capMs?: number }>
}

export interface RunJobOptions {
  /** How long a claim holds a job before another worker may take it. Default 25 s. */
  lockMs?: number
  retry?: RetryOptions
  log?: JobLog
}

export interface RunOptions extends RunJobOptions {
  /** The most jobs this call runs. Default 100. */
  limit?: number
  /** Jobs claimed together and run concurrently. Default 10. */
  batchSize?: number
  /** Only claim these kinds (tests use it to leave other files' jobs alone). Default: every kind. */
  kinds?: string[]
  /** Stops claiming further batches; jobs already claimed still finish. */
  signal?: AbortSignal
}

export type JobOutcome = 'done' | 'retry' | 'dead' | 'lost'

export const DEFAULT_LOCK_MS = 25_000
const DEFAULT_RETRY_BASE_MS = 1_000
const DEFAULT_RETRY_CAP_MS = 3_600_000
const MAX_ERROR_CHARS = 2_000

const silentLog: JobLog = { info() {}, warn() {}, error() {} }

/** Retry delay after the `attempts`-th failure: base × 2^(attempts-1), capped, plus up to 25% jitter. */
export function backoffMs(attempts: number, opts: { baseMs?: number; capMs?: number } = {}, random: () => number = Math.random): number {
  const base = opts.baseMs ?? DEFAULT_RETRY_BASE_MS
  const cap = opts.capMs ?? DEFAULT_RETRY_CAP_MS
  const delay = Math.min(cap, base * 2 ** Math.max(0, attempts - 1))
  return Math.round(delay + delay * 0.25 * random())
}

/**
 * Takes up to `limit` due jobs, in `run_at` order, and locks each until `now + lockMs`. One statement:
 * rows another transaction is claiming are skipped, and a row claimed and committed meanwhile is
 * re-checked (its new `locked_until` excludes it), so no two workers ever get the same job.
 * `now` is the application clock, so a test can move time.
 */
export async function claimJobs(
  db: Executor,
  opts: { now: Date; limit: number; lockMs: number; kinds?: string[] },
): Promise<ClaimedJob[]> {
  const { now, limit, lockMs, kinds } = opts
  if (limit <= 0 || kinds?.length === 0) return []
  const rows = await db
    // `materialized`: the locking select runs exactly once, never re-planned into the update's join.
    .with(
      (wb) => wb('due').materialized(),
      (qb) => {
        let q = qb
          .selectFrom('jobs')
          .select('id')
          .where('finished_at', 'is', null)
          .where('run_at', '<=', now)
          .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
        if (kinds) q = q.where('kind', 'in', kinds)
        return q.orderBy('run_at').orderBy('id').limit(limit).forUpdate().skipLocked()
      },
    )
    .updateTable('jobs')
    .from('due')
    .set((eb) => ({ locked_until: new Date(now.getTime() + lockMs), attempts: eb('jobs.attempts', '+', 1) }))
    .whereRef('jobs.id', '=', 'due.id')
    .returning(['jobs.id', 'jobs.kind', 'jobs.payload', 'jobs.attempts', 'jobs.max_attempts'])
    .execute()
  return rows.map((r) => ({ id: r.id, kind: r.kind, payload: r.payload, attempts: r.attempts, maxAttempts: r.max_attempts }))
}

/**
 * Runs one claimed job and records the outcome: finished, rescheduled with backoff, or dead (finished with
 * `last_error` kept) after `maxAttempts`. The record is fenced by `attempts`, so a worker that lost its
 * claim (lock expired, job taken by another run) changes nothing: the outcome is then `lost`.
 */
export async function runJob(deps: Deps, handlers: JobHandlers, job: ClaimedJob, opts: RunJobOptions = {}): Promise<JobOutcome> {
  const log = opts.log ?? silentLog
  const lockMs = opts.lockMs ?? DEFAULT_LOCK_MS
  const fields = { job_id: job.id, kind: job.kind, attempts: job.attempts, max_attempts: job.maxAttempts }

  let failure: { error: unknown } | undefined
  if (job.attempts > job.maxAttempts) {
    // The worker running the final attempt stopped before recording it: give up rather than crash-loop.
    failure = { error: new Error('the worker running the final attempt stopped before it finished') }
  } else {
    const handler = Object.hasOwn(handlers, job.kind) ? handlers[job.kind] : undefined
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(new Error('job lock expired')), lockMs)
    timer.unref()
    try {
      if (!handler) throw new Error(`no handler registered for job kind "${job.kind}"`)
      await handler(deps, job.payload, { id: job.id, kind: job.kind, attempts: job.attempts, maxAttempts: job.maxAttempts, signal: controller.signal })
    } catch (error) {
      failure = { error }
    } finally {
      clearTimeout(timer)
    }
  }

  const now = deps.clock.now()
  const mine = deps.db
    .updateTable('jobs')
    .where('id', '=', job.id)
    .where('attempts', '=', job.attempts)
    .where('finished_at', 'is', null)
  let outcome: JobOutcome
  let res
  if (!failure) {
    outcome = 'done'
    res = await mine.set({ finished_at: now, locked_until: null, last_error: null }).executeTakeFirst()
  } else if (job.attempts >= job.maxAttempts) {
    outcome = 'dead'
    res = await mine.set({ finished_at: now, locked_until: null, last_error: errorText(failure.error) }).executeTakeFirst()
  } else {
    outcome = 'retry'
    const retry = { ...opts.retry, ...opts.retry?.byKind?.[job.kind] }
    const runAt = new Date(now.getTime() + backoffMs(job.attempts, retry))
    res = await mine.set({ run_at: runAt, locked_until: null, last_error: errorText(failure.error) }).executeTakeFirst()
    if (res.numUpdatedRows > 0n) log.warn({ ...fields, err: failure.error, run_at: runAt.toISOString() }, 'job failed; will retry')
  }
  if (res.numUpdatedRows === 0n) {
    log.warn({ ...fields, outcome }, 'job was claimed again before it finished; this run is not recorded')
    return 'lost'
  }
  if (outcome === 'dead') log.error({ ...fields, err: failure?.error }, 'job failed for the last time; giving up (dead)')
  return outcome
}

/**
 * Claims and runs the jobs due at `deps.clock.now()`, batch after batch, until none is due or `limit` ran.
 * Returns how many ran (whatever their outcome). Tests call it after advancing a FixedClock.
 */
export async function runDueJobs(deps: Deps, handlers: JobHandlers, opts: RunOptions = {}): Promise<number> {
  const log = opts.log ?? silentLog
  const limit = opts.limit ?? 100
  const batchSize = opts.batchSize ?? 10
  const lockMs = opts.lockMs ?? DEFAULT_LOCK_MS
  let ran = 0
  while (ran < limit && !opts.signal?.aborted) {
    const jobs = await claimJobs(deps.db, { now: deps.clock.now(), limit: Math.min(batchSize, limit - ran), lockMs, kinds: opts.kinds })
    if (jobs.length === 0) break
    const results = await Promise.allSettled(jobs.map((job) => runJob(deps, handlers, job, opts)))
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        // The handler ran but its outcome could not be written: the job runs again once its lock expires.
        log.error({ job_id: jobs[i]!.id, kind: jobs[i]!.kind, err: r.reason }, 'could not record a job outcome')
      }
    })
    ran += jobs.length
  }
  return ran
}

export interface PeriodicJob {
  kind: string
  /** One run per slot of this length (slots are aligned to the epoch), across all processes. */
  everyMs: number
  payload?: object
  /** Default 3: the next slot runs it again anyway. */
  maxAttempts?: number
}

export interface WorkerOptions extends Omit<RunOptions, 'signal'> {
  log: JobLog
  /** Sleep between polls when nothing is due. Default 500 ms. */
  pollMs?: number
  periodic?: PeriodicJob[]
  /**
   * Jobs that finished successfully are deleted this long after (an hourly `jobs.prune` job); dead jobs
   * are kept for inspection. Default 7 days; 0 keeps everything. Their dedupe keys are freed with them.
   */
  retainFinishedMs?: number
}

export interface Worker {
  /** Stops polling, waits for the jobs in flight, resolves. Idempotent. */
  stop(): Promise<void>
  /** Polls now instead of at the end of the current sleep (e.g. after enqueueing urgent work). */
  wake(): void
}

export const PRUNE_JOB_KIND = 'jobs.prune'
const PRUNE_EVERY_MS = 3_600_000
const DEFAULT_RETAIN_FINISHED_MS = 7 * 86_400_000

/**
 * Runs due jobs in a loop until `stop()`: poll, run, sleep `pollMs` (or until `wake()`). Periodic jobs are
 * enqueued once per slot with the dedupe key `periodic:${kind}:${slot}`, so however many processes run a
 * worker, each slot runs once. Errors are logged and the loop goes on; it never throws.
 */
export function startWorker(deps: Deps, handlers: JobHandlers, opts: WorkerOptions): Worker {
  const { log } = opts
  const pollMs = opts.pollMs ?? 500
  const limit = opts.limit ?? 100
  if (!(pollMs > 0)) throw new RangeError(`pollMs must be positive, got ${pollMs}`)
  const retainMs = opts.retainFinishedMs ?? DEFAULT_RETAIN_FINISHED_MS
  const periodic = [...(opts.periodic ?? [])]
  const allHandlers: JobHandlers = { ...handlers }
  if (retainMs > 0 && (!opts.kinds || opts.kinds.includes(PRUNE_JOB_KIND))) {
    allHandlers[PRUNE_JOB_KIND] ??= async (d) => {
      await pruneFinishedJobs(d.db, new Date(d.clock.now().getTime() - retainMs))
    }
    periodic.push({ kind: PRUNE_JOB_KIND, everyMs: PRUNE_EVERY_MS })
  }
  for (const p of periodic) {
    if (!(Number.isInteger(p.everyMs) && p.everyMs > 0)) throw new RangeError(`periodic job ${p.kind}: everyMs must be a positive integer`)
  }

  const controller = new AbortController()
  let stopping = false
  let woken = false
  let interrupt: (() => void) | undefined
  const lastSlot = new Map<string, number>()

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || stopping) return resolve()
      const done = () => {
        clearTimeout(timer)
        interrupt = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      interrupt = done
    })

  const schedulePeriodic = async () => {
    const now = deps.clock.now()
    for (const p of periodic) {
      const slot = Math.floor(now.getTime() / p.everyMs)
      if (lastSlot.get(p.kind) === slot) continue
      await enqueue(
        deps.db,
        { kind: p.kind, payload: p.payload, runAt: new Date(slot * p.everyMs), dedupeKey: `periodic:${p.kind}:${slot}`, maxAttempts: p.maxAttempts ?? 3 },
        now,
      )
      lastSlot.set(p.kind, slot)
    }
  }

  const loop = async () => {
    let failures = 0
    while (!stopping) {
      woken = false
      let ran = 0
      try {
        await schedulePeriodic()
      } catch (err) {
        log.error({ err }, 'job worker: could not enqueue periodic jobs')
      }
      try {
        ran = await runDueJobs(deps, allHandlers, { ...opts, limit, signal: controller.signal })
        failures = 0
      } catch (err) {
        failures++
        log.error({ err }, 'job worker: could not claim jobs; retrying')
      }
      if (stopping) break
      if (ran >= limit) {
        // More may be due: go again, but let other work (HTTP requests) in first.
        await new Promise((r) => setImmediate(r))
        continue
      }
      await sleep(failures ? Math.max(pollMs, Math.min(1000 * 2 ** (failures - 1), 15_000)) : pollMs)
    }
  }

  const running = loop().catch((err) => log.error({ err }, 'job worker stopped unexpectedly'))
  let stopped: Promise<void> | undefined
  return {
    wake() {
      woken = true
      interrupt?.()
    },
    stop() {
      stopped ??= (async () => {
        stopping = true
        controller.abort()
        interrupt?.()
        await running
      })()
      return stopped
    },
  }
}

/** Deletes jobs that finished successfully before `before`. Dead jobs (with `last_error`) stay. */
export async function pruneFinishedJobs(db: Executor, before: Date): Promise<number> {
  const res = await db.deleteFrom('jobs').where('finished_at', '<', before).where('last_error', 'is', null).executeTakeFirst()
  return Number(res.numDeletedRows)
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? (err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : err.message) : String(err)
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text
}
