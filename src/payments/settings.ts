/**
 * What an organization pays with, as confirm, the hosted page and Stripe's webhooks need it: the sandbox, or a
 * Stripe account with its keys opened (never logged, never returned by the API). `source` says where the keys
 * come from: the organization's own settings or the install's STRIPE_* environment defaults.
 */
export type ProcessorSettings =
  | { processor: 'sandbox'; livemode: false }
  | {
      processor: 'stripe'
      secretKey: string
      publishableKey: string
      /** The signing secret of the webhook endpoint registered in Stripe; null until the merchant sets it. */
      webhookSecret: string | null
      livemode: boolean
      source: 'organization' | 'environment'
    }

export type StripeSettings = Extract<ProcessorSettings, { processor: 'stripe' }>
