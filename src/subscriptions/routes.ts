import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Deps } from '../deps'
import { authOf } from '../auth/hooks'
import { ErrorBody, commonErrors } from '../http/schemas'
import * as lifecycle from './lifecycle'
import { Subscription, SubscriptionIdParams, SubscriptionList, SubscriptionListQuery, SubscriptionUpdate } from './schemas'
import * as service from './service'

const tags = ['subscriptions']
const read = { scope: 'subscriptions:read' } as const
const write = { scope: 'subscriptions:write' } as const
const alreadyCanceled = ErrorBody.describe('The token lacks the required scope, or `AlreadyCanceledSubscription`: the subscription is already canceled, or will be at the end of the period, or has ended.')

export const subscriptionRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get('/', {
    config: read,
    schema: {
      tags,
      summary: 'List Subscriptions',
      description: 'Subscriptions are made when a checkout for a recurring product succeeds. They can be canceled at period end, uncanceled, or revoked.',
      querystring: SubscriptionListQuery,
      response: { 200: SubscriptionList, ...commonErrors },
    },
  }, async (req) => service.listSubscriptions(deps, authOf(req), req.query))

  app.get('/:id', {
    config: read,
    schema: { tags, summary: 'Get Subscription', params: SubscriptionIdParams, response: { 200: Subscription, 404: ErrorBody, ...commonErrors } },
  }, async (req) => service.getSubscriptionOrThrow(deps, authOf(req), req.params.id))

  app.patch('/:id', {
    config: write,
    schema: {
      tags,
      summary: 'Update Subscription',
      description:
        "Cancel at period end (`cancel_at_period_end: true`, with the customer's reason and comment), uncancel (`cancel_at_period_end: false`), or revoke now (`revoke: true`). " +
        "Polar's other updates (product, discount, trial, seats, billing period, pause, metadata) are answered 422: Kassa does not support them yet.",
      params: SubscriptionIdParams,
      body: SubscriptionUpdate,
      response: {
        200: Subscription,
        ...commonErrors,
        400: ErrorBody.describe('`BadRequest`: uncancel a subscription that is not set to cancel.'),
        403: alreadyCanceled,
        404: ErrorBody,
        410: ErrorBody.describe('`ResourceUnavailable`: uncancel a subscription that has already ended.'),
      },
    },
  }, async (req) => lifecycle.updateSubscription(deps, authOf(req), req.params.id, req.body))

  app.delete('/:id', {
    config: write,
    schema: {
      tags,
      summary: 'Revoke Subscription',
      description: 'Revoke a subscription, i.e. cancel it immediately.',
      params: SubscriptionIdParams,
      response: { 200: Subscription, ...commonErrors, 403: alreadyCanceled, 404: ErrorBody },
    },
  }, async (req) => lifecycle.revokeSubscription(deps, authOf(req), req.params.id))
}
