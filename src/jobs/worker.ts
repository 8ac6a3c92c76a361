import type { FastifyBaseLogger } from 'fastify'
import { sql } from 'kysely'
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
  /** At most this many jobs of one `concurrency_key` run at once, across every worker (see `claimJobs`). */
  perKey?: number
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
 *
 * With `perKey`, at most that many jobs of one `concurrency_key` are locked at once, counting those other
 * workers hold (jobs without a key are not capped), also when several processes claim at once (below).
 * Only the oldest `CLAIM_SCAN` due jobs are looked at: a
 * key at its cap with a longer backlog than that delays the keys behind it until its jobs run or are
 * rescheduled (a failing endpoint's retries move to later `run_at`s).
 */
export async function claimJobs(
  db: Executor,
  opts: { now: Date; limit: number; lockMs: number; kinds?: string[]; perKey?: number },
): Promise<ClaimedJob[]> {
  const { now, limit, lockMs, kinds, perKey } = opts
  if (limit <= 0 || kinds?.length === 0) return []
  if (perKey !== undefined && !(Number.isInteger(perKey) && perKey >= 1)) throw new RangeError(`perKey must be a positive integer, got ${perKey}`)
  const lockedUntil = new Date(now.getTime() + lockMs)
  if (perKey === undefined) {
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
      .set((eb) => ({ locked_until: lockedUntil, attempts: eb('jobs.attempts', '+', 1) }))
      .whereRef('jobs.id', '=', 'due.id')
      .returning(['jobs.id', 'jobs.kind', 'jobs.payload', 'jobs.attempts', 'jobs.max_attempts'])
      .execute()
    return rows.map(toClaimed)
  }

  const kindFilter = kinds ? sql`and kind in (${sql.join(kinds)})` : sql``
  // No row locks on the scan. Two claims at once rank the same candidates the same way (oldest first per
  // key, minus what is running), so together they pick from the same `perKey` oldest jobs of a key; the
  // update re-checks each row it waited for (a job claimed or finished meanwhile is left out), so the
  // loser gets fewer jobs, never a key over its cap.
  const rows = await sql<JobRow>`
    with candidates as materialized (
      select id, concurrency_key, run_at from jobs
      where finished_at is null and run_at <= ${now} and (locked_until is null or locked_until < ${now}) ${kindFilter}
      order by run_at, id
      limit ${CLAIM_SCAN}
    ), running as (
      select concurrency_key, count(*)::int as n from jobs
      where finished_at is null and locked_until >= ${now}
        and concurrency_key in (select concurrency_key from candidates where concurrency_key is not null)
      group by concurrency_key
    ), ranked as (
      select c.id, c.run_at, c.concurrency_key,
        row_number() over (partition by c.concurrency_key order by c.run_at, c.id) + coalesce(r.n, 0) as slot
      from candidates c left join running r on r.concurrency_key = c.concurrency_key
    ), picked as (
      select id from ranked
      where concurrency_key is null or slot <= ${perKey}
      order by run_at, id
      limit ${limit}
    )
    update jobs set locked_until = ${lockedUntil}, attempts = jobs.attempts + 1
    from picked
    where jobs.id = picked.id and jobs.finished_at is null and (jobs.locked_until is null or jobs.locked_until < ${now})
    returning jobs.id, jobs.kind, jobs.payload, jobs.attempts, jobs.max_attempts
  `.execute(db)
  return rows.rows.map(toClaimed)
}

type JobRow = { id: string; kind: string; payload: unknown; attempts: number; max_attempts: number }
const toClaimed = (r: JobRow): ClaimedJob => ({ id: r.id, kind: r.kind, payload: r.payload, attempts: r.attempts, maxAttempts: r.max_attempts })

/** The most due jobs a capped claim looks at (see `claimJobs`). */
export const CLAIM_SCAN = 1_000

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
    const jobs = await claimJobs(deps.db, { now: deps.clock.now(), limit: Math.min(batchSize, limit - ran), lockMs, kinds: opts.kinds, perKey: opts.perKey })
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

/**
 * A lane of the worker: a pool of up to `concurrency` jobs of its kinds in flight, refilled as each one
 * finishes, so one slow job holds one slot, not the lane. Lanes claim and run independently: settlement
 * never waits behind a backlog of webhook deliveries.
 */
export interface Lane {
  name: string
  /** The kinds it claims. Default: every handler's kind that no other lane names (the `kinds` option narrows it). */
  kinds?: string[]
  /** Jobs in flight at once. */
  concurrency: number
  /** At most this many jobs of one `concurrency_key` at once, across every process (webhooks: per endpoint). */
  perKey?: number
}

export interface WorkerOptions extends Omit<RunOptions, 'signal' | 'limit' | 'perKey'> {
  log: JobLog
  /** Sleep between polls when nothing is due. Default 500 ms. */
  pollMs?: number
  periodic?: PeriodicJob[]
  /**
   * Default: one lane of every kind (or of `kinds`), `batchSize` (10) at once. With lanes, a job whose kind
   * no lane claims waits in the table (for a process that knows it).
   */
  lanes?: Lane[]
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

/** A sleep that `wake()` ends early; a wake while awake makes the next sleep return at once. */
class Alarm {
  private pending = false
  private interrupt: (() => void) | undefined
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.pending) {
        this.pending = false
        return resolve()
      }
      const timer = setTimeout(() => done(), ms)
      const done = () => {
        clearTimeout(timer)
        this.interrupt = undefined
        this.pending = false
        resolve()
      }
      this.interrupt = done
    })
  }
  wake(): void {
    if (this.interrupt) this.interrupt()
    else this.pending = true
  }
}

