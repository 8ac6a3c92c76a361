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
