import type { Executor } from '../db/index'
import type { NewRow } from '../db/types'

export async function insertOrganization(db: Executor, row: NewRow<'organizations'>) {
  return db.insertInto('organizations').values(row).returning(['id', 'name', 'slug', 'created_at', 'modified_at']).executeTakeFirstOrThrow()
}

export async function findOrganizationBySlug(db: Executor, slug: string) {
  return db.selectFrom('organizations').select(['id', 'name', 'slug', 'created_at', 'modified_at']).where('slug', '=', slug).executeTakeFirst()
}

export async function findOrganizationById(db: Executor, id: string) {
  return db.selectFrom('organizations').select(['id', 'name', 'slug', 'created_at', 'modified_at']).where('id', '=', id).executeTakeFirst()
}

export async function countOrganizations(db: Executor): Promise<number> {
  const r = await db.selectFrom('organizations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(r.n)
}

export async function insertAccessToken(db: Executor, row: NewRow<'access_tokens'>) {
  await db.insertInto('access_tokens').values(row).execute()
}

export async function findLiveTokenByHash(db: Executor, tokenHash: string, now: Date) {
  return db
    .selectFrom('access_tokens')
    .select(['id', 'organization_id', 'scopes'])
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst()
}

export async function insertUser(db: Executor, row: NewRow<'users'>) {
  return db.insertInto('users').values(row).returning(['id', 'email']).executeTakeFirstOrThrow()
}

export async function findUserByEmail(db: Executor, email: string) {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'password_hash'])
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .executeTakeFirst()
}

export async function linkUserToOrganization(db: Executor, userId: string, organizationId: string, now: Date) {
  await db
    .insertInto('user_organizations')
    .values({ user_id: userId, organization_id: organizationId, created_at: now })
    .onConflict((oc) => oc.doNothing())
    .execute()
}