/**
 * Runs due jobs until `stop()`, lane by lane (see `Lane`): each lane claims as many jobs as it has free
 * slots, runs them, and claims again when one finishes; with nothing due it sleeps `pollMs` (or until
 * `wake()`). Periodic jobs are enqueued once per slot with the dedupe key `periodic:${kind}:${slot}`, so
 * however many processes run a worker, each slot runs once. Errors are logged and the loops go on; they
 * never throw.
 */
export function startWorker(deps: Deps, handlers: JobHandlers, opts: WorkerOptions): Worker {
  const { log } = opts
  const pollMs = opts.pollMs ?? 500
  const lockMs = opts.lockMs ?? DEFAULT_LOCK_MS
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
  const lanes = resolveLanes(opts, Object.keys(allHandlers))

  let stopping = false
  const alarms = lanes.map(() => new Alarm())
  const periodicAlarm = new Alarm()
  const lastSlot = new Map<string, number>()

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
      // The job is due at once (its slot started): let the lanes see it now rather than at their next poll.
      alarms.forEach((a) => a.wake())
    }
  }

  const periodicLoop = async () => {
    while (!stopping) {
      try {
        await schedulePeriodic()
      } catch (err) {
        log.error({ err }, 'job worker: could not enqueue periodic jobs')
      }
      await periodicAlarm.sleep(pollMs)
    }
  }

  const laneLoop = async (lane: ResolvedLane, alarm: Alarm) => {
    const inFlight = new Set<Promise<void>>()
    let failures = 0
    while (!stopping) {
      const free = lane.concurrency - inFlight.size
      let claimed = 0
      if (free > 0) {
        try {
          const jobs = await claimJobs(deps.db, { now: deps.clock.now(), limit: free, lockMs, kinds: lane.kinds, perKey: lane.perKey })
          failures = 0
          claimed = jobs.length
          for (const job of jobs) {
            const run: Promise<void> = runJob(deps, allHandlers, job, opts)
              .then(
                () => undefined,
                // The handler ran but its outcome could not be written: the job runs again once its lock expires.
                (err) => log.error({ job_id: job.id, kind: job.kind, lane: lane.name, err }, 'could not record a job outcome'),
              )
              .finally(() => {
                inFlight.delete(run)
                alarm.wake()
              })
            inFlight.add(run)
          }
        } catch (err) {
          failures++
          log.error({ err, lane: lane.name }, 'job worker: could not claim jobs; retrying')
        }
      }
      if (stopping) break
      if (free > 0 && claimed === free) {
        // More may be due: claim again once these are under way, letting other work (HTTP requests) in first.
        await new Promise((r) => setImmediate(r))
        continue
      }
      // Nothing more is due, or the lane is full: a finished job or wake() ends the sleep.
      await alarm.sleep(failures ? Math.max(pollMs, Math.min(1000 * 2 ** (failures - 1), 15_000)) : pollMs)
    }
    await Promise.allSettled([...inFlight])
  }

  const running = Promise.all([
    periodicLoop().catch((err) => log.error({ err }, 'job worker: the periodic scheduler stopped unexpectedly')),
    ...lanes.map((lane, i) => laneLoop(lane, alarms[i]!).catch((err) => log.error({ err, lane: lane.name }, 'job worker lane stopped unexpectedly'))),
  ])
  let stopped: Promise<void> | undefined
  return {
    wake() {
      alarms.forEach((a) => a.wake())
    },
    stop() {
      stopped ??= (async () => {
        stopping = true
        periodicAlarm.wake()
        alarms.forEach((a) => a.wake())
        await running
      })()
      return stopped
    },
  }
}

interface ResolvedLane {
  name: string
  kinds: string[] | undefined
  concurrency: number
  perKey: number | undefined
}

function resolveLanes(opts: WorkerOptions, handlerKinds: string[]): ResolvedLane[] {
  const only = opts.kinds
  if (!opts.lanes?.length) return [{ name: 'default', kinds: only, concurrency: opts.batchSize ?? 10, perKey: undefined }]
  const named = new Set(opts.lanes.flatMap((l) => l.kinds ?? []))
  const narrow = (kinds: string[]) => (only ? kinds.filter((k) => only.includes(k)) : kinds)
  return opts.lanes.map((l) => {
    if (!(Number.isInteger(l.concurrency) && l.concurrency >= 1)) throw new RangeError(`lane ${l.name}: concurrency must be a positive integer`)
    const kinds = narrow(l.kinds ?? [...new Set([...handlerKinds, ...(only ?? [])])].filter((k) => !named.has(k)))
    return { name: l.name, kinds, concurrency: l.concurrency, perKey: l.perKey }
  })
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
