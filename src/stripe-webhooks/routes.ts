import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Deps } from '../deps'
import { handleStripeWebhook } from './service'

/** Stripe events are small (a few KB); a body far past that is not Stripe's. */
const STRIPE_BODY_LIMIT = 256 * 1024

/**
 * `POST /v1/integrations/stripe/webhook/{organization_id}`: the URL to register in the organization's Stripe
 * dashboard (shown in its payment settings). Anonymous (Stripe signs, it has no token); the body is kept as
 * sent, bytes for bytes, because the signature is over them.
 */
export async function stripeWebhookRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: STRIPE_BODY_LIMIT }, (_req, body, done) => done(null, body))
  app.withTypeProvider<ZodTypeProvider>().post('/v1/integrations/stripe/webhook/:organization_id', {
    bodyLimit: STRIPE_BODY_LIMIT,
    schema: {
      tags: ['integrations'],
      summary: 'Stripe webhook',
      description: "Kassa's endpoint for Stripe's events about an organization's payments (register it in Stripe with the events listed in the payment settings). Verified with the organization's webhook signing secret; each event is handled once.",
      params: z.object({ organization_id: z.string() }),
      response: { 200: z.object({ received: z.literal(true), handled: z.boolean(), duplicate: z.boolean().optional() }) },
    },
  }, async (req) => {
    const signature = req.headers['stripe-signature']
    return handleStripeWebhook(deps, req.params.organization_id, Buffer.isBuffer(req.body) ? req.body : undefined, typeof signature === 'string' ? signature : undefined)
  })
}
