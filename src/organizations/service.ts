import type { Deps } from '../deps'
import { fieldError } from '../http/errors'
import { hashToken, newId, newSecret } from '../lib/ids'
import { hashPassword } from '../lib/password'
import * as repo from './repository'
import { ALL_SCOPES, isScope, type Scope } from './scopes'

export interface AuthContext {
  organizationId: string
  tokenId: string
  scopes: ReadonlySet<string>
}

type ServiceDeps = Pick<Deps, 'db' | 'clock'>

export const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$/

export async function createOrganization(deps: ServiceDeps, input: { name: string; slug: string }) {
  const name = input.name.trim()
  if (!name) throw fieldError(['name'], 'Name must not be empty.')
  if (!SLUG_RE.test(input.slug)) throw fieldError(['slug'], 'Slug must be lowercase letters, digits and dashes.')
  return deps.db.transaction().execute(async (tx) => {
    if (await repo.findOrganizationBySlug(tx, input.slug)) throw fieldError(['slug'], `An organization with the slug "${input.slug}" already exists.`)
    const organization = await repo.insertOrganization(tx, { id: newId(), name, slug: input.slug, created_at: deps.clock.now() })
    const accessToken = await issueToken(tx, deps.clock.now(), organization.id, [...ALL_SCOPES], 'created with the organization')
    return { organization, accessToken }
  })
}

export async function createAccessToken(
  deps: ServiceDeps,
  input: { organizationId: string; scopes?: string[]; comment?: string },
): Promise<string> {
  const scopes = input.scopes ?? [...ALL_SCOPES]
  const unknown = scopes.filter((s) => !isScope(s))
  if (unknown.length) throw fieldError(['scopes'], `Unknown scope(s): ${unknown.join(', ')}. Known: ${ALL_SCOPES.join(', ')}`)
  if (!(await repo.findOrganizationById(deps.db, input.organizationId))) throw fieldError(['organization_id'], 'Organization not found.')
  return issueToken(deps.db, deps.clock.now(), input.organizationId, scopes as Scope[], input.comment ?? null)
}

async function issueToken(db: Deps['db'], now: Date, organizationId: string, scopes: Scope[], comment: string | null) {
  const token = newSecret('polar_oat_')
  await repo.insertAccessToken(db, {
    id: newId(),
    organization_id: organizationId,
    token_hash: hashToken(token),
    scopes,
    comment,
    created_at: now,
  })
  return token
}

export async function authenticateToken(deps: ServiceDeps, token: string): Promise<AuthContext | undefined> {
  const row = await repo.findLiveTokenByHash(deps.db, hashToken(token), deps.clock.now())
  if (!row) return undefined
  return { organizationId: row.organization_id, tokenId: row.id, scopes: new Set(row.scopes) }
}

export async function createUser(deps: ServiceDeps, input: { email: string; password: string; organizationId: string }) {
  const email = input.email.trim()
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw fieldError(['email'], 'Not a valid email address.')
  if (input.password.length < 8) throw fieldError(['password'], 'Password must have at least 8 characters.')
  if (!(await repo.findOrganizationById(deps.db, input.organizationId))) throw fieldError(['organization_id'], 'Organization not found.')
  const passwordHash = await hashPassword(input.password)
  return deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const existing = await repo.findUserByEmail(tx, email)
    const user = existing ?? (await repo.insertUser(tx, { id: newId(), email, password_hash: passwordHash, created_at: now }))
    await repo.linkUserToOrganization(tx, user.id, input.organizationId, now)
    return { id: user.id, email: user.email, existing: Boolean(existing) }
  })
}

export const countOrganizations = (deps: Pick<Deps, 'db'>) => repo.countOrganizations(deps.db)
export const getOrganization = (deps: Pick<Deps, 'db'>, id: string) => repo.findOrganizationById(deps.db, id)

/**
 * A body's `organization_id` is implied by an organization token: Polar refuses any other value,
 * and so do we (naming a foreign organization must never reach it).
 */
export function assertOwnOrganization(auth: AuthContext, organizationId: string | null | undefined): void {
  if (organizationId != null && organizationId !== auth.organizationId) {
    throw fieldError(['body', 'organization_id'], 'Setting organization_id is disallowed when using an organization token.', organizationId)
  }
}
