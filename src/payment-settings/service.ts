import type { Executor } from '../db/index'
import type { Deps } from '../deps'
import { PaymentsUnavailable } from '../http/errors'
import { openSecret, parseEncryptionKey, SecretBoxError } from '../lib/secret-box'
import { findPaymentSettings, type PaymentSettingsRow } from './repository'
import type { ProcessorSettings } from './types'

export type { ProcessorSettings, StripeSettings } from './types'

type D = Pick<Deps, 'db' | 'config'>

/** The install's default: the STRIPE_* environment variables (a single-merchant install), else the sandbox. */
export function defaultProcessorSettings(config: D['config']): ProcessorSettings {
  if (config.stripeSecretKey && config.stripePublishableKey) {
    return { processor: 'stripe', secretKey: config.stripeSecretKey, publishableKey: config.stripePublishableKey, webhookSecret: config.stripeWebhookSecret ?? null, livemode: config.stripeSecretKey.split('_')[1] === 'live', source: 'environment' }
  }
  return { processor: 'sandbox', livemode: false }
}

/** The aad binding a sealed secret to its organization and purpose. */
export const secretAad = (organizationId: string, field: 'secret_key' | 'webhook_secret') => `kassa:payment-settings:${organizationId}:${field}`

/** Opens a stored row's secrets; a missing or wrong ENCRYPTION_KEY is a 503 for this organization, never the keys' absence. */
export function settingsFromRow(config: D['config'], row: PaymentSettingsRow): ProcessorSettings {
  if (row.processor === 'sandbox') return { processor: 'sandbox', livemode: false }
  if (!row.stripe_secret_key_sealed || !row.stripe_publishable_key) return defaultProcessorSettings(config)
  if (!config.encryptionKey) throw new PaymentsUnavailable('Payments are unavailable: this install has no ENCRYPTION_KEY to open the stored Stripe keys.')
  try {
    const key = parseEncryptionKey(config.encryptionKey)
    return {
      processor: 'stripe',
      secretKey: openSecret(key, row.stripe_secret_key_sealed, secretAad(row.organization_id, 'secret_key')),
      publishableKey: row.stripe_publishable_key,
      webhookSecret: row.stripe_webhook_secret_sealed ? openSecret(key, row.stripe_webhook_secret_sealed, secretAad(row.organization_id, 'webhook_secret')) : null,
      livemode: row.livemode,
      source: 'organization',
    }
  } catch (err) {
    if (err instanceof SecretBoxError) throw new PaymentsUnavailable('Payments are unavailable: the stored Stripe keys do not open with this install\'s ENCRYPTION_KEY.')
    throw err
  }
}

/**
 * What an organization pays with: its own settings if it has any (a stored `sandbox` choice included), else
 * the install's default. One primary-key read.
 */
export async function processorSettingsFor(deps: D, organizationId: string, db: Executor = deps.db): Promise<ProcessorSettings> {
  const row = await findPaymentSettings(db, organizationId)
  return row ? settingsFromRow(deps.config, row) : defaultProcessorSettings(deps.config)
}
