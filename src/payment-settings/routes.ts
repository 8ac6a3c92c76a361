import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { authOf } from '../auth/hooks'
import { ErrorBody, commonErrors } from '../http/schemas'
import { IdParams } from '../organizations/schemas'
import { PaymentSettings, PaymentSettingsUpdate } from './schemas'
import * as service from './service'
import type { Deps } from '../deps'

/** Kassa's own endpoints (Polar has none): the processor an organization's checkouts pay with. */
export const paymentSettingsRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['organizations']

  app.get('/:id/payment-settings', {
    config: { scope: 'organizations:read' },
    schema: {
      tags,
      summary: 'Get Payment Settings',
      description:
        "Kassa's own endpoint (not in Polar's API): what the organization's checkouts pay with, the sandbox or Stripe, and where the Stripe keys come from. Secrets are never shown, only their last four characters. Only the caller's own organization; any other id is a 404.",
      params: IdParams,
      response: { 200: PaymentSettings, 404: ErrorBody, 503: ErrorBody, ...commonErrors },
    },
  }, async (req) => service.getPaymentSettings(deps, authOf(req), req.params.id))

  app.put('/:id/payment-settings', {
    config: { scope: 'organizations:write' },
    schema: {
      tags,
      summary: 'Update Payment Settings',
      description:
        "Kassa's own endpoint (not in Polar's API). `{\"processor\": \"stripe\", ...}` stores the Stripe keys sent, sealed with the install's ENCRYPTION_KEY (a 400 `EncryptionKeyMissing` without one), and keeps any omitted; the secret and publishable keys are required while none are stored, and must be from the same mode. `{\"processor\": \"sandbox\"}` switches to simulated payments and keeps the stored keys, so switching back to `stripe` needs none. Only the caller's own organization; any other id is a 404.",
      params: IdParams,
      body: PaymentSettingsUpdate,
      response: { 200: PaymentSettings, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody, ...commonErrors },
    },
  }, async (req) => service.updatePaymentSettings(deps, authOf(req), req.params.id, req.body))
}
