import type { Deps } from '../deps'
import { NotPermitted, ResourceNotFound, fieldError } from '../http/errors'
import { iso, isoOrNull, paginated, type Page } from '../http/schemas'
import { hashToken, newId, newSecret } from '../lib/ids'
import { emailProblem } from '../lib/email'
import { hashPassword, needsRehash } from '../lib/password'
import type { AuthContext } from '../auth/types'
import * as repo from './repository'
import type {
  Organization,
  OrganizationAccessToken,
  OrganizationAccessTokenCreate,
  OrganizationAccessTokenListQuery,
  OrganizationAccessTokenUpdate,
  OrganizationListQuery,
  OrganizationUpdate,
} from './schemas'
import { ALL_SCOPES, hasScope, isScope, type Scope } from '../auth/scopes'
import { FIXED_ORGANIZATION_FIELDS } from './schemas'

export type { AuthContext }
export { matchOrigin, parseOrigin } from './embed-hosts'

// `last_used_at` is written at most this often per token, so a busy integration costs no write per request.
const LAST_USED_RESOLUTION_MS = 60_000

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
  return (await insertToken(db, now, organizationId, scopes, comment, null)).token
}

async function insertToken(db: Deps['db'], now: Date, organizationId: string, scopes: Scope[], comment: string | null, expiresAt: Date | null) {
  const token = newSecret('polar_oat_')
  const row = await repo.insertAccessToken(db, {
    id: newId(),
    organization_id: organizationId,
    token_hash: hashToken(token),
    scopes,
    comment,
    created_at: now,
    expires_at: expiresAt,
  })
  return { token, row }
}

export async function authenticateToken(deps: ServiceDeps, token: string): Promise<AuthContext | undefined> {
  const now = deps.clock.now()
  const row = await repo.findLiveTokenByHash(deps.db, hashToken(token), now)
  if (!row) return undefined
  if (!row.last_used_at || now.getTime() - new Date(row.last_used_at).getTime() >= LAST_USED_RESOLUTION_MS) {
    await repo.touchAccessToken(deps.db, row.id, now)
  }
  return { organizationId: row.organization_id, tokenId: row.id, scopes: new Set(row.scopes) }
}

