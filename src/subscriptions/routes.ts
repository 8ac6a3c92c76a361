import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Deps } from '../deps'
import { authOf } from '../auth/hooks'
import { ErrorBody, commonErrors } from '../http/schemas'
import { Subscription, SubscriptionIdParams, SubscriptionList, SubscriptionListQuery } from './schemas'
import * as service from './service'

const tags = ['subscriptions']
const read = { scope: 'subscriptions:read' } as const

export const subscriptionRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get('/', {
    config: read,
    schema: {
      tags,
      summary: 'List Subscriptions',
      description: 'Subscriptions are made when a checkout for a recurring product succeeds. Kassa does not cancel or renew them yet.',
      querystring: SubscriptionListQuery,
      response: { 200: SubscriptionList, ...commonErrors },
    },
  }, async (req) => service.listSubscriptions(deps, authOf(req), req.query))

  app.get('/:id', {
    config: read,
    schema: { tags, summary: 'Get Subscription', params: SubscriptionIdParams, response: { 200: Subscription, 404: ErrorBody, ...commonErrors } },
  }, async (req) => service.getSubscriptionOrThrow(deps, authOf(req), req.params.id))
}
