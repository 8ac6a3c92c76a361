import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { requestApiVersion } from '../http/api-version'
import { z } from 'zod'
import type { Deps } from '../deps'
import { authOf } from '../auth/hooks'
import { ErrorBody, commonErrors } from '../http/schemas'
import {
  WebhookDeliveryList,
  WebhookDeliveryListQuery,
  WebhookEndpoint,
  WebhookEndpointCreate,
  WebhookEndpointIdParams,
  WebhookEndpointList,
  WebhookEndpointListQuery,
  WebhookEndpointUpdate,
  WebhookEventIdParams,
} from './schemas'
import * as service from './service'

const tags = ['webhooks']
const read = { scope: 'webhooks:read' } as const
const write = { scope: 'webhooks:write' } as const

const signing =
  'Events are POSTed as JSON `{"type", "timestamp", "data"}` with Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`). ' +
  "The HMAC key is the secret string's UTF-8 bytes, as Polar: `validateEvent(body, headers, secret)` from `@polar-sh/sdk/webhooks` verifies them; " +
  'with a Standard Webhooks library, pass the base64 of the secret. Kassa stores the secret in clear (it must sign with it) and shows it only here.'

export const webhookRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get('/endpoints', {
    config: read,
    schema: { tags, summary: 'List Webhook Endpoints', querystring: WebhookEndpointListQuery, response: { 200: WebhookEndpointList, ...commonErrors } },
  }, async (req) => service.listEndpoints(deps, authOf(req), req.query))

  app.post('/endpoints', {
    config: write,
    schema: {
      tags,
      summary: 'Create Webhook Endpoint',
      description: `${signing} Stricter than Polar: the URL must be https and resolve to public addresses (unless WEBHOOKS_ALLOW_INSECURE), and only the raw format is accepted.`,
      body: WebhookEndpointCreate,
      response: { 201: WebhookEndpoint, ...commonErrors },
    },
  }, async (req, reply) => reply.status(201).send(await service.createEndpoint(deps, authOf(req), req.body, requestApiVersion(req))))

  app.get('/endpoints/:id', {
    config: read,
    schema: { tags, summary: 'Get Webhook Endpoint', description: 'The secret is masked.', params: WebhookEndpointIdParams, response: { 200: WebhookEndpoint, 404: ErrorBody, ...commonErrors } },
  }, async (req) => service.getEndpointOrThrow(deps, authOf(req), req.params.id))

  app.patch('/endpoints/:id', {
    config: write,
    schema: {
      tags,
      summary: 'Update Webhook Endpoint',
      description: 'Set `enabled: true` to re-enable an endpoint disabled after 10 consecutive failed events.',
      params: WebhookEndpointIdParams,
      body: WebhookEndpointUpdate,
      response: { 200: WebhookEndpoint, 404: ErrorBody, ...commonErrors },
    },
  }, async (req) => service.updateEndpoint(deps, authOf(req), req.params.id, req.body))

  app.patch('/endpoints/:id/secret', {
    config: write,
    schema: {
      tags,
      summary: 'Reset Webhook Endpoint Secret',
      description: 'A new secret, returned in full this once; the old one stops working at once.',
      params: WebhookEndpointIdParams,
      response: { 200: WebhookEndpoint, 404: ErrorBody, ...commonErrors },
    },
  }, async (req) => service.resetEndpointSecret(deps, authOf(req), req.params.id))

  app.delete('/endpoints/:id', {
    config: write,
    schema: {
      tags,
      summary: 'Delete Webhook Endpoint',
      description: 'Nothing more is sent to it, pending retries included; its delivery log stays listable.',
      params: WebhookEndpointIdParams,
      response: { 204: z.null(), 404: ErrorBody, ...commonErrors },
    },
  }, async (req, reply) => {
    await service.deleteEndpoint(deps, authOf(req), req.params.id)
    return reply.status(204).send(null)
  })

  app.get('/deliveries', {
    config: read,
    schema: {
      tags,
      summary: 'List Webhook Deliveries',
      description: 'Every attempt, newest first, with its status code, duration, attempt number and the first 2 KB of the response.',
      querystring: WebhookDeliveryListQuery,
      response: { 200: WebhookDeliveryList, ...commonErrors },
    },
  }, async (req) => service.listDeliveries(deps, authOf(req), req.query))

  app.post('/events/:id/redeliver', {
    config: write,
    schema: {
      tags,
      summary: 'Redeliver Webhook Event',
      description: 'Sends the event again (same `webhook-id` and body, fresh signature), with the usual retries. An event of a disabled endpoint is skipped.',
      params: WebhookEventIdParams,
      response: { 202: z.null(), 404: ErrorBody, ...commonErrors },
    },
  }, async (req, reply) => {
    await service.redeliverEvent(deps, authOf(req), req.params.id)
    return reply.status(202).send(null)
  })
}
