import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Deps } from '../deps'
import { authOf } from '../auth/hooks'
import { ErrorBody, commonErrors } from '../http/schemas'
import { Refund, RefundCreate, RefundList, RefundListQuery } from './schemas'
import * as service from './service'

const tags = ['refunds']
const read = { scope: 'refunds:read' } as const
const write = { scope: 'refunds:write' } as const

export const refundRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get('/', {
    config: read,
    schema: { tags, summary: 'List Refunds', querystring: RefundListQuery, response: { 200: RefundList, ...commonErrors } },
  }, async (req) => service.listRefunds(deps, authOf(req), req.query))

  app.post('/', {
    config: write,
    schema: {
      tags,
      summary: 'Create Refund',
      description:
        'Refunds a paid order, fully or in part, through its payment processor: never more than was paid, the tax refunded in proportion. ' +
        'An unknown order (or another organization\'s) is a 422 on `order_id`, as in Polar; more than is left to refund a 422 on `amount`.',
      body: RefundCreate,
      response: {
        ...commonErrors,
        201: Refund,
        400: ErrorBody.describe('`revoke_benefits` on a subscription order (RevokeSubscriptionBenefitsProhibited), or the processor refused the refund (PaymentError).'),
        403: ErrorBody.describe('Order is already fully refunded (RefundedAlready), its payment is disputed (RefundDisputedPayment), or the token lacks the scope.'),
        404: ErrorBody.describe('The order has no successful payment (RefundUnknownPayment).'),
        503: ErrorBody.describe('The processor could not be reached: the refund stays pending.'),
      },
    },
  }, async (req, reply) => reply.status(201).send(await service.createRefund(deps, authOf(req), req.body)))
}
