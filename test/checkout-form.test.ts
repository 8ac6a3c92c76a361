import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { t } from '../src/checkout-page/i18n/index'
import { createOrg, createTestApp, polarClient } from './helpers'

/*
 * The hosted page's no-JavaScript form post goes through the client endpoints' own schemas: what the JSON
 * PATCH/confirm refuses, the form refuses too (422, the message beside the field, in the buyer's language),
 * and nothing it sends can make a 5xx or leave a session paid with bad data.
 */

describe('the checkout form post', async () => {
  const ctx = await createTestApp()
  const { app } = ctx
  const db = ctx.deps.db
  const org = await createOrg(ctx)
  const polar = await polarClient(app, org.token)
  const fixed = await polar.products.create({ name: 'Fixed', prices: [{ amountType: 'fixed', priceAmount: 2000 }] })
  const pwyw = await polar.products.create({ name: 'PWYW', prices: [{ amountType: 'custom', minimumAmount: 500, maximumAmount: 100_000 }] })
  const field = await polar.customFields.create({ type: 'number', slug: 'seats', name: 'Seats', properties: { ge: 1, le: 10 } } as never)
  const withField = await polar.products.create({ name: 'Fielded', prices: [{ amountType: 'fixed', priceAmount: 1000 }], attachedCustomFields: [{ customFieldId: field.id, required: true }] })

  const open = async (productId: string) => (await polar.checkouts.create({ products: [productId] })).clientSecret
  const post = (secret: string, fields: Record<string, string>, locale = 'en') =>
    app.inject({
      method: 'POST',
      url: `/checkout/${secret}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': locale },
      payload: new URLSearchParams(fields).toString(),
    })
  const card = { card_number: '4242 4242 4242 4242', card_expiry: '12 / 39', card_cvc: '123' }
  const statusOf = async (secret: string) => (await db.selectFrom('checkouts').select(['status', 'customer_email', 'amount']).where('client_secret', '=', secret).executeTakeFirstOrThrow())

  it('refuses an invalid email as the JSON confirm does: 422, the message beside the field, nothing paid', async () => {
    const secret = await open(fixed.id)
    const r = await post(secret, { customer_email: 'not-an-email', ...card }, 'fr')
    expect(r.statusCode).toBe(422)
    expect(r.body).toContain(`<p class="err" id="customer_email-err" role="alert">${t('fr', 'email_invalid').replace(/’/g, '’')}</p>`)
    expect(await statusOf(secret)).toMatchObject({ status: 'open', customer_email: null })

    const json = await app.inject({ method: 'POST', url: `/v1/checkouts/client/${secret}/confirm`, payload: { customer_email: 'not-an-email', confirmation_token_id: 'tok_sandbox_success' } })
    expect(json.statusCode).toBe(422)
    expect(json.json().detail[0].loc).toEqual(['body', 'customer_email'])
  })

  it('an amount beyond what the column holds is a 422 on the amount field, never a 500', async () => {
    const secret = await open(pwyw.id)
    for (const amount of ['999999999.99', '99999999999', '1e9']) {
      const r = await post(secret, { amount, action: 'update' })
      expect(r.statusCode, amount).toBe(422)
      expect(r.body).toContain('id="amount-err" role="alert">Enter an amount between $5.00 and $1,000.00.</p>')
    }
    expect((await statusOf(secret)).amount).toBe(500)
    const ok = await post(secret, { amount: '12.50', action: 'update' })
    expect(ok.statusCode).toBe(303)
    expect((await statusOf(secret)).amount).toBe(1250)
  })

  it('custom field values are checked by the field rules; a valid post pays', async () => {
    const secret = await open(withField.id)
    const bad = await post(secret, { customer_email: 'ada@example.com', 'custom_field_data.seats': '99', ...card })
    expect(bad.statusCode).toBe(422)
    expect(bad.body).toMatch(/id="cf-seats-err" role="alert">[^<]+</)
    expect((await statusOf(secret)).status).toBe('open')
    const good = await post(secret, { customer_email: 'ada@example.com', 'custom_field_data.seats': '3', ...card })
    expect(good.statusCode).toBe(303)
    expect(await statusOf(secret)).toMatchObject({ status: 'confirmed', customer_email: 'ada@example.com' })
  })

  it('over-long values and too many custom field keys are refused, not stored', async () => {
    const secret = await open(fixed.id)
    const long = await post(secret, { customer_name: 'x'.repeat(300), action: 'update' })
    expect(long.statusCode).toBe(422)
    expect(long.body).toContain(t('en', 'value_too_long'))
    const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`custom_field_data.k${i}`, 'v']))
    expect((await post(secret, { ...many, action: 'update' })).statusCode).toBe(422)
  })

  it('property: whatever the form sends, never a 5xx, and a session is only confirmed with a valid email', async () => {
    const keys = fc.constantFrom(
      'action', 'customer_email', 'customer_name', 'amount', 'product_id', 'locale', 'discount_code',
      'custom_field_data.seats', 'custom_field_data.x', 'customer_billing_address.country', 'customer_billing_address.city',
      'customer_billing_address.state', 'card_number', 'card_expiry', 'card_cvc', '__proto__', 'constructor',
    )
    const values = fc.oneof(
      fc.constantFrom('', ' ', 'pay', 'update', 'apply_discount', 'remove_discount', 'a@b.co', 'not-an-email', '4242424242424242', '12/39', '123',
        'US', 'ZZ', '0', '-1', '1e400', '99999999999', 'NaN', '\u0000', pwyw.id, fixed.id, 'é'.repeat(400)),
      fc.string({ maxLength: 50 }),
      fc.stringMatching(/^[\d.,]{1,15}$/),
    )
    const secrets = [await open(fixed.id), await open(pwyw.id), await open(withField.id)]
    await fc.assert(
      fc.asyncProperty(fc.dictionary(keys, values, { maxKeys: 10 }), fc.nat(2), async (fields, which) => {
        const secret = secrets[which]!
        const r = await post(secret, fields)
        expect(r.statusCode, JSON.stringify(fields)).toBeLessThan(500)
        const row = await statusOf(secret)
        if (row.status === 'confirmed') {
          expect(row.customer_email).toMatch(/^[^@\s]+@[^@\s]+\.[^@\s]+$/)
          secrets[which] = await open([fixed.id, pwyw.id, withField.id][which]!)
        }
      }),
      { numRuns: 300 },
    )
  })
})
