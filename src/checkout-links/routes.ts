import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Deps } from '../deps'
import { authOf } from '../auth/hooks'
import { ResourceNotFound } from '../http/errors'
import { ErrorBody, commonErrors } from '../http/schemas'
import {
  CheckoutLink,
  CheckoutLinkCreate,
  CheckoutLinkIdParams,
  CheckoutLinkList,
  CheckoutLinkListQuery,
  CheckoutLinkSecretParams,
  CheckoutLinkUpdate,
} from './schemas'
import * as service from './service'

const tags = ['checkout-links']
const read = { scope: 'checkout_links:read' } as const
const write = { scope: 'checkout_links:write' } as const

export const checkoutLinkRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get('/', {
    config: read,
    schema: { tags, summary: 'List Checkout Links', querystring: CheckoutLinkListQuery, response: { 200: CheckoutLinkList, ...commonErrors } },
  }, async (req) => service.listCheckoutLinks(deps, authOf(req), req.query))

  app.post('/', {
    config: write,
    schema: { tags, summary: 'Create Checkout Link', body: CheckoutLinkCreate, response: { 201: CheckoutLink, ...commonErrors } },
  }, async (req, reply) => reply.status(201).send(await service.createCheckoutLink(deps, authOf(req), req.body)))

  app.get('/:id', {
    config: read,
    schema: { tags, summary: 'Get Checkout Link', params: CheckoutLinkIdParams, response: { 200: CheckoutLink, 404: ErrorBody, ...commonErrors } },
  }, async (req) => service.getCheckoutLinkOrThrow(deps, authOf(req), req.params.id))

  app.patch('/:id', {
    config: write,
    schema: { tags, summary: 'Update Checkout Link', params: CheckoutLinkIdParams, body: CheckoutLinkUpdate, response: { 200: CheckoutLink, 404: ErrorBody, ...commonErrors } },
  }, async (req) => service.updateCheckoutLink(deps, authOf(req), req.params.id, req.body))

  app.delete('/:id', {
    config: write,
    schema: {
      tags,
      summary: 'Delete Checkout Link',
      description: 'Soft delete: the link stops opening sessions; sessions already opened are unaffected.',
      params: CheckoutLinkIdParams,
      response: { 204: z.null(), 404: ErrorBody, ...commonErrors },
    },
  }, async (req, reply) => {
    await service.deleteCheckoutLink(deps, authOf(req), req.params.id)
    return reply.status(204).send(null)
  })
}
