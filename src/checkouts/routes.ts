import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Deps } from '../deps'
import { authOf } from '../auth/hooks'
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
