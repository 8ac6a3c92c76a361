import { randomBytes } from 'node:crypto'
import type { Deps } from '../deps'
import { NotPermitted, ResourceNotFound, Unauthorized } from '../http/errors'
import { iso } from '../http/schemas'
import { hashToken, newId, newSecret } from '../lib/ids'
import { clientKey } from '../lib/ip'
import { hashPassword, verifyPassword } from '../lib/password'
import { findUserForLogin, listUserOrganizations, upgradePasswordHash } from '../organizations/service'
import { clearAttempts, takeAttempt, type Limit } from '../rate-limit/service'
import { csrfTokenFor, isValidCsrfToken } from '../auth/csrf'
import type { SessionAuth } from '../auth/types'
import * as repo from './repository'
import type { DashboardSession, LoginRequest } from './schemas'

type D = Pick<Deps, 'db' | 'clock'>

export const SESSION_TTL_MS = 14 * 86_400_000
/**
 * Failed logins allowed before a 429 with `Retry-After`. Counted per email and client (an IPv4 address or an
 * IPv6 /64) with widening windows, so each step of the back-off waits longer (a minute, a quarter of an hour,
 * a day), and per client whatever the email (password spraying). Never per email alone: a guesser elsewhere
 * must not lock the owner out, who logs in from another address as usual.
 */
export const LOGIN_LIMITS = {
  perEmailAndClient: [
    { max: 5, windowMs: 60_000 },
    { max: 10, windowMs: 15 * 60_000 },
    { max: 20, windowMs: 86_400_000 },
  ],
  perClient: [
    { max: 30, windowMs: 15 * 60_000 },
    { max: 100, windowMs: 86_400_000 },
  ],
} as const

const loginLimited = (retryAfterSeconds: number) => {
  const minutes = Math.ceil(retryAfterSeconds / 60)
  return `Too many failed login attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`
}

/** A live dashboard session, as the cookie resolves it. */
export type { SessionAuth }

// An unknown email costs a password check too, against this hash, so the answer takes as long as a wrong password.
let dummyHash: Promise<string> | undefined
const dummyPasswordHash = () => (dummyHash ??= hashPassword(randomBytes(16).toString('hex')))


export async function authenticateSession(deps: D, token: string): Promise<SessionAuth | undefined> {
  const row = await repo.findLiveSession(deps.db, hashToken(token), deps.clock.now())
  if (!row) return undefined
  return { sessionId: row.id, userId: row.user_id, email: row.email, organizationId: row.organization_id, expiresAt: new Date(row.expires_at) }
}

export interface LoginInput extends LoginRequest {
  ip: string
  userAgent: string | undefined
  /** The token of a session cookie the browser already had: that session ends. */
  previousToken: string | undefined
}

/**
 * Email and password → a new session. Every attempt is recorded before the password is checked and counted
 * after, so parallel guesses (from any number of processes) never get past the limit; a success clears the
 * email's failures from that client, an attempt refused for the limit is not recorded.
 */
export async function login(deps: D, input: LoginInput): Promise<{ token: string; session: DashboardSession }> {
  const email = input.email.trim().toLowerCase()
  const now = deps.clock.now()
  const client = clientKey(input.ip)
  const emailKey = `login:email-client:${client}:${email}`
  const limits: Limit[] = [
    ...LOGIN_LIMITS.perEmailAndClient.map((l) => ({ key: emailKey, ...l })),
    ...LOGIN_LIMITS.perClient.map((l) => ({ key: `login:client:${client}`, ...l })),
  ]
  const takeBack = await takeAttempt(deps, limits, { message: loginLimited })

  const user = await findUserForLogin(deps, email)
  const valid = await verifyPassword(input.password, user?.password_hash ?? (await dummyPasswordHash()))
  if (!user || !valid) throw new Unauthorized('Invalid email or password.')

  await takeBack()
  await clearAttempts(deps, emailKey)
  await upgradePasswordHash(deps, user, input.password)
  const organizations = await listUserOrganizations(deps, user.id)
  if (organizations.length === 0) throw new NotPermitted('This user belongs to no organization.')

  if (input.previousToken) await repo.revokeSession(deps.db, { tokenHash: hashToken(input.previousToken) }, now)
  const token = newSecret('kassa_s_')
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS)
  const session: SessionAuth = { sessionId: newId(), userId: user.id, email: user.email, organizationId: organizations[0]!.id, expiresAt }
  await repo.insertSession(deps.db, {
    id: session.sessionId,
    user_id: user.id,
    token_hash: hashToken(token),
    organization_id: session.organizationId,
    created_at: now,
    expires_at: expiresAt,
    user_agent: input.userAgent?.slice(0, 512) ?? null,
    ip: input.ip,
  })
  return { token, session: toDashboardSession(session, organizations, token) }
}

function toDashboardSession(session: SessionAuth, organizations: { id: string; name: string; slug: string }[], token: string): DashboardSession {
  return {
    user: { id: session.userId, email: session.email },
    organizations: organizations.map((o) => ({ id: o.id, name: o.name, slug: o.slug })),
    organization_id: session.organizationId,
    csrf_token: csrfTokenFor(token),
    expires_at: iso(session.expiresAt),
  }
}

export async function describeSession(deps: D, session: SessionAuth, token: string): Promise<DashboardSession> {
  return toDashboardSession(session, await listUserOrganizations(deps, session.userId), token)
}

export async function switchOrganization(deps: D, session: SessionAuth, token: string, organizationId: string): Promise<DashboardSession> {
  const organizations = await listUserOrganizations(deps, session.userId)
  if (!organizations.some((o) => o.id === organizationId)) throw new ResourceNotFound()
  await repo.setSessionOrganization(deps.db, session.sessionId, organizationId)
  return toDashboardSession({ ...session, organizationId }, organizations, token)
}

export async function logout(deps: D, session: SessionAuth): Promise<void> {
  await repo.revokeSession(deps.db, { id: session.sessionId }, deps.clock.now())
}
