import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
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
      description: 'Products are archived (`is_archived: true`), never deleted: orders and links keep pointing at them.',
      params: ProductIdParams,
      body: ProductUpdate,
      response: { 200: Product, 404: ErrorBody, ...commonErrors },
    },
  }, async (req) => service.updateProduct(deps, authOf(req), req.params.id, req.body))
}
