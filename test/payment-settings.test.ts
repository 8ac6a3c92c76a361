import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config'
import { PaymentsUnavailable } from '../src/http/errors'
import { createUser } from '../src/organizations/service'
import { assertSealedSecretsReadable, processorSettingsFor, SealedSecretsUnreadable } from '../src/payment-settings/service'
import { createOrg, createTestApp, isolatedDatabase, testConfig, tokenWithScopes, type TestContext } from './helpers'

const ENCRYPTION_KEY = randomBytes(32).toString('base64')
const OTHER_KEY = randomBytes(32).toString('hex')

// Key-shaped test values (not real keys).
const SK_TEST = 'sk_test_51KassaSecretAbcdefgh1234'
const SK_LIVE = 'sk_live_51KassaSecretAbcdefgh5678'
const RK_TEST = 'rk_test_51KassaRestrictedAbcd4321'
const PK_TEST = 'pk_test_51KassaPublishableAbcd9876'
const PK_LIVE = 'pk_live_51KassaPublishableAbcd5555'
const WHSEC = 'whsec_KassaWebhookSecret+/=abcd7777'

const EVENTS = ['payment_intent.succeeded', 'payment_intent.payment_failed', 'setup_intent.succeeded', 'setup_intent.setup_failed', 'charge.refunded', 'charge.refund.updated', 'charge.dispute.created']

