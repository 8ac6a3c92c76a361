import type { Executor } from '../db/index'
import { newId } from '../lib/ids'

export interface NewJob {
  /** Which handler runs it, e.g. `checkouts.settle`. */
  kind: string
  /** JSON; the handler gets it back as stored. */
  payload?: object
  /** Not before this time; defaults to `now`. */
  runAt?: Date
  /**
   * At most one job ever exists with this key: a second enqueue is a no-op, whether the first job is
   * pending, running or finished. Name the work it stands for (`checkouts.settle:${checkoutId}`).
   */
  dedupeKey?: string
  /**
   * Jobs sharing this key are capped together by the lane that runs them (`perKey`), e.g. one webhook
   * endpoint's deliveries. Without it the job is capped only by its lane's concurrency.
   */
  concurrencyKey?: string
  /** Attempts before the job is given up (dead); defaults to the table's 10. */
  maxAttempts?: number
}

/**
 * Adds a job. Pass the transaction of the change that causes the job (an outbox): the job commits or rolls
 * back with it, and a worker can only see it once that change is visible. With a dedupe key an existing
 * job with the same key wins (`on conflict do nothing`), so the insert never aborts the caller's transaction.
 */
export async function enqueue(db: Executor, job: NewJob, now: Date): Promise<void> {
  if (job.maxAttempts !== undefined && !(Number.isInteger(job.maxAttempts) && job.maxAttempts >= 1)) {
    throw new RangeError(`maxAttempts must be a positive integer, got ${job.maxAttempts}`)
  }
  const insert = db.insertInto('jobs').values({
    id: newId(),
    kind: job.kind,
    payload: JSON.stringify(job.payload ?? {}),
    dedupe_key: job.dedupeKey ?? null,
    concurrency_key: job.concurrencyKey ?? null,
    run_at: job.runAt ?? now,
    ...(job.maxAttempts !== undefined ? { max_attempts: job.maxAttempts } : {}),
    created_at: now,
  })
  await (job.dedupeKey === undefined
    ? insert
    : insert.onConflict((oc) => oc.column('dedupe_key').where('dedupe_key', 'is not', null).doNothing())
  ).execute()
}

/** Many jobs with dedupe keys in one statement per 1000 (a scheduler's batch): existing keys are skipped. */
export async function enqueueMany(db: Executor, jobs: (NewJob & { dedupeKey: string })[], now: Date): Promise<void> {
  for (let i = 0; i < jobs.length; i += 1000) {
    const rows = jobs.slice(i, i + 1000).map((job) => ({
      id: newId(),
      kind: job.kind,
      payload: JSON.stringify(job.payload ?? {}),
      dedupe_key: job.dedupeKey,
      concurrency_key: job.concurrencyKey ?? null,
      run_at: job.runAt ?? now,
      ...(job.maxAttempts !== undefined ? { max_attempts: job.maxAttempts } : {}),
      created_at: now,
    }))
    await db.insertInto('jobs').values(rows).onConflict((oc) => oc.column('dedupe_key').where('dedupe_key', 'is not', null).doNothing()).execute()
  }
}
