import type { Deps } from '../deps'
import { TooManyRequests } from '../http/errors'
import { newId } from '../lib/ids'
import * as repo from './repository'

/** At most `max` attempts counted against `key` in any `windowMs` (a sliding window). */
export interface Limit {
  key: string
  max: number
  windowMs: number
}

export interface TakeAttemptOptions {
  /** The 429's detail, given the seconds to wait; by default "Too many attempts. Try again in …". */
  message?: (retryAfterSeconds: number) => string
}

type D = Pick<Deps, 'db' | 'clock'>

/**
 * Counts one attempt against every limit (shared by all processes: rows in the database, safe under
 * concurrency: parallel attempts never get past `max`). Throws TooManyRequests (nothing recorded) when any
 * limit is already reached. Returns a function that takes this attempt back (e.g. a login that succeeded).
 *
 * Limits may share a key with different windows (5 a minute and 20 a day): they count the same rows.
 *
 * Each attempt is one short transaction that first takes a transaction-level advisory lock per key (in key
 * order, so two attempts never wait on each other in a cycle), then counts and inserts: attempts on one key
 * are serialized across every process sharing the database, so the limit is exact and racing attempts
 * neither slip past it nor refuse each other.
 */
export async function takeAttempt(deps: D, limits: Limit[], opts: TakeAttemptOptions = {}): Promise<() => Promise<void>> {
  for (const l of limits) {
    if (!(Number.isInteger(l.max) && l.max >= 1 && Number.isInteger(l.windowMs) && l.windowMs >= 1 && l.key.length > 0)) {
      throw new RangeError(`invalid rate limit ${JSON.stringify(l)}`)
    }
  }
  if (limits.length === 0) return async () => {}

  const now = deps.clock.now()
  const attemptId = newId()
  const longest = new Map<string, number>()
  for (const l of limits) longest.set(l.key, Math.max(longest.get(l.key) ?? 0, l.windowMs))
  const since = (l: Limit) => new Date(now.getTime() - l.windowMs)

  const reached = await deps.db.transaction().execute(async (trx) => {
    for (const key of [...longest.keys()].sort()) await repo.lockKey(trx, key)
    const counts = await repo.countAttempts(trx, limits.map((l) => ({ key: l.key, since: since(l) })))
    const full = limits.filter((l, i) => counts[i]! >= l.max)
    if (full.length === 0) {
      await repo.insertAttempt(
        trx,
        attemptId,
        [...longest].map(([key, windowMs]) => ({ key, at: now, expiresAt: new Date(now.getTime() + windowMs) })),
      )
    }
    return full
  })
  if (reached.length > 0) {
    const seconds = await retryAfterSeconds(deps, reached, now)
    throw new TooManyRequests(seconds, opts.message?.(seconds))
  }

  let taken = false
  return async () => {
    if (taken) return
    taken = true
    await repo.deleteAttempt(deps.db, attemptId)
  }
}

/** When every reached limit has room again: its `max`-th newest attempt has left the window. */
async function retryAfterSeconds(deps: D, reached: Limit[], now: Date): Promise<number> {
  const ats = await Promise.all(reached.map((l) => repo.nthNewestAttemptAt(deps.db, l.key, new Date(now.getTime() - l.windowMs), l.max)))
  const until = Math.max(...reached.map((l, i) => (ats[i] ? ats[i]!.getTime() + l.windowMs : 0)))
  return Math.max(1, Math.ceil((until - now.getTime()) / 1000))
}

/** Forgets every attempt of `key` (e.g. an email's failed logins from one address, once it logged in). */
export async function clearAttempts(deps: Pick<Deps, 'db'>, key: string): Promise<void> {
  await repo.deleteAttemptsOfKey(deps.db, key)
}
