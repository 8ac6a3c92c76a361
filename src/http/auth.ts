import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Deps } from '../deps'
import { authenticateToken, type AuthContext } from '../organizations/service'
import { hasScope, type Scope } from '../organizations/scopes'
import { NotPermitted, Unauthorized } from './errors'

declare module 'fastify' {
  interface FastifyRequest {
    authContext?: AuthContext
  }
  interface FastifyContextConfig {
    /** The scope a route needs; set on every `/v1` route that touches an organization's data. */
    scope?: Scope
  }
}

/**
 * Authenticates before the body is even parsed (as Polar does: a bad token is a 401 whatever the
 * body), for every route that declares `config: { scope }`.
 */
export function registerAuth(app: FastifyInstance, deps: Pick<Deps, 'db' | 'clock'>): void {
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope
    if (scope) await authorize(deps, request, scope)
  })
}

export async function authorize(deps: Pick<Deps, 'db' | 'clock'>, request: FastifyRequest, scope: Scope): Promise<AuthContext> {
  let auth = request.authContext
  if (!auth) {
    const header = request.headers.authorization
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    if (!match) throw new Unauthorized()
    auth = await authenticateToken(deps, match[1]!)
    if (!auth) throw new Unauthorized()
    request.authContext = auth
  }
  if (!hasScope(auth.scopes, scope)) throw new NotPermitted()
  return auth
}

/** The caller's organization and scopes, resolved by the route's `scope`. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.authContext) throw new Unauthorized()
  return request.authContext
}
