import { sql } from 'kysely'
import type { Executor } from '../db/index'
import { applySorting, fetchPage } from '../db/helpers'
import type { NewRow, Row, RowUpdate } from '../db/types'
import type { Page } from '../http/schemas'

export type AccessTokenRow = Omit<Row<'access_tokens'>, 'token_hash'>
const tokenColumns = ['id', 'organization_id', 'scopes', 'comment', 'created_at', 'modified_at', 'expires_at', 'revoked_at', 'last_used_at'] as const
const organizationColumns = ['id', 'name', 'slug', 'embed_hosts', 'created_at', 'modified_at'] as const
export type OrganizationRow = Pick<Row<'organizations'>, (typeof organizationColumns)[number]>

export async function insertOrganization(db: Executor, row: NewRow<'organizations'>) {
  return db.insertInto('organizations').values(row).returning(organizationColumns).executeTakeFirstOrThrow()
}

export async function findOrganizationBySlug(db: Executor, slug: string) {
  return db.selectFrom('organizations').select(organizationColumns).where('slug', '=', slug).executeTakeFirst()
}

export async function findOrganizationById(db: Executor, id: string) {
  return db.selectFrom('organizations').select(organizationColumns).where('id', '=', id).executeTakeFirst()
}

export async function updateOrganization(db: Executor, id: string, patch: RowUpdate<'organizations'>): Promise<OrganizationRow | undefined> {
  return db.updateTable('organizations').set(patch).where('id', '=', id).returning(organizationColumns).executeTakeFirst()
}

export async function countOrganizations(db: Executor): Promise<number> {
  const r = await db.selectFrom('organizations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(r.n)
}

export async function insertAccessToken(db: Executor, row: NewRow<'access_tokens'>): Promise<AccessTokenRow> {
  return db.insertInto('access_tokens').values(row).returning(tokenColumns).executeTakeFirstOrThrow()
}

export async function findLiveTokenByHash(db: Executor, tokenHash: string, now: Date) {
  return db
    .selectFrom('access_tokens')
    .select(['id', 'organization_id', 'scopes', 'last_used_at'])
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

/** Replaces the hash only if it is still `previous`: a password changed meanwhile is never overwritten. */
export async function replacePasswordHash(db: Executor, userId: string, previous: string, next: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: next }).where('id', '=', userId).where('password_hash', '=', previous).execute()
}

export async function linkUserToOrganization(db: Executor, userId: string, organizationId: string, now: Date) {
  await db
    .insertInto('user_organizations')
    .values({ user_id: userId, organization_id: organizationId, created_at: now })
    .onConflict((oc) => oc.doNothing())
    .execute()
}

export async function touchAccessToken(db: Executor, id: string, now: Date): Promise<void> {
  await db.updateTable('access_tokens').set({ last_used_at: now }).where('id', '=', id).execute()
}

/** Tokens not revoked (expired ones included: they still show, with their `expires_at`). */
const liveTokens = (db: Executor, organizationId: string) =>
  db.selectFrom('access_tokens').where('organization_id', '=', organizationId).where('revoked_at', 'is', null)

export async function listAccessTokens(db: Executor, organizationId: string, sorting: string[], page: Page) {
  const sortable = { created_at: 'created_at', comment: 'comment', last_used_at: 'last_used_at', organization_id: 'organization_id' }
  return fetchPage(liveTokens(db, organizationId), (qb) => applySorting(qb.select(tokenColumns), sorting, sortable), page) as Promise<{
    rows: AccessTokenRow[]
    total: number
  }>
}

/**
 * Changes a live token of the organization; with `withinScopes`, only if every scope the token holds is in
 * that list (checked by the update itself, so a concurrent change cannot slip a wider token past it).
 */
export async function updateAccessToken(db: Executor, organizationId: string, id: string, patch: RowUpdate<'access_tokens'>, withinScopes?: readonly string[]) {
  let q = db
    .updateTable('access_tokens')
    .set(patch)
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .where('revoked_at', 'is', null)
  if (withinScopes) q = q.where(sql<boolean>`scopes <@ ${sql.val([...withinScopes])}::text[]`)
  return q.returning(tokenColumns).executeTakeFirst()
}

export async function findLiveAccessToken(db: Executor, organizationId: string, id: string) {
  return liveTokens(db, organizationId).select(tokenColumns).where('id', '=', id).executeTakeFirst()
}

/** The organizations a user belongs to, oldest membership first. */
export async function listUserOrganizations(db: Executor, userId: string) {
  return db
    .selectFrom('user_organizations as uo')
    .innerJoin('organizations as o', 'o.id', 'uo.organization_id')
    .select(['o.id', 'o.name', 'o.slug'])
    .where('uo.user_id', '=', userId)
    .orderBy('uo.created_at')
    .orderBy('o.id')
    .execute()
}
