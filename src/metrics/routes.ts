import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Deps } from '../deps'
import { authOf } from '../auth/hooks'
import { commonErrors } from '../http/schemas'
import { MetricsLimits, MetricsQuery, MetricsResponse } from './schemas'
import * as service from './service'

const tags = ['metrics']
const read = { scope: 'metrics:read' } as const

export const metricRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get('/', {
    config: read,
    schema: {
      tags,
      summary: 'Get Metrics',
      description:
        'Get metrics about your orders and subscriptions, in Polar\'s shape: one entry of `periods` per interval from the start date to the end date, ' +
        'in `timezone` (an IANA name), with `totals` over the range and the `metrics` returned. Currency values are output in cents. ' +
        'An interval longer than `GET /v1/metrics/limits` allows is a 422. ' +
        'Kassa counts a checkout when its session is created (`created_at`): Polar counts it when its page is first opened, a moment Kassa does not record yet.',
      querystring: MetricsQuery,
      response: { 200: MetricsResponse, ...commonErrors },
    },
  }, async (req) => service.getMetrics(deps, authOf(req), req.query))

  app.get('/limits', {
    config: read,
    schema: { tags, summary: 'Get Metrics Limits', description: 'Get the interval limits for the metrics endpoint.', response: { 200: MetricsLimits, ...commonErrors } },
  }, async () => service.metricsLimits())
}
