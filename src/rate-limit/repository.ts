import { sql } from 'kysely'
import type { Executor } from '../db/index'

/** Serializes attempts on `key` until the transaction ends (a 64-bit hash: a collision only serializes two keys). */
export async function lockKey(trx: Executor, key: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx)
}

export async function insertAttempt(db: Executor, attemptId: string, rows: { key: string; at: Date; expiresAt: Date }[]): Promise<void> {
  await db
    .insertInto('rate_limit_attempts')
    .values(rows.map((r) => ({ attempt_id: attemptId, key: r.key, at: r.at, expires_at: r.expiresAt })))
    .execute()
}

export async function deleteAttempt(db: Executor, attemptId: string): Promise<void> {
  await db.deleteFrom('rate_limit_attempts').where('attempt_id', '=', attemptId).execute()
}

export async function deleteAttemptsOfKey(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('rate_limit_attempts').where('key', '=', key).execute()
}

/** For each window, the attempts of its key made after `since`: one query for all of them. */
export async function countAttempts(db: Executor, windows: { key: string; since: Date }[]): Promise<number[]> {
  const oldest = new Date(Math.min(...windows.map((w) => w.since.getTime())))
  const row = (await db
    .selectFrom('rate_limit_attempts')
    .select(windows.map((w, i) => sql<number>`count(*) filter (where key = ${w.key} and at > ${w.since})::int`.as(`c${i}`)))
    .where('key', 'in', [...new Set(windows.map((w) => w.key))])
    .where('at', '>', oldest)
    .executeTakeFirstOrThrow()) as Record<string, number>
  return windows.map((_, i) => Number(row[`c${i}`]))
}

/** The time of the `n`-th newest attempt of `key` after `since`: once it leaves the window, there is room again. */
export async function nthNewestAttemptAt(db: Executor, key: string, since: Date, n: number): Promise<Date | undefined> {
  const row = await db
    .selectFrom('rate_limit_attempts')
    .select('at')
    .where('key', '=', key)
    .where('at', '>', since)
    .orderBy('at', 'desc')
    .offset(n - 1)
    .limit(1)
    .executeTakeFirst()
  return row ? new Date(row.at) : undefined
}

/** Deletes up to `batch` rows that count for no window any more; answers how many went. */
export async function pruneExpired(db: Executor, now: Date, batch: number): Promise<number> {
  const res = await sql`
    delete from rate_limit_attempts
    where (attempt_id, key) in (select attempt_id, key from rate_limit_attempts where expires_at <= ${now} limit ${batch})
  `.execute(db)
  return Number(res.numAffectedRows ?? 0)
}
