import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Polar } from '@polar-sh/sdk'
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { formatMoney } from '../../src/checkout-page/format'
import { t } from '../../src/checkout-page/i18n/index'
import type { Locale } from '../../src/lib/locales'
import { FixedClock, polarClient } from '../helpers'
import { launchBrowser, skipBrowserTests } from './browser'
import { startE2EApp, startMerchantSite, type E2EApp } from './server'

/*
 * The hosted checkout page in a real browser (the system Chromium through playwright-core), against the
 * real app listening on loopback. Each test makes its own organization. There is no background worker:
 * the app's `wakeWorker` runs the settlement of this file's sessions right after a confirm (./server.ts).
 */

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
const DARK_BG = 'rgb(15, 17, 21)'
const LIGHT_BG = 'rgb(247, 247, 248)'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const expiry = () => `12 / ${String((new Date().getUTCFullYear() + 4) % 100).padStart(2, '0')}`
const usd = (cents: number, locale: Locale = 'en', exact = false) => formatMoney(cents, 'usd', locale, { exact })

/** Polls `read` until `ok` holds (Playwright's runner `expect` is not part of playwright-core). */
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

/** Whitespace (including the no-break spaces Intl puts in amounts) folded to single spaces. */
const norm = (s: string) => s.replace(/\s+/g, ' ').trim()
const textOf = async (l: Locator) => ((await l.count()) ? norm(await l.first().innerText()) : '')
const waitText = (l: Locator, expected: string, what = String(l)) => until(() => textOf(l), (v) => v === norm(expected), `${what} to read "${expected}"`)
const waitContains = (l: Locator, expected: string, what = String(l)) => until(() => textOf(l), (v) => v.includes(norm(expected)), `${what} to contain "${expected}"`)

/** Runs `act` (a click that posts the form) and waits for the page it leads to (after any redirect). */
async function submit(page: Page, act: () => Promise<unknown>): Promise<void> {
  const loaded = page.waitForEvent('load')
  await act()
  await loaded
}

/** Serializable snippets run in the page (the project's tsconfig has no DOM types). */
const inPage = <T>(page: Page, expression: string) => page.evaluate(expression) as Promise<T>

