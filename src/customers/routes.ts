import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Deps } from '../deps'
import { authOf } from '../auth/hooks'
import { ErrorBody, commonErrors } from '../http/schemas'
import { Customer, CustomerIdParams, CustomerList, CustomerListQuery } from './schemas'
import * as service from './service'

const tags = ['customers']
const read = { scope: 'customers:read' } as const

export const customerRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get('/', {
    config: read,
    schema: {
      tags,
      summary: 'List Customers',
      description: 'Customers are made when a checkout succeeds: one per email per organization, whatever the case of the address.',
      querystring: CustomerListQuery,
      response: { 200: CustomerList, ...commonErrors },
    },
  }, async (req) => service.listCustomers(deps, authOf(req), req.query))

  app.get('/:id', {
    config: read,
    schema: { tags, summary: 'Get Customer', params: CustomerIdParams, response: { 200: Customer, 404: ErrorBody, ...commonErrors } },
  }, async (req) => service.getCustomerOrThrow(deps, authOf(req), req.params.id))
}
