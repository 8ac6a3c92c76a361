import { afterAll, describe, expect, it } from 'vitest'
import { t } from '../src/checkout-page/i18n/index'
import { createOrg, createTestApp, polarClient } from './helpers'
import { startFakeStripe } from './fake-stripe'
import { stripeClient } from '../src/payments/stripe-client'

/*
 * The hosted page of an organization on Stripe (here: the install's default STRIPE_* keys) renders Stripe's
 * Payment Element in place of the sandbox card, loads Stripe.js and allows exactly Stripe's sources; a sandbox
 * organization's page is as it was. The browser side is test/e2e/stripe-page.test.ts.
 */

const SK = 'sk_test_kassaPageTest123'
const PK = 'pk_test_kassaPageTest123'
const nonceOf = (body: string) => /<style nonce="([^"]+)"/.exec(body)![1]!
const optionsOf = (body: string) => JSON.parse(/<script type="application\/json" id="k-stripe">(.*?)<\/script>/.exec(body)![1]!) as Record<string, unknown>

describe('the hosted page on Stripe', async () => {
  const fake = await startFakeStripe()
  afterAll(() => fake.close())
  const stripeCtx = await createTestApp({ config: { stripeSecretKey: SK, stripePublishableKey: PK, stripeApiUrl: fake.url } })
  const sandboxCtx = await createTestApp()

  async function shop(ctx: typeof stripeCtx) {
    const org = await createOrg(ctx)
    const polar = await polarClient(ctx.app, org.token)
    const once = await polar.products.create({ name: 'Kit', prices: [{ amountType: 'fixed', priceAmount: 2000 }] })
    const monthly = await polar.products.create({ name: 'Pro', recurringInterval: 'month', prices: [{ amountType: 'fixed', priceAmount: 900 }] })
    const page = async (products: string[], extra: Record<string, unknown> = {}, locale = 'en') => {
      const { clientSecret } = await polar.checkouts.create({ products, ...extra } as never)
      return ctx.app.inject({ method: 'GET', url: `/checkout/${clientSecret}`, headers: { 'accept-language': locale } })
    }
    return { once, monthly, page }
  }

  it('renders the Payment Element with its options, loads Stripe.js, and never shows the secret key', async () => {
    const { once, page } = await shop(stripeCtx)
    const r = await page([once.id])
    expect(r.statusCode).toBe(200)
    const nonce = nonceOf(r.body)
    expect(r.body).toContain('<div id="k-payment-element" class="k-pe"></div>')
    expect(r.body).toContain(`<script src="https://js.stripe.com/v3/" nonce="${nonce}"></script><script nonce="${nonce}">`)
    expect(optionsOf(r.body)).toEqual({ publishable_key: PK, mode: 'payment', currency: 'usd', amount: 2000 })
    expect(r.body).not.toContain('name="card_number"')
    expect(r.body).not.toContain('sk_test_')
    // Name, email and the rest of the form are as on any page; the note for a browser without JavaScript.
    expect(r.body).toContain('name="customer_email"')
    expect(r.body).toContain('name="customer_name"')
    expect(r.body).toContain(`<noscript><p class="alert">${t('en', 'card_needs_js')}</p></noscript>`)
    expect(r.headers['content-security-policy']).toBe(
      `default-src 'none'; script-src 'nonce-${nonce}' https://js.stripe.com https://*.js.stripe.com; style-src 'nonce-${nonce}'; img-src 'self' data:; ` +
        `connect-src 'self' https://api.stripe.com; frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    )
  })

  it('a subscription saves the card for renewals (setup_future_usage); a trial only sets it up (setup mode)', async () => {
    const { monthly, page } = await shop(stripeCtx)
    expect(optionsOf((await page([monthly.id])).body)).toEqual({ publishable_key: PK, mode: 'payment', currency: 'usd', amount: 900, setup_future_usage: 'off_session' })
    expect(optionsOf((await page([monthly.id], { trialInterval: 'day', trialIntervalCount: 7 })).body)).toEqual({ publishable_key: PK, mode: 'setup', currency: 'usd' })
  })

  it('the notes about Stripe.js are in the buyer’s language', async () => {
    const { once, page } = await shop(stripeCtx)
    const r = await page([once.id], {}, 'de')
    expect(r.body).toContain(`<noscript><p class="alert">${t('de', 'card_needs_js')}</p></noscript>`)
    expect(r.body).toContain(JSON.stringify(t('de', 'stripe_unavailable')).slice(1, -1))
  })

  it('a confirmed session waiting on 3-D Secure: "Complete verification" with Stripe.js and the Stripe policy; settled intents are not offered', async () => {
    const org = await createOrg(stripeCtx)
    const polar = await polarClient(stripeCtx.app, org.token)
    const once = await polar.products.create({ name: 'Kit', prices: [{ amountType: 'fixed', priceAmount: 2000 }] })
    const { clientSecret } = await polar.checkouts.create({ products: [once.id] })
    const stripe = stripeClient(SK, { apiUrl: fake.url })
    const tok = (await stripe.testHelpers.confirmationTokens.create({ payment_method: 'pm_card_threeDSecure2Required' })).id
    const res = await stripeCtx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${clientSecret}/confirm`, payload: { customer_email: 'ada@example.com', confirmation_token_id: tok, locale: 'de' } })
    expect(res.statusCode).toBe(200)
    const meta = res.json().payment_processor_metadata as Record<string, string>
    expect(meta.intent_status).toBe('requires_action')
    const r = await stripeCtx.app.inject({ method: 'GET', url: `/checkout/${clientSecret}` })
    expect(r.statusCode).toBe(200)
    const nonce = nonceOf(r.body)
    expect(r.body).toContain(`<button type="button" class="pay" id="k-verify"><span class="spin" aria-hidden="true"></span><span>${t('de', 'complete_verification')}</span></button>`)
    expect(r.body).toContain(`<noscript><p class="alert">${t('de', 'card_needs_js')}</p></noscript>`)
    expect(r.body).toContain(`<script src="https://js.stripe.com/v3/" nonce="${nonce}"></script><script nonce="${nonce}">`)
    expect(r.body).toContain('data-poll="1"')
    expect(r.body).not.toContain('class="spin" aria-hidden="true"></p>')
    const next = JSON.parse(/<script type="application\/json" id="k-next">(.*?)<\/script>/.exec(r.body)![1]!) as Record<string, unknown>
    expect(next).toMatchObject({ publishable_key: PK, intent_client_secret: meta.intent_client_secret, locale: 'de' })
    expect(r.body).not.toContain('sk_test_')
    expect(r.headers['content-security-policy']).toContain(`script-src 'nonce-${nonce}' https://js.stripe.com https://*.js.stripe.com;`)
    expect(r.headers['content-security-policy']).toContain('frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com;')

    // Completed at the bank: the page is the confirmation, without Stripe.js.
    fake.completeNextAction(meta.intent_client_secret!.split('_secret_')[0]!, 'succeed')
    await polar.checkouts.clientGet({ clientSecret })
    const done = await stripeCtx.app.inject({ method: 'GET', url: `/checkout/${clientSecret}` })
    expect(done.body).not.toContain('id="k-verify"')
    expect(done.body).not.toContain('stripe.com')
  })

  it('a sandbox page keeps the sandbox card, no Stripe.js and the same policy as before', async () => {
    const { once, page } = await shop(sandboxCtx)
    const r = await page([once.id])
    const nonce = nonceOf(r.body)
    expect(r.body).toContain('name="card_number"')
    expect(r.body).not.toContain('stripe.com')
    expect(r.body).not.toContain('<div id="k-payment-element"')
    expect(r.body).not.toContain('id="k-stripe"')
    expect(r.headers['content-security-policy']).toBe(
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    )
  })
})
