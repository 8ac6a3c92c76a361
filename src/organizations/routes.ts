import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Deps } from '../deps'
import { authOf } from '../auth/hooks'
import { ErrorBody, commonErrors } from '../http/schemas'
import {
  IdParams,
  Organization,
  OrganizationAccessToken,
  OrganizationAccessTokenCreate,
  OrganizationAccessTokenCreateResponse,
  OrganizationAccessTokenList,
  OrganizationAccessTokenListQuery,
  OrganizationAccessTokenUpdate,
  OrganizationList,
  OrganizationListQuery,
  OrganizationUpdate,
} from './schemas'
import * as service from './service'

export const organizationRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['organizations']
  const read = { scope: 'organizations:read' } as const

  app.get('/', {
    config: read,
    schema: {
      tags,
      summary: 'List Organizations',
      description: "The caller's own organization: the token's, or the dashboard session's selected one.",
      querystring: OrganizationListQuery,
      response: { 200: OrganizationList, ...commonErrors },
    },
  }, async (req) => service.listOrganizations(deps, authOf(req), req.query))

  app.get('/:id', {
    config: read,
    schema: {
      tags,
      summary: 'Get Organization',
      description: "Only the caller's own organization; any other id is a 404.",
      params: IdParams,
      response: { 200: Organization, 404: ErrorBody, ...commonErrors },
    },
  }, async (req) => service.getOrganizationOrThrow(deps, authOf(req), req.params.id))

  app.patch('/:id', {
    config: { scope: 'organizations:write' },
    schema: {
      tags,
      summary: 'Update Organization',
      description:
        "Only the caller's own organization; any other id is a 404. Kassa stores `embed_hosts` (the hosts allowed to embed the checkout), validated and normalized as Polar does; Polar's other fields are ignored.",
      params: IdParams,
      body: OrganizationUpdate,
      response: { 200: Organization, 404: ErrorBody, ...commonErrors },
    },
  }, async (req) => service.updateOrganization(deps, authOf(req), req.params.id, req.body))
}

export const organizationAccessTokenRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['organization_access_tokens']
  const read = { scope: 'organization_access_tokens:read' } as const
  const write = { scope: 'organization_access_tokens:write' } as const

  app.get('/', {
    config: read,
    schema: {
      tags,
      summary: 'List Organization Access Tokens',
      description: 'Tokens not revoked, expired ones included. Token values are never shown.',
      querystring: OrganizationAccessTokenListQuery,
      response: { 200: OrganizationAccessTokenList, ...commonErrors },
    },
  }, async (req) => service.listAccessTokens(deps, authOf(req), req.query))

  app.post('/', {
    config: write,
    schema: {
      tags,
      summary: 'Create Organization Access Token',
      description: 'The token is in the response, this once. It works at once.',
      body: OrganizationAccessTokenCreate,
      response: { 201: OrganizationAccessTokenCreateResponse, ...commonErrors },
    },
  }, async (req, reply) => reply.status(201).send(await service.createAccessTokenFor(deps, authOf(req), req.body)))

  app.patch('/:id', {
    config: write,
    schema: {
      tags,
      summary: 'Update Organization Access Token',
      description:
        "A token changes only tokens whose every scope it holds, and grants only scopes it holds: 403 `NotPermitted` otherwise. (Polar lets only a dashboard user manage tokens; Kassa also lets a token do so, never beyond its own scopes.)",
      params: IdParams,
      body: OrganizationAccessTokenUpdate,
      response: { 200: OrganizationAccessToken, 404: ErrorBody, ...commonErrors },
    },
  }, async (req) => service.updateAccessToken(deps, authOf(req), req.params.id, req.body))

  app.delete('/:id', {
    config: write,
    schema: {
      tags,
      summary: 'Delete Organization Access Token',
      description: 'Revokes the token: the next request with it is a 401. A token revokes only tokens whose every scope it holds: 403 `NotPermitted` otherwise.',
      params: IdParams,
      response: { 204: z.null(), 404: ErrorBody, ...commonErrors },
    },
  }, async (req, reply) => {
    await service.revokeAccessToken(deps, authOf(req), req.params.id)
    return reply.status(204).send(null)
  })
}
