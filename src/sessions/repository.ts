import { sql } from 'kysely'
import type { Executor } from '../db/index'
import type { NewRow } from '../db/types'

export async function insertSession(db: Executor, row: NewRow<'user_sessions'>): Promise<void> {
  await db.insertInto('user_sessions').values(row).execute()
}

/** A session that is live (not revoked, not expired) and whose user still belongs to its selected organization. */
export async function findLiveSession(db: Executor, tokenHash: string, now: Date) {
  return db
    .selectFrom('user_sessions as s')
    .innerJoin('user_organizations as uo', (j) => j.onRef('uo.user_id', '=', 's.user_id').onRef('uo.organization_id', '=', 's.organization_id'))
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.id', 's.user_id', 's.organization_id', 's.expires_at', 'u.email'])
    .where('s.token_hash', '=', tokenHash)
    .where('s.revoked_at', 'is', null)
    .where('s.expires_at', '>', now)
    .executeTakeFirst()
}

export async function revokeSession(db: Executor, where: { id: string } | { tokenHash: string }, now: Date): Promise<void> {
  await db
    .updateTable('user_sessions')
    .set({ revoked_at: now })
    .where('id' in where ? 'id' : 'token_hash', '=', 'id' in where ? where.id : where.tokenHash)
    .where('revoked_at', 'is', null)
    .execute()
}

export async function setSessionOrganization(db: Executor, id: string, organizationId: string): Promise<void> {
  await db.updateTable('user_sessions').set({ organization_id: organizationId }).where('id', '=', id).execute()
}

export async function insertLoginAttempt(db: Executor, row: NewRow<'login_attempts'>): Promise<void> {
  await db.insertInto('login_attempts').values(row).execute()
}

export async function deleteLoginAttempt(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('login_attempts').where('id', '=', id).execute()
}

export async function deleteLoginAttemptsOfEmail(db: Executor, email: string): Promise<void> {
  await db.deleteFrom('login_attempts').where('email', '=', email).execute()
}

/** Attempts out of the window count for nothing: dropped so the table stays small. */
export async function deleteLoginAttemptsUpTo(db: Executor, cutoff: Date): Promise<void> {
  await db.deleteFrom('login_attempts').where('created_at', '<=', cutoff).execute()
}

export async function countLoginAttempts(db: Executor, email: string, ip: string, since: Date): Promise<{ byEmail: number; byIp: number }> {
  const row = await db
    .selectFrom('login_attempts')
    .select([sql<number>`count(*) filter (where email = ${email})::int`.as('by_email'), sql<number>`count(*) filter (where ip = ${ip})::int`.as('by_ip')])
    .where('created_at', '>', since)
    .where((eb) => eb.or([eb('email', '=', email), eb('ip', '=', ip)]))
    .executeTakeFirstOrThrow()
  return { byEmail: Number(row.by_email), byIp: Number(row.by_ip) }
}

/** The time of the `n`-th newest attempt in the window for an email or an IP: once it leaves the window, a new attempt is allowed. */
export async function nthNewestAttemptAt(db: Executor, key: { email: string } | { ip: string }, since: Date, n: number): Promise<Date | undefined> {
  const row = await db
    .selectFrom('login_attempts')
    .select('created_at')
    .where('email' in key ? 'email' : 'ip', '=', 'email' in key ? key.email : key.ip)
    .where('created_at', '>', since)
    .orderBy('created_at', 'desc')
    .offset(n - 1)
    .limit(1)
    .executeTakeFirst()
  return row ? new Date(row.created_at) : undefined
}
