import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { CheckoutLinkSecretParams } from '../checkout-links/schemas'
import type { Deps } from '../deps'
import { authOf } from '../auth/hooks'
import { ResourceNotFound } from '../http/errors'
import { ErrorBody, commonErrors } from '../http/schemas'
import { confirmCheckout } from './confirm'
import {
  Checkout,
  CheckoutConfirm,
  CheckoutCreate,
  CheckoutIdParams,
  CheckoutList,
  CheckoutListQuery,
  CheckoutPublic,
  CheckoutPublicConfirmed,
  CheckoutSecretParams,
  CheckoutUpdate,
  CheckoutUpdatePublic,
} from './schemas'
import * as service from './service'
import { LinkNotAvailable, visitLink } from './visit'

const tags = ['checkouts']
const read = { scope: 'checkouts:read' } as const
const write = { scope: 'checkouts:write' } as const
const sessionErrors = { 403: ErrorBody.describe('The checkout is not open (`NotOpenCheckout`).'), 404: ErrorBody, 410: ErrorBody.describe('The checkout has expired (`ExpiredCheckoutError`).'), 422: commonErrors[422] }

export const checkoutRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get('/', {
    config: read,
    schema: { tags, summary: 'List Checkout Sessions', querystring: CheckoutListQuery, response: { 200: CheckoutList, ...commonErrors } },
  }, async (req) => service.listCheckouts(deps, authOf(req), req.query))

  app.post('/', {
    config: write,
    schema: { tags, summary: 'Create Checkout Session', body: CheckoutCreate, response: { 201: Checkout, ...commonErrors } },
  }, async (req, reply) => reply.status(201).send(await service.createCheckout(deps, authOf(req), req.body)))

  app.get('/:id', {
    config: read,
    schema: { tags, summary: 'Get Checkout Session', params: CheckoutIdParams, response: { 200: Checkout, 404: ErrorBody, ...commonErrors } },
  }, async (req) => service.getCheckoutOrThrow(deps, authOf(req), req.params.id))

  app.patch('/:id', {
    config: write,
    schema: { tags, summary: 'Update Checkout Session', params: CheckoutIdParams, body: CheckoutUpdate, response: { 200: Checkout, ...commonErrors, ...sessionErrors } },
  }, async (req) => service.updateCheckout(deps, authOf(req), req.params.id, req.body))

  // The buyer's endpoints: the client secret is the credential.
  app.get('/client/:client_secret', {
    schema: { tags, summary: 'Get Checkout Session from Client', security: [], params: CheckoutSecretParams, response: { 200: CheckoutPublic, 404: ErrorBody } },
  }, async (req, reply) => {
    reply.header('cache-control', 'no-store')
    return service.getClientCheckout(deps, req.params.client_secret)
  })

  app.patch('/client/:client_secret', {
    schema: { tags, summary: 'Update Checkout Session from Client', security: [], params: CheckoutSecretParams, body: CheckoutUpdatePublic, response: { 200: CheckoutPublic, ...sessionErrors } },
  }, async (req, reply) => {
    reply.header('cache-control', 'no-store')
    return service.updateClientCheckout(deps, req.params.client_secret, req.body, { ip: req.ip })
  })

  app.post('/client/:client_secret/confirm', {
    schema: {
      tags,
      summary: 'Confirm Checkout Session from Client',
      description: 'Pays: `confirmation_token_id` `tok_sandbox_success` succeeds, `tok_sandbox_decline` answers 400 `PaymentError` and leaves the session open. Settlement is asynchronous: the session turns `succeeded` (with an order) shortly after.',
      security: [],
      params: CheckoutSecretParams,
      body: CheckoutConfirm,
      response: { 200: CheckoutPublicConfirmed, 400: ErrorBody.describe('The payment was declined (`PaymentError`).'), ...sessionErrors },
    },
  }, async (req, reply) => {
    reply.header('cache-control', 'no-store')
    return confirmCheckout(deps, req.params.client_secret, req.body, { ip: req.ip })
  })
}

/**
 * `GET /v1/checkout-links/{client_secret}/redirect`: the link visit, for API clients (the same visit as
 * `$LINK_BASE_URL/{client_secret}`, with JSON errors). Registered under the links' prefix; it lives here
 * because the visit is the checkout domain's (the links domain knows nothing of sessions).
 */
export const linkRedirectRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get('/:client_secret/redirect', {
    schema: {
      tags: ['checkout-links'],
      summary: 'Redirect to a new Checkout Session',
      description: 'Opens a new checkout session from the link (with the query parameters of the link URL) and answers 307 to its page.',
      security: [],
      params: CheckoutLinkSecretParams,
      response: { 307: z.null(), 404: ErrorBody },
    },
  }, async (req, reply) => {
    try {
      return reply.header('cache-control', 'no-store').redirect(await visitLink(deps, req.params.client_secret, req), 307)
    } catch (err) {
      if (err instanceof LinkNotAvailable) throw new ResourceNotFound()
      throw err
    }
  })
}
