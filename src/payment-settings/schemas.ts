import { z } from 'zod'
import { NullableTimestamp } from '../http/schemas'

/** The Stripe events Kassa handles: the ones to select when adding the webhook endpoint in Stripe. */
export const STRIPE_WEBHOOK_EVENTS = [
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'setup_intent.succeeded',
  'setup_intent.setup_failed',
  'charge.refunded',
  'charge.refund.updated',
  'charge.dispute.created',
] as const

export const Processor = z.enum(['sandbox', 'stripe']).describe('`sandbox`: simulated payments, no money moves. `stripe`: real payments through Stripe.')

export const StripeAccountSettings = z
  .object({
    secret_key_last4: z.string().describe('The last four characters of the secret key; the key itself is never shown.'),
    secret_key_type: z.enum(['secret', 'restricted']).describe('`secret` (sk_…) or `restricted` (rk_…).'),
    publishable_key: z.string().describe('The publishable key (pk_…), in full: it is public, the checkout page sends it to the browser.'),
    webhook_secret_last4: z.string().nullable().describe('The last four characters of the webhook signing secret; null until it is set.'),
    mode: z.enum(['test', 'live']).describe('The keys\' mode: `test` keys move no real money.'),
  })
  .describe('The stored Stripe keys, without their secrets.')

/** Kassa's own: Polar has no such endpoint (its payments are Polar's). */
export const PaymentSettings = z
  .object({
    processor: Processor.describe('What checkouts of this organization pay with.'),
    source: z
      .enum(['organization', 'environment', 'default'])
      .describe('`organization`: its own settings. `environment`: the install\'s STRIPE_* keys (it has none of its own). `default`: the sandbox (neither).'),
    livemode: z.boolean().describe('Whether payments move real money: Stripe with live keys.'),
    stripe: StripeAccountSettings.nullable().describe('The Stripe keys in use or stored (kept while the processor is `sandbox`); null when there are none.'),
    webhook_url: z.string().describe('The URL to add as a webhook endpoint in Stripe (Developers → Webhooks).'),
    webhook_events: z.array(z.enum(STRIPE_WEBHOOK_EVENTS)).describe('The events to select for that endpoint.'),
    encryption_key_configured: z.boolean().describe('Whether the install has an ENCRYPTION_KEY, which storing Stripe secrets requires.'),
    modified_at: NullableTimestamp.describe('When the settings last changed; null if the organization never set any.'),
  })
  .describe('An organization\'s payment processor settings.')
export type PaymentSettings = z.infer<typeof PaymentSettings>

// Secrets are checked in the service, so a malformed one is never echoed in the 422 body.
const Secret = z.string().max(1000)

export const PaymentSettingsSandboxUpdate = z
  .strictObject({ processor: z.literal('sandbox') })
  .describe('Simulated payments. Stored Stripe keys are kept, so switching back to `stripe` needs no keys.')

export const PaymentSettingsStripeUpdate = z
  .strictObject({
    processor: z.literal('stripe'),
    secret_key: Secret.optional().describe('Secret key (sk_test_…, sk_live_…) or restricted key (rk_…). Required unless one is stored; omitted keeps the stored one.'),
    publishable_key: z.string().max(1000).optional().describe('Publishable key (pk_test_… or pk_live_…), from the same mode as the secret key. Required unless one is stored.'),
    webhook_secret: Secret.optional().describe('The signing secret (whsec_…) of the webhook endpoint added in Stripe. Omitted keeps the stored one.'),
  })
  .describe('Real payments through Stripe.')

export const PaymentSettingsUpdate = z.discriminatedUnion('processor', [PaymentSettingsSandboxUpdate, PaymentSettingsStripeUpdate])
export type PaymentSettingsUpdate = z.infer<typeof PaymentSettingsUpdate>