describe.skipIf(skipBrowserTests)('hosted checkout page in a browser', async () => {
  // A skipped suite is still collected: start nothing then.
  const e: E2EApp = skipBrowserTests ? (undefined as never) : await startE2EApp()
  let browser: Browser
  const contexts: BrowserContext[] = []
  /** Page errors and console errors (a CSP violation is one): every test ends with none. */
  let problems: string[] = []

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
  })
  afterEach(async () => {
    e.settlement.auto = true
    await Promise.all(contexts.splice(0).map((c) => c.close()))
    await e.settlement.idle()
    const seen = problems
    problems = []
    expect(seen, 'errors in the page').toEqual([])
  })

  async function open(opts: BrowserContextOptions = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts })
    contexts.push(context)
    const page = await context.newPage()
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('console', (m) => {
      // A declined card is a 400 and a refused field a 422: the browser logs those responses; they are expected.
      if (m.type() === 'error' && !/status of (400|422)/.test(m.text())) problems.push(`console: ${m.text()}`)
    })
    return page
  }

  // ---- the merchant's side, through the official SDK ------------------------------------------------

  async function merchant(name = 'Acme Studio'): Promise<Polar> {
    const org = await e.createOrg(name)
    return polarClient(e.app, org.token)
  }

  type ProductCreate = Parameters<Polar['products']['create']>[0]
  const product = (polar: Polar, name: string, price: ProductCreate['prices'][number], extra: Partial<ProductCreate> = {}) =>
    polar.products.create({ name, prices: [price], ...extra } as ProductCreate)
  const fixed = (priceAmount: number) => ({ amountType: 'fixed' as const, priceAmount })

  type LinkCreate = Parameters<Polar['checkoutLinks']['create']>[0]
  async function link(polar: Polar, products: string[], extra: Partial<LinkCreate> = {}) {
    return polar.checkoutLinks.create({ paymentProcessor: 'stripe', products, ...extra } as LinkCreate)
  }

  /** The typical page: two products (one with a required custom field), billing address, discount codes. */
  async function typicalShop(polar: Polar, extra: Partial<LinkCreate> = {}) {
    const company = await polar.customFields.create({ type: 'text', slug: 'company', name: 'Company', properties: {} })
    const starter = await product(polar, 'Starter', fixed(2900), {
      description: 'Lifetime access to the starter kit.',
      attachedCustomFields: [{ customFieldId: company.id, required: true }],
    })
    const pro = await product(polar, 'Pro', fixed(900), { recurringInterval: 'month' })
    await polar.discounts.create({ name: 'Launch', type: 'percentage', basisPoints: 2000, duration: 'once', code: 'LAUNCH20' })
    const l = await link(polar, [starter.id, pro.id], { requireBillingAddress: true, ...extra })
    return { starter, pro, link: l }
  }

  // ---- the buyer's side --------------------------------------------------------------------------------

  const visitUrl = (linkSecret: string, query = '') => `${e.base}/buy/${linkSecret}${query}`
  const secretOf = (page: Page) => decodeURIComponent(new URL(page.url()).pathname.split('/')[2] ?? '')
  const sessionOf = (polar: Polar, page: Page) => polar.checkouts.clientGet({ clientSecret: secretOf(page) })

  async function fillCard(page: Page, number: string) {
    await page.fill('#card_number', number)
    await page.fill('#card_expiry', expiry())
    await page.fill('#card_cvc', '123')
  }

  async function fillAddress(page: Page) {
    await page.selectOption('#customer_billing_address-country', 'FR')
    await page.fill('#customer_billing_address-line1', '1 rue de Rivoli')
    await page.fill('#customer_billing_address-postal_code', '75001')
    await page.fill('#customer_billing_address-city', 'Paris')
  }

  /** The order of a paid session, as the orders API shows it. */
  async function orderOf(polar: Polar, checkoutId: string, orderId?: string) {
    const order = orderId ? await polar.orders.get({ id: orderId }) : (await polar.orders.list({})).result.items.find((o) => o.checkoutId === checkoutId)
    expect(order?.checkoutId).toBe(checkoutId)
    return order!
  }

  // ---- the tests ------------------------------------------------------------------------------------

  it('a link visit with ?customer_email and ?locale=fr: French page, email prefilled', async () => {
    const polar = await merchant()
    const p = await product(polar, 'Carnet', fixed(2900))
    const l = await link(polar, [p.id])
    const page = await open()
    const res = await page.goto(visitUrl(l.clientSecret, '?customer_email=ada%40example.com&locale=fr'))
    expect(res?.status()).toBe(200)
    expect(page.url()).toMatch(new RegExp(`^${e.base}/checkout/polar_c_`))
    expect(await page.getAttribute('html', 'lang')).toBe('fr')
    expect(await page.inputValue('input[name=customer_email]')).toBe('ada@example.com')
    expect(await textOf(page.locator('legend').first())).toBe(t('fr', 'contact'))
    expect(await textOf(page.locator('label[for=customer_email]'))).toBe(t('fr', 'email'))
    expect(await textOf(page.locator('#k-pay-label'))).toBe(norm(t('fr', 'pay', { amount: usd(2900, 'fr') })))
    expect(await textOf(page.locator('#k-breakdown .line.total'))).toBe(norm(`${t('fr', 'total')} ${usd(2900, 'fr', true)}`))
    expect(await page.inputValue('#k-locale')).toBe('fr')
  })

  it('switching product updates the total and the pay button', async () => {
    const polar = await merchant()
    const { link: l } = await typicalShop(polar)
    const page = await open()
    await page.goto(visitUrl(l.clientSecret))
    expect(await textOf(page.locator('#k-pay-label'))).toBe('Pay $29')
    expect(await textOf(page.locator('#k-total'))).toBe('$29.00')
    expect(await page.isVisible('#cf-company')).toBe(true)

    await page.getByRole('radio', { name: /Pro/ }).check()
    await waitText(page.locator('#k-pay-label'), t('en', 'subscribe', { amount: `$9 ${t('en', 'per_month')}` }), 'pay button')
    await waitText(page.locator('#k-total'), '$9.00', 'total')
    expect(await textOf(page.locator('#k-product-name'))).toBe('Pro')
    expect(await textOf(page.locator('#k-breakdown .line.total'))).toBe(`${t('en', 'total_month')} $9.00`)
    expect(await page.locator('#cf-company').count(), "Pro has no custom field").toBe(0)
    expect((await sessionOf(polar, page)).totalAmount).toBe(900)

    await page.getByRole('radio', { name: /Starter/ }).check()
    await waitText(page.locator('#k-pay-label'), 'Pay $29', 'pay button')
    expect(await page.isVisible('#cf-company')).toBe(true)
  })

  it('a discount code: a wrong one is refused beside the field in the page language, a right one adds the discount line', async () => {
    const polar = await merchant()
    const p = await product(polar, 'Carnet', fixed(2900))
    await polar.discounts.create({ name: 'Launch', type: 'percentage', basisPoints: 2000, duration: 'once', code: 'LAUNCH20' })
    const l = await link(polar, [p.id])
    const page = await open()
    await page.goto(visitUrl(l.clientSecret, '?locale=fr'))

    await page.getByText(t('fr', 'add_discount')).click()
    await page.fill('#discount_code', 'NOPE')
    await page.getByRole('button', { name: t('fr', 'apply') }).click()
    await waitText(page.locator('#discount_code-err'), t('fr', 'discount_invalid'), 'discount error')
    expect(await page.getAttribute('#discount_code', 'aria-invalid')).toBe('true')
    expect(await page.locator('#k-breakdown .line.discount').count()).toBe(0)

    await page.fill('#discount_code', 'launch20')
    await page.getByRole('button', { name: t('fr', 'apply') }).click()
    await waitContains(page.locator('#k-breakdown .line.discount'), 'Launch (20%)', 'discount line')
    expect(await textOf(page.locator('#k-breakdown .line.discount'))).toContain(norm(usd(580, 'fr', true)))
    await waitText(page.locator('#k-total'), usd(2320, 'fr', true), 'total')
    expect(await textOf(page.locator('#k-pay-label'))).toBe(norm(t('fr', 'pay', { amount: usd(2320, 'fr') })))
    expect(await textOf(page.locator('#k-discount'))).toContain('LAUNCH20')
    expect(await textOf(page.locator('#discount_code-err'))).toBe('')
    const session = await sessionOf(polar, page)
    expect([session.discountAmount, session.totalAmount]).toEqual([580, 2320])

    // Remove it again: the line goes, the total is back.
    await page.getByRole('button', { name: t('fr', 'remove') }).click()
    await waitText(page.locator('#k-total'), usd(2900, 'fr', true), 'total')
    expect(await page.locator('#k-breakdown .line.discount').count()).toBe(0)
  })

  it('pay what you want: below the minimum is an error, above it updates the total', async () => {
    const polar = await merchant()
    const p = await product(polar, 'Tip jar', { amountType: 'custom', minimumAmount: 500, maximumAmount: 10_000, presetAmount: 1500 })
    const l = await link(polar, [p.id])
    const page = await open()
    await page.goto(visitUrl(l.clientSecret))
    expect(await page.inputValue('#amount')).toBe('15.00')
    expect(await textOf(page.locator('#k-pay-label'))).toBe('Pay $15')
    expect(await textOf(page.locator('#amount-hint'))).toContain('$5')

    await page.fill('#amount', '2')
    await waitText(page.locator('#amount-err'), t('en', 'amount_between', { min: '$5.00', max: '$100.00' }), 'amount error')
    expect(await page.getAttribute('#amount', 'aria-invalid')).toBe('true')
    expect(await textOf(page.locator('#k-total'))).toBe('$15.00')

    await page.fill('#amount', '25')
    await waitText(page.locator('#k-total'), '$25.00', 'total')
    expect(await textOf(page.locator('#amount-err'))).toBe('')
    expect(await textOf(page.locator('#k-pay-label'))).toBe('Pay $25')
    expect((await sessionOf(polar, page)).amount).toBe(2500)
  })

  it('a required custom field left empty: the error is beside it and focus moves there', async () => {
    const polar = await merchant()
    const { link: l } = await typicalShop(polar, { requireBillingAddress: false })
    const page = await open()
    await page.goto(visitUrl(l.clientSecret, '?customer_email=ada%40example.com'))
    await fillCard(page, '4242 4242 4242 4242')
    await page.click('#k-pay')
    await waitText(page.locator('#cf-company-err'), t('en', 'field_required'), 'custom field error')
    expect(await inPage<string>(page, 'document.activeElement.id')).toBe('cf-company')
    expect(await page.getAttribute('#cf-company', 'aria-invalid')).toBe('true')
    expect(await page.isEnabled('#k-pay')).toBe(true)
    expect((await sessionOf(polar, page)).status).toBe('open')
  })

  it('paying with 4242… lands on the success_url with the checkout id', async () => {
    const site = await startMerchantSite()
    try {
      const polar = await merchant()
      const p = await product(polar, 'Carnet', fixed(2900))
      const l = await link(polar, [p.id], { successUrl: `${site.origin}/thanks?checkout_id={CHECKOUT_ID}` })
      const page = await open()
      await page.goto(visitUrl(l.clientSecret, '?customer_email=ada%40example.com'))
      const session = await sessionOf(polar, page)
      await fillCard(page, '4242 4242 4242 4242')
      await page.click('#k-pay')
      await page.waitForURL(`${site.origin}/thanks?checkout_id=${session.id}`, { timeout: 10_000 })
      expect(await textOf(page.locator('h1'))).toBe('Thanks from the merchant')
      await orderOf(polar, session.id)
    } finally {
      await site.close()
    }
  })

  it("paying without a success_url lands on Kassa's confirmation page with the order id", async () => {
    const polar = await merchant()
    const p = await product(polar, 'Carnet', fixed(2900))
    const l = await link(polar, [p.id])
    const page = await open()
    await page.goto(visitUrl(l.clientSecret))
    const secret = secretOf(page)
    await page.fill('#customer_email', 'ada@example.com')
    await fillCard(page, '4242424242424242')
    expect(await page.inputValue('#card_number')).toBe('4242 4242 4242 4242')
    await page.click('#k-pay')
    await page.waitForURL(`${e.base}/checkout/${secret}/confirmation`, { timeout: 10_000 })
    expect(await textOf(page.locator('h1'))).toBe(t('en', 'thank_you'))
    const orderId = await textOf(page.locator('#k-order-id'))
    const session = await polar.checkouts.clientGet({ clientSecret: secret })
    expect(session.status).toBe('succeeded')
    const order = await orderOf(polar, session.id, orderId)
    expect(order.totalAmount).toBe(2900)
    const body = await textOf(page.locator('main'))
    expect(body).toContain('Carnet')
    expect(body).toContain('$29.00')
    expect(body).toContain('ada@example.com')
  })

  it('a declined card (4000 0000 0000 0002) shows the decline and keeps the form; 4242… then succeeds', async () => {
    const polar = await merchant()
    const { link: l } = await typicalShop(polar)
    const page = await open()
    await page.goto(visitUrl(l.clientSecret, '?customer_name=Ada%20Lovelace'))
    await page.fill('#customer_email', 'ada@example.com')
    await fillAddress(page)
    await page.fill('#cf-company', 'Analytical Engines Ltd')
    await fillCard(page, '4000 0000 0000 0002')
    await page.click('#k-pay')
    await waitText(page.locator('#k-form-error'), t('en', 'card_declined'), 'decline message')
    expect(await page.isEnabled('#k-pay')).toBe(true)
    expect(await textOf(page.locator('#k-pay-label'))).toBe('Pay $29')
    for (const [sel, value] of [
      ['#customer_email', 'ada@example.com'],
      ['#customer_name', 'Ada Lovelace'],
      ['#cf-company', 'Analytical Engines Ltd'],
      ['#customer_billing_address-city', 'Paris'],
      ['#card_number', '4000 0000 0000 0002'],
      ['#card_cvc', '123'],
    ] as const) {
      expect(await page.inputValue(sel), sel).toBe(value)
    }
    expect((await sessionOf(polar, page)).status).toBe('open')

    const secret = secretOf(page)
    await page.fill('#card_number', '4242 4242 4242 4242')
    await page.click('#k-pay')
    await page.waitForURL(`${e.base}/checkout/${secret}/confirmation`, { timeout: 10_000 })
    const session = await polar.checkouts.clientGet({ clientSecret: secret })
    const order = await orderOf(polar, session.id, await textOf(page.locator('#k-order-id')))
    expect(order.customFieldData).toMatchObject({ company: 'Analytical Engines Ltd' })
  })

  it('without JavaScript: the plain form applies a discount, pays, processes, confirms', async () => {
    const polar = await merchant()
    const { link: l } = await typicalShop(polar)
    const page = await open({ javaScriptEnabled: false })
    await page.goto(visitUrl(l.clientSecret, '?customer_email=ada%40example.com'))
    const secret = secretOf(page)

    await page.getByText(t('en', 'add_discount')).click() // <details> opens without script
    await page.fill('#discount_code', 'LAUNCH20')
    await submit(page, () => page.getByRole('button', { name: t('en', 'apply') }).click())
    expect(page.url()).toBe(`${e.base}/checkout/${secret}`)
    expect(await textOf(page.locator('#k-breakdown .line.discount'))).toContain('Launch (20%)')
    expect(await textOf(page.locator('#k-total'))).toBe('$23.20')
    expect(await textOf(page.locator('#k-pay-label'))).toBe('Pay $23.20')

    // Enter in a field pays (the form's default button), here with a mistyped card: the 422 page shows
    // the error beside the field and keeps the values (and the discount: Enter did not press Remove).
    await fillAddress(page)
    await page.fill('#cf-company', 'Analytical Engines Ltd')
    await page.fill('#card_number', '4242 4242 4242 4243')
    await page.fill('#card_expiry', expiry())
    await page.fill('#card_cvc', '123')
    const refused = page.waitForResponse((r) => r.request().method() === 'POST')
    await submit(page, () => page.press('#card_cvc', 'Enter'))
    expect((await refused).status()).toBe(422)
    expect(await textOf(page.locator('#card_number-err'))).toBe(t('en', 'card_invalid'))
    expect(await textOf(page.locator('#k-total'))).toBe('$23.20')
    expect(await page.inputValue('#cf-company')).toBe('Analytical Engines Ltd')
    expect(await page.inputValue('#customer_billing_address-city')).toBe('Paris')

    e.settlement.auto = false
    await fillCard(page, '4242 4242 4242 4242')
    await submit(page, () => page.click('#k-pay'))
    expect(page.url()).toBe(`${e.base}/checkout/${secret}`)
    // Another worker on a shared PostgreSQL may settle first; otherwise this is the processing page.
    const heading = await textOf(page.locator('h1'))
    if (heading !== t('en', 'thank_you')) {
      expect(heading).toBe(t('en', 'processing'))
      await page.screenshot({ path: `${ARTIFACTS}processing-nojs.png` })
      await e.settlement.run()
      // The processing page refreshes itself every 2 s (a <meta http-equiv=refresh> in <noscript>).
      await waitText(page.locator('h1'), t('en', 'thank_you'), 'confirmation heading')
    }
    const session = await polar.checkouts.clientGet({ clientSecret: secret })
    expect(session.status).toBe('succeeded')
    const order = await orderOf(polar, session.id, await textOf(page.locator('#k-order-id')))
    expect(order.totalAmount).toBe(2320)
    expect(await textOf(page.locator('main'))).toContain('$23.20')
  })

  it('?theme=dark forces the dark theme; by default the page follows prefers-color-scheme', async () => {
    const polar = await merchant()
    const p = await product(polar, 'Carnet', fixed(2900))
    const l = await link(polar, [p.id])
    const bg = (page: Page) => inPage<string>(page, 'getComputedStyle(document.body).backgroundColor')

    const forced = await open({ colorScheme: 'light' })
    await forced.goto(visitUrl(l.clientSecret, '?theme=dark'))
    expect(await forced.getAttribute('html', 'data-theme')).toBe('dark')
    expect(await bg(forced)).toBe(DARK_BG)

    const system = await open({ colorScheme: 'dark' })
    await system.goto(visitUrl(l.clientSecret))
    expect(await system.getAttribute('html', 'data-theme')).toBeNull()
    expect(await bg(system)).toBe(DARK_BG)

    const light = await open({ colorScheme: 'light' })
    await light.goto(visitUrl(l.clientSecret))
    expect(await bg(light)).toBe(LIGHT_BG)

    const forcedLight = await open({ colorScheme: 'dark' })
    await forcedLight.goto(visitUrl(l.clientSecret, '?theme=light'))
    expect(await bg(forcedLight)).toBe(LIGHT_BG)
  })

  it('accessibility basics: every control labelled, one pay button with the amount, keyboard reaches email and pay', async () => {
    const polar = await merchant()
    const { link: l } = await typicalShop(polar)
    const page = await open()
    await page.goto(visitUrl(l.clientSecret))
    await page.getByText(t('en', 'add_discount')).click() // the discount input is inside <details>

    const unlabelled = await inPage<string[]>(
      page,
      `[...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter((el) => !el.labels || el.labels.length === 0).map((el) => el.outerHTML)`,
    )
    expect(unlabelled).toEqual([])
    // Labels have text (a screen reader reads them).
    const emptyLabels = await inPage<string[]>(page, `[...document.querySelectorAll('label')].filter((l) => !l.textContent.trim()).map((l) => l.outerHTML)`)
    expect(emptyLabels).toEqual([])

    const payButtons = page.locator('button[type=submit][name=action][value=pay]')
    expect(await payButtons.count()).toBe(1)
    expect(await textOf(payButtons)).toBe('Pay $29')
    expect(await page.getByRole('button', { name: /^Pay / }).count()).toBe(1)
    expect(await inPage<number>(page, `document.querySelectorAll('#k-form button:not([type])').length`), 'buttons without an explicit type').toBe(0)

    // Keyboard only: from the top of the page, Tab reaches the email field, then the pay button.
    await page.goto(page.url())
    const reached: string[] = []
    for (let i = 0; i < 80 && !reached.includes('k-pay'); i++) {
      await page.keyboard.press('Tab')
      reached.push(await inPage<string>(page, `document.activeElement.id || document.activeElement.getAttribute('name') || document.activeElement.tagName`))
    }
    expect(reached).toContain('customer_email')
    expect(reached).toContain('k-pay')
    expect(reached.indexOf('customer_email')).toBeLessThan(reached.indexOf('k-pay'))
    // The focus is visible (an outline), not just moved.
    await page.focus('#customer_email')
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('Tab')
    expect(await inPage<string>(page, `getComputedStyle(document.activeElement).outlineStyle`)).toBe('solid')

    // Enter in a field pays (the form's default action), it does not apply a discount or switch product.
    await page.fill('#customer_email', 'ada@example.com')
    await fillAddress(page)
    await page.fill('#cf-company', 'Acme')
    await fillCard(page, '4242 4242 4242 4242')
    await page.focus('#card_cvc')
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/confirmation$/, { timeout: 10_000 })
  })

  it('security: CSP with a nonce and frame-ancestors none, no-referrer, no-store, no request to another origin', async () => {
    const polar = await merchant()
    const { link: l } = await typicalShop(polar)
    const page = await open()
    const requests: string[] = []
    page.on('request', (r) => requests.push(r.url()))
    const res = await page.goto(visitUrl(l.clientSecret, '?customer_email=ada%40example.com'))
    const headers = res!.headers()
    const csp = headers['content-security-policy'] ?? ''
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]{16,}'/)
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("default-src 'none'")
    expect(csp).not.toContain('unsafe-inline')
    expect(headers['referrer-policy']).toBe('no-referrer')
    expect(headers['cache-control']).toBe('no-store')
    expect(headers['x-content-type-options']).toBe('nosniff')
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!
    // Every inline script and style carries this response's nonce (Chromium hides it from getAttribute).
    expect(await inPage<number>(page, `[...document.querySelectorAll('script:not([type="application/json"]), style')].filter((s) => s.nonce !== ${JSON.stringify(nonce)}).length`)).toBe(0)

    // Use the page: switch product, apply a code, pay; every request stays on the server's origin.
    await page.getByRole('radio', { name: /Pro/ }).check()
    await waitText(page.locator('#k-total'), '$9.00', 'total')
    await page.getByRole('radio', { name: /Starter/ }).check()
    await waitText(page.locator('#k-total'), '$29.00', 'total')
    await page.getByText(t('en', 'add_discount')).click()
    await page.fill('#discount_code', 'LAUNCH20')
    await page.getByRole('button', { name: t('en', 'apply') }).click()
    await waitText(page.locator('#k-total'), '$23.20', 'total')
    await fillAddress(page)
    await page.fill('#cf-company', 'Acme')
    await fillCard(page, '4242 4242 4242 4242')
    const [confirmation] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/confirmation')), page.click('#k-pay')])
    expect(confirmation.headers()['referrer-policy']).toBe('no-referrer')
    expect(confirmation.headers()['cache-control']).toBe('no-store')
    await page.waitForURL(/\/confirmation$/)
    const foreign = requests.filter((u) => !u.startsWith('data:') && new URL(u).origin !== e.base)
    expect(foreign).toEqual([])
    expect(requests.length).toBeGreaterThan(5)
  })

  it('screenshots: 360 px with the pay button in view and no horizontal overflow; desktop, dark, confirmation', async () => {
    const polar = await merchant()
    const { link: l } = await typicalShop(polar, { returnUrl: 'https://example.com/' })

    // A small phone: the sticky bottom bar shows the total and the pay button without scrolling.
    const mobile = await open({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 })
    await mobile.goto(visitUrl(l.clientSecret, '?customer_email=ada%40example.com'))
    const payInView = async (page: Page) => {
      const box = await page.locator('#k-pay').boundingBox()
      const vp = page.viewportSize()!
      return box !== null && box.y >= 0 && box.y + box.height <= vp.height && box.x >= 0 && box.x + box.width <= vp.width
    }
    expect(await payInView(mobile), 'pay button in view at the top of the page').toBe(true)
    expect(await textOf(mobile.locator('#k-paybar .sum'))).toBe('Total $29.00')
    expect(await inPage<number>(mobile, 'document.documentElement.scrollWidth')).toBeLessThanOrEqual(360)
    await mobile.screenshot({ path: `${ARTIFACTS}checkout-360.png` })
    // The whole page as a tall phone shows it (a full-page capture would leave the fixed bar mid-page).
    await mobile.setViewportSize({ width: 360, height: await inPage<number>(mobile, 'document.documentElement.scrollHeight') })
    await mobile.screenshot({ path: `${ARTIFACTS}checkout-360-full.png` })
    await mobile.setViewportSize({ width: 360, height: 640 })
    // Still there halfway down, and at the very end the bar covers nothing (the small print stays readable).
    await inPage(mobile, 'window.scrollTo(0, document.documentElement.scrollHeight / 2)')
    expect(await payInView(mobile), 'pay button in view halfway down').toBe(true)
    await inPage(mobile, 'window.scrollTo(0, document.documentElement.scrollHeight)')
    expect(await payInView(mobile), 'pay button in view at the bottom').toBe(true)
    const coveredAtEnd = await inPage<boolean>(
      mobile,
      `(() => { const bar = document.getElementById('k-paybar').getBoundingClientRect(); const fine = document.querySelector('.fine').getBoundingClientRect(); return fine.bottom > bar.top && fine.top < bar.bottom && getComputedStyle(document.getElementById('k-paybar')).position === 'fixed' })()`,
    )
    expect(coveredAtEnd, 'the bar covers the small print at the end of the page').toBe(false)
    // A field focused while it sits right under the bar is scrolled above it.
    await inPage(mobile, `window.scrollBy(0, document.getElementById('customer_billing_address-city').getBoundingClientRect().top - (innerHeight - 70))`)
    await mobile.focus('#customer_billing_address-city')
    const hidden = await inPage<boolean>(mobile, `document.getElementById('customer_billing_address-city').getBoundingClientRect().bottom > document.getElementById('k-paybar').getBoundingClientRect().top`)
    expect(hidden, 'focused field hidden under the bar').toBe(false)

    // French is the longest of the common locales: still no overflow.
    const fr = await open({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true })
    await fr.goto(visitUrl(l.clientSecret, '?locale=fr'))
    expect(await inPage<number>(fr, 'document.documentElement.scrollWidth')).toBeLessThanOrEqual(360)
    expect(await payInView(fr)).toBe(true)

    const desktop = await open({ viewport: { width: 1280, height: 900 } })
    await desktop.goto(visitUrl(l.clientSecret, '?customer_email=ada%40example.com'))
    expect(await inPage<number>(desktop, 'document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280)
    await desktop.screenshot({ path: `${ARTIFACTS}checkout-desktop.png`, fullPage: true })

    const dark = await open({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' })
    await dark.goto(visitUrl(l.clientSecret, '?customer_email=ada%40example.com'))
    await dark.screenshot({ path: `${ARTIFACTS}checkout-dark.png`, fullPage: true })
    const darkMobile = await open({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, colorScheme: 'dark' })
    await darkMobile.goto(visitUrl(l.clientSecret, '?customer_email=ada%40example.com&product_id=' + (await sessionOf(polar, dark)).products[1]!.id))
    await darkMobile.screenshot({ path: `${ARTIFACTS}checkout-dark-360.png` })

    // Pay on the phone, then the confirmation page.
    await fillAddress(mobile)
    await mobile.fill('#cf-company', 'Acme')
    await fillCard(mobile, '4242 4242 4242 4242')
    await mobile.click('#k-pay')
    await mobile.waitForURL(/\/confirmation$/, { timeout: 10_000 })
    expect(await inPage<number>(mobile, 'document.documentElement.scrollWidth')).toBeLessThanOrEqual(360)
    await mobile.screenshot({ path: `${ARTIFACTS}confirmation-360.png` })
    await desktop.goto(mobile.url())
    await desktop.screenshot({ path: `${ARTIFACTS}confirmation-desktop.png` })
  })
})

describe.skipIf(skipBrowserTests)('an expired checkout in a browser', async () => {
  // Fixed at the real time of start (other files' expiry runs, on earlier clocks, leave its sessions alone).
  const clock = new FixedClock(new Date())
  const e: E2EApp = skipBrowserTests ? (undefined as never) : await startE2EApp({ clock })
  let browser: Browser

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('shows the expired page (410) with "Start again", which opens a new session with the same prefill', async () => {
    const org = await e.createOrg()
    const polar = await polarClient(e.app, org.token)
    const p = await polar.products.create({ name: 'Carnet', prices: [{ amountType: 'fixed', priceAmount: 2900 }] })
    const l = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [p.id] })
    const context = await browser.newContext({ viewport: { width: 360, height: 640 } })
    try {
      const page = await context.newPage()
      await page.goto(`${e.base}/buy/${l.clientSecret}?customer_email=ada%40example.com&locale=fr&utm_source=newsletter`)
      const first = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]!)
      expect(await page.inputValue('input[name=customer_email]')).toBe('ada@example.com')

      clock.advance((e.deps.config.checkoutTtlSeconds + 1) * 1000)
      const res = await page.reload()
      expect(res?.status()).toBe(410)
      expect(res?.headers()['cache-control']).toBe('no-store')
      expect(await page.getAttribute('html', 'lang')).toBe('fr')
      expect(await textOf(page.locator('h1'))).toBe(t('fr', 'expired_title'))
      await page.screenshot({ path: `${ARTIFACTS}expired-360.png` })
      const again = page.getByRole('link', { name: t('fr', 'start_again') })
      expect(await again.getAttribute('href')).toBe(`${e.base}/buy/${l.clientSecret}?customer_email=ada%40example.com&locale=fr&utm_source=newsletter`)

      await again.click()
      await page.waitForURL((u) => u.pathname.startsWith('/checkout/polar_c_') && !u.pathname.includes(first))
      const second = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]!)
      expect(second).not.toBe(first)
      expect(await page.getAttribute('html', 'lang')).toBe('fr')
      expect(await page.inputValue('input[name=customer_email]')).toBe('ada@example.com')
      const session = await polar.checkouts.clientGet({ clientSecret: second })
      expect(session.status).toBe('open')
      const full = await polar.checkouts.get({ id: session.id })
      expect(full.metadata).toMatchObject({ utm_source: 'newsletter' })
    } finally {
      await context.close()
    }
  })
})
