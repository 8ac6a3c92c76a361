import type { AuthContext } from '../auth/types'
import type { Executor } from '../db/index'
import type { Deps } from '../deps'
import { EncryptionKeyMissing, PaymentsUnavailable, RequestValidationError, ResourceNotFound, type ValidationIssue } from '../http/errors'
import { isoOrNull } from '../http/schemas'
import { openSecret, parseEncryptionKey, sealSecret, SecretBoxError } from '../lib/secret-box'
import { anySealedSecrets, findPaymentSettings, findPaymentSettingsForUpdate, upsertPaymentSettings, type PaymentSettingsRow } from './repository'
import { STRIPE_WEBHOOK_EVENTS, type PaymentSettings, type PaymentSettingsUpdate } from './schemas'
import type { ProcessorSettings, StripeSettings } from './types'

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
export function settingsFromRow(config: D['config'], row: PaymentSettingsRow, opts: { evenIfSandbox?: boolean } = {}): ProcessorSettings {
  if (row.processor === 'sandbox' && !opts.evenIfSandbox) return { processor: 'sandbox', livemode: false }
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

/**
 * The Stripe account of a payment already made on Stripe, whatever the organization pays with now: a
 * session confirmed on Stripe before the organization switched to the sandbox still settles, is
 * reconciled, and hears Stripe's webhooks (switching to the sandbox keeps the stored keys). Null when no
 * Stripe keys are known (then nothing can be asked of Stripe).
 */
export async function stripeSettingsOf(deps: D, organizationId: string, db: Executor = deps.db): Promise<StripeSettings | null> {
  const row = await findPaymentSettings(db, organizationId)
  const settings = row ? settingsFromRow(deps.config, row, { evenIfSandbox: true }) : defaultProcessorSettings(deps.config)
  return settings.processor === 'stripe' ? settings : null
}

// ---- The settings API (GET/PUT /v1/organizations/{id}/payment-settings) ----

const SECRET_KEY_RE = /^(sk|rk)_(test|live)_[A-Za-z0-9]{10,}$/
const PUBLISHABLE_KEY_RE = /^pk_(test|live)_[A-Za-z0-9]{10,}$/
const WEBHOOK_SECRET_RE = /^whsec_[A-Za-z0-9+/=]{10,}$/

const keyMode = (key: string): 'test' | 'live' => (key.split('_')[1] === 'live' ? 'live' : 'test')
const last4 = (secret: string) => secret.slice(-4)
const modeName = (mode: 'test' | 'live') => (mode === 'live' ? 'a live key' : 'a test key')

export const webhookUrlFor = (config: D['config'], organizationId: string) => `${config.publicUrl}/v1/integrations/stripe/webhook/${organizationId}`

function assertOwn(auth: AuthContext, id: string): void {
  if (id !== auth.organizationId) throw new ResourceNotFound()
}

/** `sk_…` or `rk_…`: read from the opened key, which is never returned. */
function secretKeyType(config: D['config'], row: PaymentSettingsRow): 'secret' | 'restricted' {
  if (!config.encryptionKey) throw new PaymentsUnavailable('Payments are unavailable: this install has no ENCRYPTION_KEY to open the stored Stripe keys.')
  try {
    const key = openSecret(parseEncryptionKey(config.encryptionKey), row.stripe_secret_key_sealed!, secretAad(row.organization_id, 'secret_key'))
    return key.startsWith('rk_') ? 'restricted' : 'secret'
  } catch (err) {
    if (err instanceof SecretBoxError) throw new PaymentsUnavailable('Payments are unavailable: the stored Stripe keys do not open with this install\'s ENCRYPTION_KEY.')
    throw err
  }
}

function present(config: D['config'], organizationId: string, row: PaymentSettingsRow | undefined): PaymentSettings {
  const common = {
    webhook_url: webhookUrlFor(config, organizationId),
    webhook_events: [...STRIPE_WEBHOOK_EVENTS],
    encryption_key_configured: Boolean(config.encryptionKey),
  }
  if (!row) {
    const fallback = defaultProcessorSettings(config)
    if (fallback.processor === 'sandbox') return { processor: 'sandbox', source: 'default', livemode: false, stripe: null, ...common, modified_at: null }
    return {
      processor: 'stripe',
      source: 'environment',
      livemode: fallback.livemode,
      stripe: {
        secret_key_last4: last4(fallback.secretKey),
        secret_key_type: fallback.secretKey.startsWith('rk_') ? 'restricted' : 'secret',
        publishable_key: fallback.publishableKey,
        webhook_secret_last4: fallback.webhookSecret ? last4(fallback.webhookSecret) : null,
        mode: keyMode(fallback.secretKey),
      },
      ...common,
      modified_at: null,
    }
  }
  const stored = row.stripe_secret_key_sealed && row.stripe_publishable_key && row.stripe_secret_key_last4
  return {
    processor: row.processor,
    source: 'organization',
    livemode: row.processor === 'stripe' && row.livemode,
    stripe: stored
      ? {
          secret_key_last4: row.stripe_secret_key_last4!,
          secret_key_type: secretKeyType(config, row),
          publishable_key: row.stripe_publishable_key!,
          webhook_secret_last4: row.stripe_webhook_secret_sealed ? row.stripe_webhook_secret_last4 : null,
          mode: row.livemode ? 'live' : 'test',
        }
      : null,
    ...common,
    modified_at: isoOrNull(row.modified_at ?? row.created_at),
  }
}

export async function getPaymentSettings(deps: D, auth: AuthContext, organizationId: string): Promise<PaymentSettings> {
  assertOwn(auth, organizationId)
  return present(deps.config, organizationId, await findPaymentSettings(deps.db, organizationId))
}

/** Every field problem of a Stripe update at once; nothing is written unless there are none. */
function stripeProblems(input: Extract<PaymentSettingsUpdate, { processor: 'stripe' }>, row: PaymentSettingsRow | undefined): ValidationIssue[] {
  const issues: ValidationIssue[] = []
  const problem = (field: string, msg: string, type = 'value_error') => issues.push({ loc: ['body', field], msg, type })
  const { secret_key: secret, publishable_key: publishable, webhook_secret: webhook } = input
  if (secret !== undefined && !SECRET_KEY_RE.test(secret)) {
    problem('secret_key', 'Not a Stripe secret key: paste the secret key (sk_test_… or sk_live_…) or a restricted key (rk_test_… or rk_live_…) from Stripe\'s Developers → API keys.')
  }
  if (publishable !== undefined && !PUBLISHABLE_KEY_RE.test(publishable)) {
    problem('publishable_key', 'Not a Stripe publishable key: paste the publishable key (pk_test_… or pk_live_…) from Stripe\'s Developers → API keys.')
  }
  if (webhook !== undefined && !WEBHOOK_SECRET_RE.test(webhook)) {
    problem('webhook_secret', 'Not a Stripe webhook signing secret: paste the signing secret (whsec_…) shown on the webhook endpoint\'s page in Stripe.')
  }
  const hasStored = Boolean(row?.stripe_secret_key_sealed && row.stripe_publishable_key)
  if (!hasStored && secret === undefined) problem('secret_key', 'Field required: no Stripe secret key is stored yet.', 'missing')
  if (!hasStored && publishable === undefined) problem('publishable_key', 'Field required: no Stripe publishable key is stored yet.', 'missing')
  if (issues.length) return issues
  const secretMode = secret !== undefined ? keyMode(secret) : row!.livemode ? 'live' : 'test'
  const publishableMode = keyMode(publishable ?? row!.stripe_publishable_key!)
  if (secretMode !== publishableMode) {
    // Named at the key sent: the publishable key when both are (or only it is), the secret key when only it is.
    if (publishable !== undefined) {
      problem('publishable_key', `This is ${modeName(publishableMode)} but the secret key${secret === undefined ? ' stored' : ''} is ${modeName(secretMode)}: use a secret key and publishable key from the same mode (both test or both live).`)
    } else {
      problem('secret_key', `This is ${modeName(secretMode)} but the publishable key stored is ${modeName(publishableMode)}: use a secret key and publishable key from the same mode (both test or both live).`)
    }
  }
  return issues
}

/**
 * Switches the organization's processor. `stripe` stores the keys sent (sealed with ENCRYPTION_KEY) and keeps
 * those omitted; `sandbox` keeps the stored keys, so switching back needs none. Checked first, written in one
 * transaction.
 */
export async function updatePaymentSettings(deps: D & Pick<Deps, 'clock'>, auth: AuthContext, organizationId: string, input: PaymentSettingsUpdate): Promise<PaymentSettings> {
  assertOwn(auth, organizationId)
  const row = await deps.db.transaction().execute(async (tx) => {
    const current = await findPaymentSettingsForUpdate(tx, organizationId)
    const now = deps.clock.now()
    const base = {
      organization_id: organizationId,
      stripe_secret_key_sealed: current?.stripe_secret_key_sealed ?? null,
      stripe_secret_key_last4: current?.stripe_secret_key_last4 ?? null,
      stripe_publishable_key: current?.stripe_publishable_key ?? null,
      stripe_webhook_secret_sealed: current?.stripe_webhook_secret_sealed ?? null,
      stripe_webhook_secret_last4: current?.stripe_webhook_secret_last4 ?? null,
      livemode: current?.livemode ?? false,
      created_at: current?.created_at ?? now,
      modified_at: now,
    }
    if (input.processor === 'sandbox') return upsertPaymentSettings(tx, { ...base, processor: 'sandbox' })
    const issues = stripeProblems(input, current)
    if (issues.length) throw new RequestValidationError(issues)
    const { secret_key: secret, publishable_key: publishable, webhook_secret: webhook } = input
    const sealing = secret !== undefined || webhook !== undefined
    if (sealing && !deps.config.encryptionKey) throw new EncryptionKeyMissing()
    const key = sealing ? parseEncryptionKey(deps.config.encryptionKey!) : undefined
    return upsertPaymentSettings(tx, {
      ...base,
      processor: 'stripe',
      ...(secret !== undefined
        ? { stripe_secret_key_sealed: sealSecret(key!, secret, secretAad(organizationId, 'secret_key')), stripe_secret_key_last4: last4(secret), livemode: keyMode(secret) === 'live' }
        : {}),
      ...(publishable !== undefined ? { stripe_publishable_key: publishable } : {}),
      ...(webhook !== undefined
        ? { stripe_webhook_secret_sealed: sealSecret(key!, webhook, secretAad(organizationId, 'webhook_secret')), stripe_webhook_secret_last4: last4(webhook) }
        : {}),
    })
  })
  return present(deps.config, organizationId, row)
}

// ---- Start-up ----

/** The stored Stripe secrets cannot be opened: Kassa refuses to start (main.ts exits with EX_CONFIG, 78). */
export class SealedSecretsUnreadable extends Error {
  override name = 'SealedSecretsUnreadable'
}

/**
 * At start, after migrations: if an organization has sealed Stripe secrets, ENCRYPTION_KEY must be set and
 * open them. Checks one organization's row (a changed key fails on every row alike).
 */
export async function assertSealedSecretsReadable(deps: D): Promise<void> {
  const row = await anySealedSecrets(deps.db)
  if (!row) return
  if (!deps.config.encryptionKey) {
    throw new SealedSecretsUnreadable('Stripe keys are stored in the database, sealed with an ENCRYPTION_KEY, but ENCRYPTION_KEY is not set: set it to the key they were stored with.')
  }
  const key = parseEncryptionKey(deps.config.encryptionKey)
  try {
    openSecret(key, row.stripe_secret_key_sealed!, secretAad(row.organization_id, 'secret_key'))
    if (row.stripe_webhook_secret_sealed) openSecret(key, row.stripe_webhook_secret_sealed, secretAad(row.organization_id, 'webhook_secret'))
  } catch (err) {
    if (!(err instanceof SecretBoxError)) throw err
    throw new SealedSecretsUnreadable(
      `The Stripe keys stored in the database (organization ${row.organization_id}) do not open with this ENCRYPTION_KEY: set ENCRYPTION_KEY to the key they were stored with.`,
    )
  }
}

/** What a new session records of its organization's processor, without opening a secret: its processor, key mode and publishable key. */
export interface PublicProcessor {
  processor: 'sandbox' | 'stripe'
  livemode: boolean
  publishableKey: string | null
}

/** `processorSettingsFor` without the secrets, from the stored row's public columns (the link visit reads them in its one query). */
export function publicProcessorOf(config: D['config'], stored: { processor: 'sandbox' | 'stripe'; livemode: boolean; stripe_publishable_key: string | null; has_secret: boolean } | null | undefined): PublicProcessor {
  if (stored?.processor === 'sandbox') return { processor: 'sandbox', livemode: false, publishableKey: null }
  if (stored && stored.has_secret && stored.stripe_publishable_key) return { processor: 'stripe', livemode: stored.livemode, publishableKey: stored.stripe_publishable_key }
  const fallback = defaultProcessorSettings(config)
  return fallback.processor === 'stripe' ? { processor: 'stripe', livemode: fallback.livemode, publishableKey: fallback.publishableKey } : { processor: 'sandbox', livemode: false, publishableKey: null }
}

/** The columns a new session takes from its organization's processor. */
export function sessionProcessorColumns(p: PublicProcessor): { processor: string; livemode: boolean; payment_processor_metadata: string } {
  return { processor: p.processor, livemode: p.livemode, payment_processor_metadata: JSON.stringify(p.publishableKey ? { publishable_key: p.publishableKey } : {}) }
}

/** publicProcessorOf for one organization: one primary-key read (session creation over the API). */
export async function publicProcessorFor(deps: D, organizationId: string, db: Executor = deps.db): Promise<PublicProcessor> {
  const row = await findPaymentSettings(db, organizationId)
  return publicProcessorOf(deps.config, row ? { processor: row.processor, livemode: row.livemode, stripe_publishable_key: row.stripe_publishable_key, has_secret: row.stripe_secret_key_sealed !== null } : null)
}