export async function createUser(deps: ServiceDeps, input: { email: string; password: string; organizationId: string }) {
  const email = input.email.trim()
  const invalid = emailProblem(email)
  if (invalid) throw fieldError(['email'], `value is not a valid email address: ${invalid}`)
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

/** A user by email (case-insensitive), with the password hash, for the dashboard login. */
export const findUserForLogin = (deps: Pick<Deps, 'db'>, email: string) => repo.findUserByEmail(deps.db, email)

/** After a login with the right password: a hash made with weaker parameters is made again at today's. */
export async function upgradePasswordHash(deps: Pick<Deps, 'db'>, user: { id: string; password_hash: string }, password: string): Promise<void> {
  if (!needsRehash(user.password_hash)) return
  await repo.replacePasswordHash(deps.db, user.id, user.password_hash, await hashPassword(password))
}

/** The organizations a dashboard user belongs to, oldest membership first. */
export const listUserOrganizations = (deps: Pick<Deps, 'db'>, userId: string) => repo.listUserOrganizations(deps.db, userId)

// ---- Organizations API (the caller's own organization only) ----

export function toOrganization(row: repo.OrganizationRow): Organization {
  return {
    created_at: iso(row.created_at),
    modified_at: isoOrNull(row.modified_at),
    id: row.id,
    name: row.name,
    slug: row.slug,
    avatar_url: null,
    proration_behavior: 'prorate',
    allow_customer_updates: true,
    email: null,
    website: null,
    socials: [],
    status: 'active',
    details_submitted_at: null,
    onboarding_resubmission_requested_at: null,
    sso_enforced: false,
    default_presentment_currency: 'usd',
    default_tax_behavior: 'location',
    feature_settings: null,
    dispute_settings: { auto_accept_below_amount: null },
    subscription_settings: {
      allow_multiple_subscriptions: true,
      proration_behavior: 'prorate',
      benefit_revocation_grace_period: 0,
      prevent_trial_abuse: false,
      allow_customer_updates: true,
    },
    customer_email_settings: {
      order_confirmation: true,
      payment_method_expiration_reminder: true,
      subscription_cancellation: true,
      subscription_confirmation: true,
      subscription_cycled: true,
      subscription_cycled_after_trial: true,
      subscription_past_due: true,
      subscription_paused: true,
      subscription_resumed: true,
      subscription_renewal_reminder: true,
      subscription_revoked: true,
      subscription_trial_conversion_reminder: true,
      subscription_uncanceled: true,
      subscription_updated: true,
    },
    customer_portal_settings: { usage: { show: true }, subscription: { update_seats: true, update_plan: true } },
    embed_hosts: row.embed_hosts,
    account_id: null,
    payout_account_id: null,
    capabilities: { checkout_payments: true, subscription_renewals: true, payouts: false, refunds: false, api_access: true, dashboard_access: true },
  }
}

export async function getOrganizationOrThrow(deps: Pick<Deps, 'db'>, auth: AuthContext, id: string): Promise<Organization> {
  const row = id === auth.organizationId ? await repo.findOrganizationById(deps.db, id) : undefined
  if (!row) throw new ResourceNotFound()
  return toOrganization(row)
}

/** Equal as JSON values, ignoring key order; an object sent may leave keys out (Polar's settings are partial). */
function sameJson(sent: unknown, fixed: unknown): boolean {
  if (sent === null || typeof sent !== 'object' || fixed === null || typeof fixed !== 'object') return sent === fixed
  if (Array.isArray(sent) !== Array.isArray(fixed)) return false
  if (Array.isArray(sent)) return sent.length === (fixed as unknown[]).length && sent.every((v, i) => sameJson(v, (fixed as unknown[])[i]))
  return Object.entries(sent).every(([k, v]) => k in fixed && sameJson(v, (fixed as Record<string, unknown>)[k]))
}

/** Polar's `PATCH /v1/organizations/{id}`: only the caller's own organization; only the keys sent change. */
export async function updateOrganization(deps: ServiceDeps, auth: AuthContext, id: string, input: OrganizationUpdate): Promise<Organization> {
  if (id !== auth.organizationId) throw new ResourceNotFound()
  const current = await repo.findOrganizationById(deps.db, id)
  if (!current) throw new ResourceNotFound()
  const fixed = toOrganization(current) as unknown as Record<string, unknown>
  for (const field of FIXED_ORGANIZATION_FIELDS) {
    const value = input[field]
    if (value == null || sameJson(value, fixed[field])) continue
    const always = fixed[field] === undefined ? 'Kassa does not store it: only null is accepted' : `it is always ${JSON.stringify(fixed[field])}`
    throw fieldError(['body', field], `Kassa does not change ${field}: ${always}.`, value)
  }
  const patch = { ...(input.embed_hosts != null ? { embed_hosts: input.embed_hosts } : {}), ...(input.name != null ? { name: input.name } : {}) }
  const row = await repo.updateOrganization(deps.db, id, { ...patch, modified_at: deps.clock.now() })
  if (!row) throw new ResourceNotFound()
  return toOrganization(row)
}

/** An organization token (or dashboard session) sees exactly one organization: its own. */
export async function listOrganizations(deps: Pick<Deps, 'db'>, auth: AuthContext, query: OrganizationListQuery) {
  const page: Page = { page: query.page, limit: query.limit }
  const row = await repo.findOrganizationById(deps.db, auth.organizationId)
  const rows = row && (query.slug === undefined || query.slug === row.slug) ? [row] : []
  return paginated(rows.slice((page.page - 1) * page.limit, page.page * page.limit).map(toOrganization), rows.length, page)
}

// ---- Organization access tokens API ----

export function toAccessToken(row: repo.AccessTokenRow): OrganizationAccessToken {
  return {
    created_at: iso(row.created_at),
    modified_at: isoOrNull(row.modified_at),
    id: row.id,
    scopes: row.scopes,
    expires_at: isoOrNull(row.expires_at),
    comment: row.comment ?? '',
    last_used_at: isoOrNull(row.last_used_at),
    organization_id: row.organization_id,
  }
}

/** A token can hand on only what it holds: one with `organization_access_tokens:write` alone cannot mint an all-powerful one. */
function assertCanGrant(auth: AuthContext, scopes: readonly Scope[]): void {
  const missing = scopes.filter((s) => !hasScope(auth.scopes, s))
  if (missing.length) throw new NotPermitted(`A token cannot grant scopes it does not have: ${missing.join(', ')}.`)
}

export async function listAccessTokens(deps: Pick<Deps, 'db'>, auth: AuthContext, query: OrganizationAccessTokenListQuery) {
  const page: Page = { page: query.page, limit: query.limit }
  if (query.organization_id && !query.organization_id.includes(auth.organizationId)) return paginated([], 0, page)
  const { rows, total } = await repo.listAccessTokens(deps.db, auth.organizationId, query.sorting, page)
  return paginated(rows.map(toAccessToken), total, page)
}

export async function createAccessTokenFor(deps: ServiceDeps, auth: AuthContext, input: OrganizationAccessTokenCreate) {
  assertOwnOrganization(auth, input.organization_id)
  assertCanGrant(auth, input.scopes)
  const now = deps.clock.now()
  const expiresAt = input.expires_in != null ? new Date(now.getTime() + input.expires_in * 1000) : null
  const { token, row } = await insertToken(deps.db, now, auth.organizationId, input.scopes, input.comment, expiresAt)
  return { organization_access_token: toAccessToken(row), token }
}

/** Every scope `granted` covers (a `:write` covers its `:read`). */
const coveredScopes = (granted: ReadonlySet<string>) => ALL_SCOPES.filter((s) => hasScope(granted, s))

/**
 * Changes (or revokes) another token only when the caller holds every scope that token holds: a narrow token
 * can neither widen a token nor downgrade or revoke one more powerful than itself.
 */
async function changeTokenWithin(deps: ServiceDeps, auth: AuthContext, id: string, patch: Parameters<typeof repo.updateAccessToken>[3], verb: string) {
  const row = await repo.updateAccessToken(deps.db, auth.organizationId, id, patch, coveredScopes(auth.scopes))
  if (row) return row
  const target = await repo.findLiveAccessToken(deps.db, auth.organizationId, id)
  if (!target) throw new ResourceNotFound()
  const missing = target.scopes.filter((s) => !hasScope(auth.scopes, s as Scope))
  throw new NotPermitted(`A token cannot ${verb} a token with scopes it does not have: ${missing.join(', ')}.`)
}

export async function updateAccessToken(deps: ServiceDeps, auth: AuthContext, id: string, input: OrganizationAccessTokenUpdate) {
  if (input.scopes != null) assertCanGrant(auth, input.scopes)
  const row = await changeTokenWithin(
    deps,
    auth,
    id,
    {
      ...(input.comment != null ? { comment: input.comment } : {}),
      ...(input.scopes != null ? { scopes: input.scopes } : {}),
      modified_at: deps.clock.now(),
    },
    'update',
  )
  return toAccessToken(row)
}

/** Revokes at once: the next request with the token is a 401. */
export async function revokeAccessToken(deps: ServiceDeps, auth: AuthContext, id: string): Promise<void> {
  const now = deps.clock.now()
  await changeTokenWithin(deps, auth, id, { revoked_at: now, modified_at: now }, 'revoke')
}