describe('payment settings', async () => {
  const ctx = await createTestApp({ config: { encryptionKey: ENCRYPTION_KEY } })
  const { app } = ctx
  const url = (id: string) => `/v1/organizations/${id}/payment-settings`

  const get = (c: Pick<TestContext, 'app'>, id: string, headers: Record<string, string>) => c.app.inject({ method: 'GET', url: url(id), headers })
  const put = (c: Pick<TestContext, 'app'>, id: string, headers: Record<string, string>, payload: unknown) =>
    c.app.inject({ method: 'PUT', url: url(id), headers, payload: payload as object })
  const storedRow = (id: string) => ctx.deps.db.selectFrom('organization_payment_settings').selectAll().where('organization_id', '=', id).executeTakeFirstOrThrow()

  it('answers the sandbox by default, and the install’s STRIPE_* keys as the environment’s', async () => {
    const org = await createOrg(ctx)
    const res = await get(ctx, org.organizationId, org.headers)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toEqual({
      processor: 'sandbox',
      source: 'default',
      livemode: false,
      stripe: null,
      webhook_url: `http://kassa.test/v1/integrations/stripe/webhook/${org.organizationId}`,
      webhook_events: EVENTS,
      encryption_key_configured: true,
      modified_at: null,
    })

    const env = await createTestApp({ config: { stripeSecretKey: SK_TEST, stripePublishableKey: PK_TEST, stripeWebhookSecret: WHSEC } })
    const envOrg = await createOrg(env)
    const envRes = await get(env, envOrg.organizationId, envOrg.headers)
    expect(envRes.json()).toMatchObject({
      processor: 'stripe',
      source: 'environment',
      livemode: false,
      stripe: { secret_key_last4: '1234', secret_key_type: 'secret', publishable_key: PK_TEST, webhook_secret_last4: '7777', mode: 'test' },
      encryption_key_configured: false,
    })
    expect(envRes.body).not.toContain(SK_TEST)
    expect(envRes.body).not.toContain(WHSEC)
  })

  it('stores Stripe keys sealed: the response shows last four and mode, never a secret; processorSettingsFor opens them', async () => {
    const org = await createOrg(ctx)
    const res = await put(ctx, org.organizationId, org.headers, { processor: 'stripe', secret_key: SK_TEST, publishable_key: PK_TEST, webhook_secret: WHSEC })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({
      processor: 'stripe',
      source: 'organization',
      livemode: false,
      stripe: { secret_key_last4: '1234', secret_key_type: 'secret', publishable_key: PK_TEST, webhook_secret_last4: '7777', mode: 'test' },
      webhook_events: EVENTS,
    })
    expect(res.json().modified_at).toEqual(expect.any(String))
    for (const body of [res.body, (await get(ctx, org.organizationId, org.headers)).body]) {
      expect(body).not.toContain(SK_TEST)
      expect(body).not.toContain(WHSEC)
      expect(body).not.toContain('sealed')
    }

    const row = await storedRow(org.organizationId)
    expect(JSON.stringify(row)).not.toContain(SK_TEST)
    expect(JSON.stringify(row)).not.toContain(WHSEC)
    expect(row).toMatchObject({ processor: 'stripe', stripe_secret_key_last4: '1234', stripe_webhook_secret_last4: '7777', stripe_publishable_key: PK_TEST, livemode: false })
    expect(row.stripe_secret_key_sealed).toMatch(/^v1\./)

    expect(await processorSettingsFor(ctx.deps, org.organizationId)).toEqual({
      processor: 'stripe',
      secretKey: SK_TEST,
      publishableKey: PK_TEST,
      webhookSecret: WHSEC,
      livemode: false,
      source: 'organization',
    })
  })

  it('keeps omitted secrets, reports a restricted key and live mode', async () => {
    const org = await createOrg(ctx)
    await put(ctx, org.organizationId, org.headers, { processor: 'stripe', secret_key: SK_TEST, publishable_key: PK_TEST, webhook_secret: WHSEC })
    const restricted = await put(ctx, org.organizationId, org.headers, { processor: 'stripe', secret_key: RK_TEST })
    expect(restricted.json().stripe).toEqual({ secret_key_last4: '4321', secret_key_type: 'restricted', publishable_key: PK_TEST, webhook_secret_last4: '7777', mode: 'test' })
    expect((await processorSettingsFor(ctx.deps, org.organizationId)) as object).toMatchObject({ secretKey: RK_TEST, webhookSecret: WHSEC })

    const live = await put(ctx, org.organizationId, org.headers, { processor: 'stripe', secret_key: SK_LIVE, publishable_key: PK_LIVE })
    expect(live.json()).toMatchObject({ livemode: true, stripe: { secret_key_last4: '5678', mode: 'live', webhook_secret_last4: '7777' } })
  })

  it('switching to the sandbox keeps the keys, so switching back needs none', async () => {
    const org = await createOrg(ctx)
    await put(ctx, org.organizationId, org.headers, { processor: 'stripe', secret_key: SK_TEST, publishable_key: PK_TEST })
    const sandbox = await put(ctx, org.organizationId, org.headers, { processor: 'sandbox' })
    expect(sandbox.statusCode, sandbox.body).toBe(200)
    expect(sandbox.json()).toMatchObject({ processor: 'sandbox', source: 'organization', livemode: false, stripe: { secret_key_last4: '1234', mode: 'test' } })
    expect(await processorSettingsFor(ctx.deps, org.organizationId)).toEqual({ processor: 'sandbox', livemode: false })

    const back = await put(ctx, org.organizationId, org.headers, { processor: 'stripe' })
    expect(back.statusCode, back.body).toBe(200)
    expect(back.json()).toMatchObject({ processor: 'stripe', stripe: { secret_key_last4: '1234' } })
    expect(await processorSettingsFor(ctx.deps, org.organizationId)).toMatchObject({ processor: 'stripe', secretKey: SK_TEST })
  })

  it('a stored sandbox choice overrides the install’s STRIPE_* keys', async () => {
    const env = await createTestApp({ config: { stripeSecretKey: SK_TEST, stripePublishableKey: PK_TEST } })
    const org = await createOrg(env)
    const res = await put(env, org.organizationId, org.headers, { processor: 'sandbox' })
    expect(res.json()).toMatchObject({ processor: 'sandbox', source: 'organization', stripe: null })
    expect(await processorSettingsFor(env.deps, org.organizationId)).toEqual({ processor: 'sandbox', livemode: false })
  })

  const secretMsg = "Not a Stripe secret key: paste the secret key (sk_test_… or sk_live_…) or a restricted key (rk_test_… or rk_live_…) from Stripe's Developers → API keys."
  const publishableMsg = "Not a Stripe publishable key: paste the publishable key (pk_test_… or pk_live_…) from Stripe's Developers → API keys."
  const webhookMsg = "Not a Stripe webhook signing secret: paste the signing secret (whsec_…) shown on the webhook endpoint's page in Stripe."
  const rule = (...detail: object[]) => ({ error: 'PolarRequestValidationError', detail })

  it.each([
    ['no keys stored, none sent', { processor: 'stripe' }, rule(
      { loc: ['body', 'secret_key'], msg: 'Field required: no Stripe secret key is stored yet.', type: 'missing' },
      { loc: ['body', 'publishable_key'], msg: 'Field required: no Stripe publishable key is stored yet.', type: 'missing' },
    )],
    ['only a publishable key', { processor: 'stripe', publishable_key: PK_TEST }, rule(
      { loc: ['body', 'secret_key'], msg: 'Field required: no Stripe secret key is stored yet.', type: 'missing' },
    )],
    ['a publishable key as the secret key', { processor: 'stripe', secret_key: PK_TEST, publishable_key: PK_TEST }, rule(
      { loc: ['body', 'secret_key'], msg: secretMsg, type: 'value_error' },
    )],
    ['a short secret key', { processor: 'stripe', secret_key: 'sk_test_abc', publishable_key: PK_TEST }, rule(
      { loc: ['body', 'secret_key'], msg: secretMsg, type: 'value_error' },
    )],
    ['a secret key as the publishable key', { processor: 'stripe', secret_key: SK_TEST, publishable_key: SK_TEST }, rule(
      { loc: ['body', 'publishable_key'], msg: publishableMsg, type: 'value_error' },
    )],
    ['a bad webhook secret', { processor: 'stripe', secret_key: SK_TEST, publishable_key: PK_TEST, webhook_secret: 'whsec_short' }, rule(
      { loc: ['body', 'webhook_secret'], msg: webhookMsg, type: 'value_error' },
    )],
    ['a test secret key with a live publishable key', { processor: 'stripe', secret_key: SK_TEST, publishable_key: PK_LIVE }, rule(
      { loc: ['body', 'publishable_key'], msg: 'This is a live key but the secret key is a test key: use a secret key and publishable key from the same mode (both test or both live).', type: 'value_error' },
    )],
  ])('refuses %s with a 422 naming the field, the secret never echoed', async (_name, payload, expected) => {
    const org = await createOrg(ctx)
    const res = await put(ctx, org.organizationId, org.headers, payload)
    expect(res.statusCode, res.body).toBe(422)
    expect(res.json()).toEqual(expected)
    expect(res.body).not.toContain(SK_TEST)
    expect(await ctx.deps.db.selectFrom('organization_payment_settings').select('organization_id').where('organization_id', '=', org.organizationId).executeTakeFirst()).toBeUndefined()
  })

  it('checks a key sent alone against the stored one’s mode', async () => {
    const org = await createOrg(ctx)
    await put(ctx, org.organizationId, org.headers, { processor: 'stripe', secret_key: SK_TEST, publishable_key: PK_TEST })
    const secret = await put(ctx, org.organizationId, org.headers, { processor: 'stripe', secret_key: SK_LIVE })
    expect(secret.json()).toEqual(rule({ loc: ['body', 'secret_key'], msg: 'This is a live key but the publishable key stored is a test key: use a secret key and publishable key from the same mode (both test or both live).', type: 'value_error' }))
    const publishable = await put(ctx, org.organizationId, org.headers, { processor: 'stripe', publishable_key: PK_LIVE })
    expect(publishable.json()).toEqual(rule({ loc: ['body', 'publishable_key'], msg: 'This is a live key but the secret key stored is a test key: use a secret key and publishable key from the same mode (both test or both live).', type: 'value_error' }))
    expect((await storedRow(org.organizationId)).stripe_secret_key_last4).toBe('1234')
  })

  it('refuses unknown keys and a bad processor by the schema, echoing only the extra key’s value', async () => {
    const org = await createOrg(ctx)
    const extra = await put(ctx, org.organizationId, org.headers, { processor: 'stripe', secret_key: SK_TEST, publishable_key: PK_TEST, account: 'acct_1' })
    expect(extra.statusCode).toBe(422)
    expect(extra.json()).toEqual({ error: 'RequestValidationError', detail: [{ loc: ['body', 'account'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden', input: 'acct_1' }] })
    const sandboxExtra = await put(ctx, org.organizationId, org.headers, { processor: 'sandbox', secret_key: SK_TEST })
    expect(sandboxExtra.statusCode).toBe(422)
    expect(sandboxExtra.json().detail[0]).toMatchObject({ loc: ['body', 'secret_key'], type: 'extra_forbidden' })
    const bad = await put(ctx, org.organizationId, org.headers, { processor: 'paypal' })
    expect(bad.statusCode).toBe(422)
    expect(bad.json().detail[0].loc).toEqual(['body', 'processor'])
  })

  it('without ENCRYPTION_KEY, storing a secret is a 400 telling the operator to set it; the sandbox still works', async () => {
    const bare = await createTestApp()
    const org = await createOrg(bare)
    const res = await put(bare, org.organizationId, org.headers, { processor: 'stripe', secret_key: SK_TEST, publishable_key: PK_TEST })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({
      error: 'EncryptionKeyMissing',
      detail: 'Kassa cannot store Stripe secrets: this install has no ENCRYPTION_KEY. Ask the operator to set ENCRYPTION_KEY (32 bytes, e.g. the output of `openssl rand -base64 32`) and restart Kassa, then save the keys again.',
    })
    expect((await get(bare, org.organizationId, org.headers)).json()).toMatchObject({ processor: 'sandbox', source: 'default', encryption_key_configured: false })
    expect((await put(bare, org.organizationId, org.headers, { processor: 'sandbox' })).statusCode).toBe(200)
  })

  it('another organization’s id is a 404; a read-only token reads but cannot write; no token is a 401', async () => {
    const org = await createOrg(ctx)
    const other = await createOrg(ctx)
    for (const res of [await get(ctx, other.organizationId, org.headers), await put(ctx, other.organizationId, org.headers, { processor: 'sandbox' })]) {
      expect(res.statusCode).toBe(404)
      expect(res.json()).toEqual({ error: 'ResourceNotFound', detail: 'Not found' })
    }
    const reader = await tokenWithScopes(ctx, org.organizationId, ['organizations:read'])
    expect((await get(ctx, org.organizationId, reader)).statusCode).toBe(200)
    const denied = await put(ctx, org.organizationId, reader, { processor: 'stripe', secret_key: SK_TEST, publishable_key: PK_TEST })
    expect(denied.statusCode).toBe(403)
    expect(denied.json().error).toBe('NotPermitted')
    const unrelated = await tokenWithScopes(ctx, org.organizationId, ['products:read'])
    expect((await get(ctx, org.organizationId, unrelated)).statusCode).toBe(403)
    expect((await get(ctx, org.organizationId, {})).statusCode).toBe(401)
  })

  it('a dashboard session reads and writes its organization’s settings', async () => {
    const org = await createOrg(ctx)
    const email = `settings-${process.pid}-${randomBytes(3).toString('hex')}@example.com`
    await createUser(ctx.deps, { email, password: 'correct horse battery', organizationId: org.organizationId })
    const login = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: 'correct horse battery' }, remoteAddress: `fd00:${randomBytes(2).toString('hex')}::1` })
    expect(login.statusCode, login.body).toBe(200)
    const cookie = String(login.headers['set-cookie']).split(';')[0]!
    const headers = { cookie, 'x-csrf-token': login.json().csrf_token as string }
    expect((await get(ctx, org.organizationId, { cookie })).statusCode).toBe(200)
    const res = await put(ctx, org.organizationId, headers, { processor: 'stripe', secret_key: SK_TEST, publishable_key: PK_TEST })
    expect(res.statusCode, res.body).toBe(200)
  })

  it('is in the OpenAPI document as Kassa’s own endpoint', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
    const path = doc.paths['/v1/organizations/{id}/payment-settings']
    expect(Object.keys(path).sort()).toEqual(['get', 'put'])
    expect(path.put.description).toMatch(/Kassa's own endpoint/)
    expect(path.put.description).toMatch(/keeps the stored keys/)
  })

  it('a sealed value moved onto another organization’s row does not open: a 503, never a fallback', async () => {
    const a = await createOrg(ctx)
    const b = await createOrg(ctx)
    await put(ctx, a.organizationId, a.headers, { processor: 'stripe', secret_key: SK_TEST, publishable_key: PK_TEST })
    await put(ctx, b.organizationId, b.headers, { processor: 'stripe', secret_key: SK_LIVE, publishable_key: PK_LIVE })
    const sealed = (await storedRow(a.organizationId)).stripe_secret_key_sealed
    await ctx.deps.db.updateTable('organization_payment_settings').set({ stripe_secret_key_sealed: sealed }).where('organization_id', '=', b.organizationId).execute()
    await expect(processorSettingsFor(ctx.deps, b.organizationId)).rejects.toBeInstanceOf(PaymentsUnavailable)
    const res = await get(ctx, b.organizationId, b.headers)
    expect(res.statusCode).toBe(503)
    expect(res.json().error).toBe('PaymentsUnavailable')
    expect(res.body).not.toContain(SK_TEST)
  })
})

describe('assertSealedSecretsReadable (start-up)', async () => {
  // A database of its own: the check reads any organization's row.
  const database = await isolatedDatabase()
  const ctx = await createTestApp({ database, config: { encryptionKey: ENCRYPTION_KEY } })
  const withKey = (encryptionKey: string | undefined) => ({ db: database.db, config: testConfig({ encryptionKey }) })

  it('passes with no sealed secrets, even without a key', async () => {
    await expect(assertSealedSecretsReadable(withKey(undefined))).resolves.toBeUndefined()
  })

  it('passes with the key the secrets were sealed with; refuses no key and a wrong key, saying what to set', async () => {
    const org = await createOrg(ctx)
    const res = await ctx.app.inject({ method: 'PUT', url: `/v1/organizations/${org.organizationId}/payment-settings`, headers: org.headers, payload: { processor: 'stripe', secret_key: SK_TEST, publishable_key: PK_TEST, webhook_secret: WHSEC } })
    expect(res.statusCode, res.body).toBe(200)

    await expect(assertSealedSecretsReadable(withKey(ENCRYPTION_KEY))).resolves.toBeUndefined()

    const missing = await assertSealedSecretsReadable(withKey(undefined)).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(SealedSecretsUnreadable)
    expect((missing as Error).message).toBe('Stripe keys are stored in the database, sealed with an ENCRYPTION_KEY, but ENCRYPTION_KEY is not set: set it to the key they were stored with.')

    const wrong = await assertSealedSecretsReadable(withKey(OTHER_KEY)).catch((e: unknown) => e)
    expect(wrong).toBeInstanceOf(SealedSecretsUnreadable)
    expect((wrong as Error).message).toBe(`The Stripe keys stored in the database (organization ${org.organizationId}) do not open with this ENCRYPTION_KEY: set ENCRYPTION_KEY to the key they were stored with.`)
    expect((wrong as Error).message).not.toContain(OTHER_KEY)
  })
})

describe('ENCRYPTION_KEY in the config', () => {
  it.each([['base64', randomBytes(32).toString('base64')], ['hex', randomBytes(32).toString('hex')], ['base64url', randomBytes(32).toString('base64url')]])('accepts 32 bytes as %s', (_kind, key) => {
    expect(loadConfig({ ENCRYPTION_KEY: key }).encryptionKey).toBe(key)
  })

  it('refuses a key that is not 32 bytes, without echoing it, alongside the other problems', () => {
    const error = (() => {
      try {
        loadConfig({ ENCRYPTION_KEY: 'too-short-secret', PORT: 'x' })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).problems).toContain('ENCRYPTION_KEY: must be 32 bytes, as 64 hex characters or base64 (generate one with `openssl rand -base64 32`)')
    expect((error as ConfigError).problems.some((p) => p.startsWith('PORT='))).toBe(true)
    expect((error as ConfigError).message).not.toContain('too-short-secret')
    expect(() => loadConfig({ ENCRYPTION_KEY: 'x'.repeat(10) })).toThrow(ConfigError)
  })
})

describe('payment settings errors never echo a secret', async () => {
  const ctx = await createTestApp({ config: { encryptionKey: Buffer.alloc(32, 3).toString('base64') } })
  it('an extra key or an over-long value holding a key is masked in the 422', async () => {
    const org = await createOrg(ctx)
    const url = `/v1/organizations/${org.organizationId}/payment-settings`
    const secret = 'sk_test_thisMustNeverComeBack1234567890'
    const extra = await ctx.app.inject({ method: 'PUT', url, headers: org.headers, payload: { processor: 'sandbox', secret_key: secret } })
    expect(extra.statusCode).toBe(422)
    expect(extra.body).not.toContain('thisMustNeverComeBack')
    const long = await ctx.app.inject({ method: 'PUT', url, headers: org.headers, payload: { processor: 'stripe', secret_key: secret + 'x'.repeat(2000), publishable_key: 'pk_test_abcdefghijkl', webhook_secret: `whsec_${'y'.repeat(2000)}` } })
    expect(long.statusCode).toBe(422)
    expect(long.body).not.toContain('thisMustNeverComeBack')
    expect(long.body).not.toContain('yyyyyyyyyy')
  })
})
