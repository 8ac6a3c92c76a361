import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Deps } from '../deps'
import { NotPermitted, RequestValidationError, Unauthorized } from '../http/errors'
import { isHttps, readCookie, sessionCookieName } from './cookie'
import { isValidCsrfToken } from './csrf'
import { ALL_SCOPES, hasScope, type Scope } from './scopes'
import type { AuthContext, SessionAuth } from './types'

/**
 * How a token and a session cookie are checked, given by the composition root (src/app.ts): the
 * organizations and sessions domains own those lookups, and their routes use these hooks, so the hooks
 * cannot import them back.
 */
export interface Authenticators {
  token(deps: AuthDeps, secret: string): Promise<AuthContext | undefined>
  session(deps: AuthDeps, token: string): Promise<SessionAuth | undefined>
}

declare module 'fastify' {
  interface FastifyInstance {
    authenticators: Authenticators
  }
  interface FastifyRequest {
    authContext?: AuthContext
    dashboardSession?: { session: SessionAuth; token: string }
  }
  interface FastifyContextConfig {
    /** The scope a route needs; set on every `/v1` route that touches an organization's data. */
    scope?: Scope
    /** A route for the dashboard session alone (`/v1/auth/…`): the session cookie is required, a token is not accepted. */
    session?: boolean
  }
}

type AuthDeps = Pick<Deps, 'db' | 'clock' | 'config'>

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
// A logged-in merchant owns the organization: the session may do everything a token can be given.
const SESSION_SCOPES: ReadonlySet<string> = new Set(ALL_SCOPES)

/**
 * Authenticates before the body is even parsed (as Polar does: a bad token is a 401 whatever the
 * body), for every route that declares `config: { scope }` or `config: { session: true }`.
 */
export function registerAuth(app: FastifyInstance, deps: AuthDeps, authenticators: Authenticators): void {
  app.decorate('authenticators', authenticators)
  app.addHook('onRequest', async (request) => {
    const { scope, session } = request.routeOptions.config
    if (scope) await authorize(deps, request, scope)
    else if (session) request.dashboardSession = await requireSession(deps, request)
  })
}

/**
 * `Authorization: Bearer polar_oat_…` when the header is present (whatever the cookies); otherwise the
 * dashboard's session cookie, acting on the session's selected organization with every scope.
 */
export async function authorize(deps: AuthDeps, request: FastifyRequest, scope: Scope): Promise<AuthContext> {
  let auth = request.authContext
  if (!auth) {
    auth = request.headers.authorization !== undefined ? await bearerAuth(deps, request) : await cookieAuth(deps, request)
    request.authContext = auth
  }
  checkOrganizationHeader(request, auth)
  if (!hasScope(auth.scopes, scope)) throw new NotPermitted()
  return auth
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const ORGANIZATION_HEADER = 'polar-organization'

/**
 * `Polar-Organization`, which SDK 1.x sends when given an `organizationId`: the organization to act on.
 * Polar's server source we follow has no such header yet, so Kassa checks it the way the rest of its auth
 * works: absent is fine; not a UUID is the 422 FastAPI gives a malformed header parameter; a UUID other
 * than the caller's organization (the token's, or the dashboard session's selected one) is 403
 * `NotPermitted`, not 404: the request as a whole is refused, not one resource missing, and the answer is
 * the same whether that organization exists or not (nothing is looked up), so it tells a caller nothing
 * about other tenants. A caller acts on one organization, so no header can switch it.
 */
function checkOrganizationHeader(request: FastifyRequest, auth: AuthContext): void {
  const raw = request.headers[ORGANIZATION_HEADER]
  if (raw === undefined) return
  const value = Array.isArray(raw) ? raw.join(', ') : raw
  if (!UUID.test(value)) {
    throw new RequestValidationError([{ loc: ['header', ORGANIZATION_HEADER], msg: 'Input should be a valid UUID', type: 'uuid_parsing', input: value }], 'schema')
  }
  if (value.toLowerCase() !== auth.organizationId.toLowerCase()) {
    throw new NotPermitted('The Polar-Organization header names another organization than the one this token (or session) acts on.')
  }
}

async function bearerAuth(deps: AuthDeps, request: FastifyRequest): Promise<AuthContext> {
  const header = request.headers.authorization
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
  if (!match) throw new Unauthorized()
  const auth = await request.server.authenticators.token(deps, match[1]!)
  if (!auth) throw new Unauthorized()
  return auth
}

async function cookieAuth(deps: AuthDeps, request: FastifyRequest): Promise<AuthContext> {
  const { session } = await requireSession(deps, request)
  return { organizationId: session.organizationId, tokenId: null, sessionId: session.sessionId, userId: session.userId, scopes: SESSION_SCOPES }
}

/**
 * The live dashboard session of the request's `kassa_session` cookie, or undefined. A request that changes
 * something (any method but GET, HEAD, OPTIONS) must also carry the session's CSRF token in `x-csrf-token`:
 * a 403 otherwise.
 */
export async function sessionOf(deps: AuthDeps, request: FastifyRequest): Promise<{ session: SessionAuth; token: string } | undefined> {
  const token = sessionToken(deps, request)
  if (!token) return undefined
  const session = await request.server.authenticators.session(deps, token)
  if (!session) return undefined
  if (!SAFE_METHODS.has(request.method) && !isValidCsrfToken(token, request.headers['x-csrf-token'])) {
    throw new NotPermitted('Missing or invalid CSRF token.')
  }
  return { session, token }
}

export async function requireSession(deps: AuthDeps, request: FastifyRequest): Promise<{ session: SessionAuth; token: string }> {
  const found = await sessionOf(deps, request)
  if (!found) throw new Unauthorized()
  return found
}

export const sessionToken = (deps: Pick<Deps, 'config'>, request: FastifyRequest): string | undefined =>
  readCookie(request.headers.cookie, sessionCookieName(isHttps(deps.config.publicUrl))) || undefined

/** The dashboard session, resolved by the route's `session: true`. */
export function dashboardSessionOf(request: FastifyRequest): { session: SessionAuth; token: string } {
  if (!request.dashboardSession) throw new Unauthorized()
  return request.dashboardSession
}

/** The caller's organization and scopes, resolved by the route's `scope`. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.authContext) throw new Unauthorized()
  return request.authContext
}
