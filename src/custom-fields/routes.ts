import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Deps } from '../deps'
import { authOf } from '../auth/hooks'
import { ErrorBody, commonErrors } from '../http/schemas'
import { CustomField, CustomFieldCreate, CustomFieldIdParams, CustomFieldList, CustomFieldListQuery, CustomFieldUpdate } from './schemas'
import * as service from './service'

const tags = ['custom-fields']
const read = { scope: 'custom_fields:read' } as const
const write = { scope: 'custom_fields:write' } as const

export const customFieldRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get('/', {
    config: read,
    schema: { tags, summary: 'List Custom Fields', querystring: CustomFieldListQuery, response: { 200: CustomFieldList, ...commonErrors } },
  }, async (req) => service.listCustomFields(deps, authOf(req), req.query))

  app.post('/', {
    config: write,
    schema: { tags, summary: 'Create Custom Field', body: CustomFieldCreate, response: { 201: CustomField, ...commonErrors } },
  }, async (req, reply) => reply.status(201).send(await service.createCustomField(deps, authOf(req), req.body)))

  app.get('/:id', {
    config: read,
    schema: { tags, summary: 'Get Custom Field', params: CustomFieldIdParams, response: { 200: CustomField, 404: ErrorBody, ...commonErrors } },
  }, async (req) => service.getCustomFieldOrThrow(deps, authOf(req), req.params.id))

  app.patch('/:id', {
    config: write,
    schema: { tags, summary: 'Update Custom Field', params: CustomFieldIdParams, body: CustomFieldUpdate, response: { 200: CustomField, 404: ErrorBody, ...commonErrors } },
  }, async (req) => service.updateCustomField(deps, authOf(req), req.params.id, req.body))

  app.delete('/:id', {
    config: write,
    schema: { tags, summary: 'Delete Custom Field', params: CustomFieldIdParams, response: { 204: z.null(), 404: ErrorBody, ...commonErrors } },
  }, async (req, reply) => {
    await service.deleteCustomField(deps, authOf(req), req.params.id)
    return reply.status(204).send(null)
  })
}
