import type { Polar } from '@polar-sh/sdk'
import type { Browser, BrowserContext, Page, Request } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { t } from '../../src/checkout-page/i18n/index'
import { startFakeStripe, type FakeStripe } from '../fake-stripe'
import { polarClient } from '../helpers'
import { launchBrowser, skipBrowserTests } from './browser'
import { startE2EApp, type E2EApp } from './server'
import { STRIPE_JS_STAND_IN } from './stripe-js-stand-in'

/*
 * The hosted page of an organization on Stripe, in a real browser: Stripe.js is the stand-in of
 * ./stripe-js-stand-in.ts (served at js.stripe.com by the browser context), and api.stripe.com is routed to the
 * local fake Stripe (test/fake-stripe.ts) with the secret key the fake expects, as Stripe would accept the
 * publishable key. Kassa runs with the same fake as its Stripe API and Stripe test keys as the install's default.
 */

const SK = 'sk_test_kassaE2E123'
const PK = 'pk_test_kassaE2E123'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const norm = (s: string) => s.replace(/\s+/g, ' ').trim()

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeout = 8_000): Promise<T> {
  const end = Date.now() + timeout
  let last: T
  for (;;) {
    last = await read()
    if (ok(last)) return last
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`)
    await sleep(50)
  }
}
const inPage = <T>(page: Page, expression: string) => page.evaluate(expression) as Promise<T>
const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization, content-type', 'access-control-allow-methods': 'GET, POST' }

describe.skipIf(skipBrowserTests)('hosted checkout page on Stripe in a browser', async () => {
  const fake: FakeStripe = skipBrowserTests ? (undefined as never) : await startFakeStripe()
  const stripeApp: E2EApp = skipBrowserTests ? (undefined as never) : await startE2EApp({ config: { stripeSecretKey: SK, stripePublishableKey: PK, stripeApiUrl: fake.url } })
  const sandboxApp: E2EApp = skipBrowserTests ? (undefined as never) : await startE2EApp()
  let browser: Browser
  const contexts: BrowserContext[] = []
  let problems: string[] = []
  /** Every URL the browser asked for, and the bodies of the confirm requests. */
  let requested: string[] = []
  let confirms: Record<string, unknown>[] = []

  beforeAll(async () => {
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await fake?.close()
  })
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()))
    await stripeApp.settlement.idle()
    const seen = problems
    problems = []
    requested = []
    confirms = []
    expect(seen, 'errors in the page').toEqual([])
  })

  async function open(opts: { stripeJs?: 'stand-in' | 'unreachable'; allow?: RegExp } = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    contexts.push(context)
    await context.route(/^https:\/\/js\.stripe\.com\/v3\//, (route) =>
      opts.stripeJs === 'unreachable' ? route.abort('connectionrefused') : route.fulfill({ status: 200, contentType: 'application/javascript', body: STRIPE_JS_STAND_IN }),
    )
    await context.route(/^https:\/\/api\.stripe\.com\//, async (route) => {
      const req = route.request()
      const url = new URL(req.url())
      if (req.method() === 'OPTIONS') return route.fulfill({ status: 204, headers: CORS })
      if (url.pathname === '/__stand_in/complete_next_action') {
        const p = new URLSearchParams(req.postData() ?? '')
        fake.completeNextAction(p.get('intent')!, p.get('outcome') === 'succeed' ? 'succeed' : 'fail')
        return route.fulfill({ status: 200, contentType: 'application/json', headers: CORS, body: '{}' })
      }
      // As Stripe's API: the stand-in sends the publishable key; the fake knows secret keys only.
      const res = await fetch(`${fake.url}${url.pathname}${url.search}`, {
        method: req.method(),
        headers: { authorization: `Bearer ${SK}`, 'content-type': 'application/x-www-form-urlencoded' },
        ...(req.method() === 'GET' ? {} : { body: req.postData() ?? '' }),
      })
      return route.fulfill({ status: res.status, contentType: 'application/json', headers: CORS, body: await res.text() })
    })
    const page = await context.newPage()
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of (400|402|422)/.test(m.text()) && !(opts.allow && opts.allow.test(m.text()))) problems.push(`console: ${m.text()}`)
    })
    page.on('request', (r: Request) => {
      requested.push(r.url())
      if (r.method() === 'POST' && /\/v1\/checkouts\/client\/[^/]+\/confirm$/.test(r.url())) confirms.push(r.postDataJSON() as Record<string, unknown>)
    })
    return page
  }

  async function session(app: E2EApp, price = 2900, extra: Record<string, unknown> = {}) {
    const org = await app.createOrg('Acme Studio')
    const polar: Polar = await polarClient(app.app, org.token)
    const p = await polar.products.create({ name: 'Carnet', prices: [{ amountType: 'fixed', priceAmount: price }], ...extra } as never)
    const c = await polar.checkouts.create({ products: [p.id] })
    return { polar, secret: c.clientSecret, id: c.id, url: `${app.base}/checkout/${c.clientSecret}` }
  }

  async function fillAndPay(page: Page, card: string) {
    await page.fill('#customer_email', 'ada@example.com')
    await page.fill('#customer_name', 'Ada Lovelace')
    await page.fill('#stand-in-card', card)
    await page.click('#k-pay')
  }
  const statusOf = (polar: Polar, secret: string) => polar.checkouts.clientGet({ clientSecret: secret }).then((c) => c.status)

  it('a Stripe session: the Payment Element is mounted with the session options, and the policy allows Stripe', async () => {
    const s = await session(stripeApp)
    const page = await open()
    const res = await page.goto(s.url)
    const csp = String(res?.headers()['content-security-policy'])
    expect(csp).toContain("script-src 'nonce-")
    expect(csp).toContain(' https://js.stripe.com https://*.js.stripe.com;')
    expect(csp).toContain("connect-src 'self' https://api.stripe.com;")
    expect(csp).toContain('frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com;')
    expect(await page.isVisible('#k-payment-element #stand-in-card')).toBe(true)
    expect(await page.locator('#card_number').count()).toBe(0)
    const seen = await inPage<{ keys: string[]; init: { locale: string }; options: Record<string, unknown>[] }>(page, 'window.__standIn')
    expect(seen.keys).toEqual([PK])
    expect(seen.init.locale).toBe('en')
    expect(seen.options).toHaveLength(1)
    expect(seen.options[0]).toMatchObject({ mode: 'payment', amount: 2900, currency: 'usd', appearance: { theme: 'stripe' } })
    expect(seen.options[0]).not.toHaveProperty('setupFutureUsage')
    expect(requested.some((u) => u.startsWith('https://js.stripe.com/v3/'))).toBe(true)
  })

  it('dark theme: the Element is dark too; a subscription saves the card for renewals', async () => {
    const s = await session(stripeApp, 900, { recurringInterval: 'month' })
    const page = await open()
    await page.goto(`${s.url}?theme=dark`)
    const seen = await inPage<{ options: Record<string, unknown>[] }>(page, 'window.__standIn')
    expect(seen.options[0]).toMatchObject({ mode: 'payment', amount: 900, setupFutureUsage: 'off_session', appearance: { theme: 'night' } })
  })

  it('switching product keeps the mounted Element and gives it the new amount and options', async () => {
    const org = await stripeApp.createOrg('Acme Studio')
    const polar: Polar = await polarClient(stripeApp.app, org.token)
    const kit = await polar.products.create({ name: 'Kit', prices: [{ amountType: 'fixed', priceAmount: 2900 }] })
    const pro = await polar.products.create({ name: 'Pro', recurringInterval: 'month', prices: [{ amountType: 'fixed', priceAmount: 900 }] })
    const c = await polar.checkouts.create({ products: [kit.id, pro.id] })
    const page = await open()
    await page.goto(`${stripeApp.base}/checkout/${c.clientSecret}`)
    await page.fill('#stand-in-card', '4242')
    await page.getByRole('radio', { name: /Pro/ }).check()
    const seen = await until(() => inPage<{ options: unknown[]; updates: Record<string, unknown>[] }>(page, 'window.__standIn'), (x) => x.updates.length > 0, 'elements.update')
    expect(seen.options).toHaveLength(1)
    expect(seen.updates.at(-1)).toEqual({ mode: 'payment', currency: 'usd', amount: 900, setupFutureUsage: 'off_session' })
    expect(await page.inputValue('#stand-in-card'), 'the same Element, still holding what was typed').toBe('4242')
  })

  it('a sandbox session: the sandbox card, no Stripe.js requested, no Stripe in the policy', async () => {
    const s = await session(sandboxApp)
    const page = await open()
    const res = await page.goto(s.url)
    expect(String(res?.headers()['content-security-policy'])).not.toContain('stripe')
    expect(await page.isVisible('#card_number')).toBe(true)
    expect(await page.locator('#k-payment-element').count()).toBe(0)
    await page.waitForLoadState('networkidle')
    expect(requested.filter((u) => /stripe\.com/.test(u))).toEqual([])
  })

  it('paying sends confirm with the ConfirmationToken made from the typed card (pm_card_visa)', async () => {
    const s = await session(stripeApp)
    const page = await open()
    await page.goto(s.url)
    await fillAndPay(page, '4242 4242 4242 4242')
    const body = (await until(async () => confirms[0], (b) => b !== undefined, 'the confirm request'))!
    expect(body).toMatchObject({ customer_email: 'ada@example.com', customer_name: 'Ada Lovelace' })
    expect(String(body.confirmation_token_id)).toMatch(/^ctoken_/)
    const made = fake.requests.filter((r) => r.path === '/v1/test_helpers/confirmation_tokens')
    expect(made.at(-1)?.body).toMatchObject({ payment_method: 'pm_card_visa', return_url: s.url })
    const seen = await inPage<{ tokens: Record<string, unknown>[] }>(page, 'window.__standIn')
    expect(seen.tokens[0]).toEqual({ payment_method_data: { billing_details: { email: 'ada@example.com', name: 'Ada Lovelace' } }, return_url: s.url })
  })

  // ---- these need confirm on Stripe (the server side of issue 11) --------------------------------------------

  it('4242: paid, the confirmation page', async () => {
    const s = await session(stripeApp)
    const page = await open()
    await page.goto(s.url)
    await fillAndPay(page, '4242 4242 4242 4242')
    await page.waitForURL(`${stripeApp.base}/checkout/${s.secret}/confirmation`, { timeout: 10_000 })
    expect(norm(await page.locator('h1').innerText())).toBe(t('en', 'thank_you'))
  })

  it('a declined card: Stripe message above the button, the session still open, paying again with 4242 works', async () => {
    const s = await session(stripeApp)
    const page = await open()
    await page.goto(s.url)
    const answer = page.waitForResponse((r) => /\/confirm$/.test(r.url()))
    await fillAndPay(page, '4000 0000 0000 0002')
    const res = await answer
    expect(res.status()).toBe(400)
    const detail = ((await res.json()) as { error: string; detail: string })
    expect(detail.error).toBe('PaymentError')
    await until(async () => norm(await page.locator('#k-form-error').innerText()), (v) => v === norm(detail.detail) && v !== '', 'the decline message')
    expect(await page.isEnabled('#k-pay')).toBe(true)
    expect(await statusOf(s.polar, s.secret)).toBe('open')

    await page.fill('#stand-in-card', '4242 4242 4242 4242')
    await page.click('#k-pay')
    await page.waitForURL(`${stripeApp.base}/checkout/${s.secret}/confirmation`, { timeout: 10_000 })
  })

  it('3-D Secure: confirm answers requires_action, the bank prompt is shown, completing it pays', async () => {
    const s = await session(stripeApp)
    const page = await open()
    await page.goto(s.url)
    const answer = page.waitForResponse((r) => /\/confirm$/.test(r.url()))
    await fillAndPay(page, '4000 0027 6000 3184')
    const res = await answer
    expect(res.status()).toBe(200)
    const body = (await res.json()) as { status: string; payment_processor_metadata: Record<string, string> }
    expect(body.status).toBe('confirmed')
    expect(body.payment_processor_metadata).toMatchObject({ publishable_key: PK, intent_status: 'requires_action' })
    await page.locator('#stand-in-3ds').waitFor({ state: 'visible' })
    expect(await page.locator('#stand-in-3ds').innerText()).toContain('3-D Secure')
    expect(await inPage<string>(page, 'window.__standIn.nextAction')).toBe(body.payment_processor_metadata.intent_client_secret)
    await page.getByRole('button', { name: 'Complete' }).click()
    await page.waitForURL(`${stripeApp.base}/checkout/${s.secret}/confirmation`, { timeout: 15_000 })
  })

  it('3-D Secure failed: the refusal is said in the buyer\'s language, the form is usable once the session is open again, 4242 then pays', async () => {
    const s = await session(stripeApp)
    const page = await open()
    await page.goto(s.url)
    await fillAndPay(page, '4000 0027 6000 3184')
    await page.locator('#stand-in-3ds').waitFor({ state: 'visible' })
    await page.getByRole('button', { name: 'Fail' }).click()
    const shown = await until(async () => norm(await page.locator('#card_number-err').innerText()), (v) => v !== '', 'the verification error')
    expect(shown, 'the bank refused: said in the buyer\'s words, not Stripe\'s API message').toBe(norm(t('en', 'verification_failed')))
    await until(() => page.isEnabled('#k-pay'), (v) => v, 'the pay button usable again', 10_000)
    expect(await statusOf(s.polar, s.secret)).toBe('open')
    expect(norm(await page.locator('#k-pay-label').innerText())).not.toBe(norm(t('en', 'processing')))

    await page.fill('#stand-in-card', '4242 4242 4242 4242')
    await page.click('#k-pay')
    await page.waitForURL(`${stripeApp.base}/checkout/${s.secret}/confirmation`, { timeout: 10_000 })
    expect(confirms).toHaveLength(2)
  })

  /** Pays with the 3-D Secure card, then reloads while the bank's prompt is open: the page of the confirmed session. */
  async function reloadDuring3ds(locale = 'en') {
    const s = await session(stripeApp)
    const page = await open()
    await page.goto(`${s.url}?locale=${locale}`)
    await fillAndPay(page, '4000 0027 6000 3184')
    await page.locator('#stand-in-3ds').waitFor({ state: 'visible' })
    const res = await page.reload()
    return { s, page, res: res! }
  }

  it('reload during 3-D Secure: a "Complete verification" button (Stripe.js, the Stripe policy) runs it again; completing it pays', async () => {
    const { s, page, res } = await reloadDuring3ds('fr')
    expect(res.status()).toBe(200)
    const csp = String(res.headers()['content-security-policy'])
    expect(csp).toContain(' https://js.stripe.com https://*.js.stripe.com;')
    expect(csp).toContain("connect-src 'self' https://api.stripe.com;")
    expect(csp).toContain('frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com;')
    expect(await statusOf(s.polar, s.secret)).toBe('confirmed')
    expect(norm(await page.locator('h1').innerText())).toBe(norm(t('fr', 'verification_title')))
    expect(await page.locator('#stand-in-3ds').count(), 'the prompt went with the reload').toBe(0)
    expect(await page.locator('p.spin').count(), 'no spinner to wait on').toBe(0)
    const button = page.getByRole('button', { name: t('fr', 'complete_verification') })
    expect(await button.isEnabled()).toBe(true)
    await sleep(300)
    expect(page.url(), 'the page waits for the buyer').toBe(`${s.url}?locale=fr`)

    await button.click()
    await page.locator('#stand-in-3ds').waitFor({ state: 'visible' })
    const seen = await inPage<{ keys: string[]; init: { locale: string }; nextAction: string }>(page, 'window.__standIn')
    expect(seen.keys).toEqual([PK])
    expect(seen.init.locale).toBe('fr')
    const pub = await s.polar.checkouts.clientGet({ clientSecret: s.secret })
    expect(seen.nextAction).toBe(pub.paymentProcessorMetadata.intent_client_secret)
    await page.getByRole('button', { name: 'Complete' }).click()
    await page.waitForURL(`${stripeApp.base}/checkout/${s.secret}/confirmation`, { timeout: 15_000 })
    expect(norm(await page.locator('h1').innerText())).toBe(norm(t('fr', 'thank_you')))
  })

  it('reload during 3-D Secure, then failed: back to the form with the reason; paying again with 4242 works', async () => {
    const { s, page } = await reloadDuring3ds()
    await page.getByRole('button', { name: t('en', 'complete_verification') }).click()
    await page.getByRole('button', { name: 'Fail' }).click()
    await page.locator('#stand-in-card').waitFor({ state: 'visible', timeout: 10_000 })
    expect(await statusOf(s.polar, s.secret)).toBe('open')
    expect(norm(await page.locator('#card_number-err').innerText())).toBe(norm(t('en', 'verification_failed')))
    await page.fill('#customer_email', 'ada@example.com')
    await page.fill('#stand-in-card', '4242 4242 4242 4242')
    await page.click('#k-pay')
    await page.waitForURL(`${stripeApp.base}/checkout/${s.secret}/confirmation`, { timeout: 10_000 })
  })

  it('Stripe.js cannot be loaded: the buyer is told, in their language, and nothing is sent', async () => {
    const s = await session(stripeApp)
    const page = await open({ stripeJs: 'unreachable', allow: /ERR_CONNECTION_REFUSED|Failed to load resource/ })
    await page.goto(`${s.url}?locale=fr`)
    expect(norm(await page.locator('#card_number-err').innerText())).toBe(norm(t('fr', 'stripe_unavailable')))
    await page.fill('#customer_email', 'ada@example.com')
    await page.click('#k-pay')
    await sleep(200)
    expect(confirms).toEqual([])
    expect(norm(await page.locator('#card_number-err').innerText())).toBe(norm(t('fr', 'stripe_unavailable')))
  })
})
