import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Deps } from '../deps'
import { authOf } from '../auth/hooks'
import { ErrorBody, commonErrors } from '../http/schemas'
import { Order, OrderIdParams, OrderList, OrderListQuery } from './schemas'
import * as service from './service'

const tags = ['orders']
const read = { scope: 'orders:read' } as const

export const orderRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get('/', {
    config: read,
    schema: {
      tags,
      summary: 'List Orders',
      description: "Orders are made when a checkout session succeeds: one per session. `query` (the customer's email) is a Kassa addition.",
      querystring: OrderListQuery,
      response: { 200: OrderList, ...commonErrors },
    },
  }, async (req) => service.listOrders(deps, authOf(req), req.query))

  app.get('/:id', {
    config: read,
    schema: { tags, summary: 'Get Order', params: OrderIdParams, response: { 200: Order, 404: ErrorBody, ...commonErrors } },
  }, async (req) => service.getOrderOrThrow(deps, authOf(req), req.params.id))
}
