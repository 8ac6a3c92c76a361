import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Deps } from '../deps'
import { authOf } from '../auth/hooks'
import { ErrorBody, commonErrors } from '../http/schemas'
import { Discount, DiscountCreate, DiscountIdParams, DiscountList, DiscountListQuery, DiscountUpdate } from './schemas'
import * as service from './service'

const tags = ['discounts']
const read = { scope: 'discounts:read' } as const
const write = { scope: 'discounts:write' } as const

export const discountRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get('/', {
    config: read,
    schema: { tags, summary: 'List Discounts', querystring: DiscountListQuery, response: { 200: DiscountList, ...commonErrors } },
  }, async (req) => service.listDiscounts(deps, authOf(req), req.query))

  app.post('/', {
    config: write,
    schema: { tags, summary: 'Create Discount', body: DiscountCreate, response: { 201: Discount, ...commonErrors } },
  }, async (req, reply) => reply.status(201).send(await service.createDiscount(deps, authOf(req), req.body)))

  app.get('/:id', {
    config: read,
    schema: { tags, summary: 'Get Discount', params: DiscountIdParams, response: { 200: Discount, 404: ErrorBody, ...commonErrors } },
  }, async (req) => service.getDiscountOrThrow(deps, authOf(req), req.params.id))

  app.patch('/:id', {
    config: write,
    schema: {
      tags,
      summary: 'Update Discount',
      description:
        'Only the keys sent are changed. `type` and `duration` cannot change; the amount, currency and basis points cannot change once the discount has been redeemed.',
      params: DiscountIdParams,
      body: DiscountUpdate,
      response: { 200: Discount, 404: ErrorBody, ...commonErrors },
    },
  }, async (req) => service.updateDiscount(deps, authOf(req), req.params.id, req.body))

  app.delete('/:id', {
    config: write,
    schema: {
      tags,
      summary: 'Delete Discount',
      description: 'Soft delete: the discount disappears from the API and its code can be used again.',
      params: DiscountIdParams,
      response: { 204: z.null(), 404: ErrorBody, ...commonErrors },
    },
  }, async (req, reply) => {
    await service.deleteDiscount(deps, authOf(req), req.params.id)
    return reply.status(204).send(null)
  })
}
