import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Deps } from '../deps'
import { dashboardSessionOf, sessionOf, sessionToken } from '../auth/hooks'
import { ErrorBody, ValidationErrorBody } from '../http/schemas'
import { clearedSessionCookie, isHttps, sessionCookie } from '../auth/cookie'
import { DashboardSession, LoginRequest, SwitchOrganizationRequest } from './schemas'
import * as service from './service'

const tags = ['dashboard']
const cookieAuth = [{ session_cookie: [] }]
const csrf =
  'Needs the session cookie and, like every POST, PATCH, PUT and DELETE made with the cookie, the `x-csrf-token` header (403 without it).'

/** Kassa's own endpoints for its dashboard: log in with email and password, then call `/v1` with the session cookie. */
export const sessionRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  const secure = isHttps(deps.config.publicUrl)

  // These answers carry a CSRF token or set the session cookie: never stored by any cache.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store')
  })

  app.post('/login', {
    schema: {
      tags,
      summary: 'Log In',
      description:
        'Sets the session cookie (HttpOnly, SameSite=Lax, Path=/, 14 days): `kassa_session`, or `__Host-kassa_session` (Secure) when PUBLIC_URL is https; and answers the session. ' +
        'A wrong email and a wrong password get the same 401. Failed attempts are limited per email and client address (IPv6 by /64): 5 a minute, 10 in 15 minutes, 20 a day; and per client address, whatever the email: 30 in 15 minutes, 100 a day. Beyond, 429 with `Retry-After`. A success clears the failures of that email from that address; other addresses are never locked out.',
      security: [],
      body: LoginRequest,
      response: { 200: DashboardSession, 401: ErrorBody, 403: ErrorBody.describe('The user belongs to no organization.'), 422: ValidationErrorBody, 429: ErrorBody },
    },
  }, async (req, reply) => {
    const { token, session } = await service.login(deps, { ...req.body, ip: req.ip, userAgent: req.headers['user-agent'], previousToken: sessionToken(deps, req) })
    return reply.header('set-cookie', sessionCookie(token, new Date(session.expires_at), deps.clock.now(), secure)).send(session)
  })

  app.post('/logout', {
    schema: {
      tags,
      summary: 'Log Out',
      description: `Ends the session and clears the cookie; 204 also when there was no live session. ${csrf}`,
      security: cookieAuth,
      response: { 204: z.null(), 403: ErrorBody },
    },
  }, async (req, reply) => {
    const found = await sessionOf(deps, req)
    if (found) await service.logout(deps, found.session)
    return reply.header('set-cookie', clearedSessionCookie(secure)).status(204).send(null)
  })

  app.get('/me', {
    config: { session: true },
    schema: {
      tags,
      summary: 'Get Session',
      description: 'The logged-in user, their organizations, the selected one and the CSRF token; 401 when not logged in.',
      security: cookieAuth,
      response: { 200: DashboardSession, 401: ErrorBody },
    },
  }, async (req) => {
    const { session, token } = dashboardSessionOf(req)
    return service.describeSession(deps, session, token)
  })

  app.post('/switch', {
    config: { session: true },
    schema: {
      tags,
      summary: 'Switch Organization',
      description: `Selects another of the user's organizations for the session's \`/v1\` calls; any other id is a 404. ${csrf}`,
      security: cookieAuth,
      body: SwitchOrganizationRequest,
      response: { 200: DashboardSession, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 422: ValidationErrorBody },
    },
  }, async (req) => {
    const { session, token } = dashboardSessionOf(req)
    return service.switchOrganization(deps, session, token, req.body.organization_id)
  })
}
