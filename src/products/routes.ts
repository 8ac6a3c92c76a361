import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Deps } from '../deps'
import { authOf } from '../auth/hooks'
import { ErrorBody, commonErrors } from '../http/schemas'
import { Product, ProductCreate, ProductIdParams, ProductList, ProductListQuery, ProductUpdate } from './schemas'
import * as service from './service'

const tags = ['products']
const read = { scope: 'products:read' } as const
const write = { scope: 'products:write' } as const

export const productRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get('/', {
    config: read,
    schema: { tags, summary: 'List Products', querystring: ProductListQuery, response: { 200: ProductList, ...commonErrors } },
  }, async (req) => service.listProducts(deps, authOf(req), req.query))

  app.post('/', {
    config: write,
    schema: { tags, summary: 'Create Product', body: ProductCreate, response: { 201: Product, ...commonErrors } },
  }, async (req, reply) => reply.status(201).send(await service.createProduct(deps, authOf(req), req.body)))

  app.get('/:id', {
    config: read,
    schema: { tags, summary: 'Get Product', params: ProductIdParams, response: { 200: Product, 404: ErrorBody, ...commonErrors } },
  }, async (req) => service.getProductOrThrow(deps, authOf(req), req.params.id))

  app.patch('/:id', {
    config: write,
    schema: {
      tags,
      summary: 'Update Product',
      description: 'Archive a product with `is_archived: true`: orders, sessions and links keep pointing at it.',
      params: ProductIdParams,
      body: ProductUpdate,
      response: { 200: Product, 404: ErrorBody, ...commonErrors },
    },
  }, async (req) => service.updateProduct(deps, authOf(req), req.params.id, req.body))

  app.delete('/:id', {
    config: write,
    schema: {
      tags,
      summary: 'Delete Product',
      description:
        'Deletes a product for good, with its prices; checkout links stop offering it. A product an order, subscription, checkout session or discount refers to cannot be deleted (`is_deletable: false`): 409 `ProductNotDeletable`; archive it instead.',
      params: ProductIdParams,
      response: { 204: z.null(), 404: ErrorBody, 409: ErrorBody, ...commonErrors },
    },
  }, async (req, reply) => {
    await service.deleteProduct(deps, authOf(req), req.params.id)
    return reply.status(204).send(null)
  })
}
