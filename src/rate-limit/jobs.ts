import type { Deps } from '../deps'
import type { JobHandlers } from '../jobs/worker'
import * as repo from './repository'

export const PRUNE_RATE_LIMITS_JOB = 'rate-limits.prune'
const BATCH = 5000

/** Deletes attempts that count for no window any more, in batches, so the table stays small. */
export async function pruneRateLimits(deps: Pick<Deps, 'db' | 'clock'>): Promise<number> {
  let total = 0
  for (;;) {
    const n = await repo.pruneExpired(deps.db, deps.clock.now(), BATCH)
    total += n
    if (n < BATCH) return total
  }
}

export const rateLimitJobHandlers: JobHandlers = {
  [PRUNE_RATE_LIMITS_JOB]: async (deps) => {
    await pruneRateLimits(deps)
  },
}
