import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import jsQR from 'jsqr'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../../src/organizations/service'
import { polarClient, type TestOrg } from '../helpers'
import { launchBrowser, skipBrowserTests } from './browser'
import { startE2EApp, type E2EApp } from './server'

/*
 * The merchant dashboard (dashboard/, served at /dashboard) in the system Chromium, against the real app on
 * loopback: log in, build a catalog with the forms, make a checkout link, share it (clipboard, QR code, URL
 * builder) and open it as a buyer, and check that one organization never sees another's links.
 *
 * The tests of this file run in order and build on each other (one merchant's session, one catalog).
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
const PASSWORD = 'correct horse battery staple'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

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
const waitContains = (l: Locator, expected: string, what = String(l)) => until(() => textOf(l), (v) => v.includes(norm(expected)), `${what} to contain "${expected}"`)

/** Serializable snippets run in the page (the project's tsconfig has no DOM types). */
const inPage = <T>(page: Page, expression: string) => page.evaluate(expression) as Promise<T>

/** The RGBA pixels of an <img> at its natural size, drawn on a canvas in the page (base64, for the trip to Node). */
const IMAGE_PIXELS = (selector: string) => `(async () => {
  const img = document.querySelector(${JSON.stringify(selector)})
  await img.decode()
  const canvas = document.createElement('canvas')
  canvas.width = img.naturalWidth
  canvas.height = img.naturalHeight
  const g = canvas.getContext('2d')
  g.drawImage(img, 0, 0)
  const data = g.getImageData(0, 0, canvas.width, canvas.height).data
  let s = ''
  for (let i = 0; i < data.length; i += 0x8000) s += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000))
  return { width: canvas.width, height: canvas.height, rgba: btoa(s) }
})()`

async function decodeQr(page: Page, selector: string): Promise<string | undefined> {
  const { width, height, rgba } = await inPage<{ width: number; height: number; rgba: string }>(page, IMAGE_PIXELS(selector))
  const pixels = new Uint8ClampedArray(Buffer.from(rgba, 'base64'))
  expect(pixels.length).toBe(width * height * 4)
  return jsQR(pixels, width, height)?.data
}

interface ApiLink {
  id: string
  label: string | null
  url: string
  organization_id: string
  discount_id: string | null
  products: { id: string; name: string }[]
}

describe.skipIf(skipBrowserTests)('merchant dashboard in a browser', async () => {
  // A skipped suite is still collected: start nothing then.
  const e: E2EApp = skipBrowserTests ? (undefined as never) : await startE2EApp({ config: { encryptionKey: randomBytes(32).toString('base64') } })
  let browser: Browser
  let orgA: TestOrg
  let orgB: TestOrg
  const userA = { email: `ada-${process.pid}-${Date.now().toString(36)}@example.com`, password: PASSWORD }
  const userB = { email: `bob-${process.pid}-${Date.now().toString(36)}@example.com`, password: PASSWORD }
  const contexts: BrowserContext[] = []
  /** Page errors and console errors (a CSP violation is one): the file ends with none. */
  const problems: string[] = []
  /** Responses the browser logs as errors and a test expects (a 401 before logging in, a 404 for another organization's link). */
  let expectedStatus = /status of 401/

  // What the tests build, in order.
  let page: Page
  const productIds: string[] = []
  let discountId = ''
  let link: ApiLink
  let builderUrl = ''

  beforeAll(async () => {
    // A clean clone has no dashboard/dist: build it (a no-op when it is up to date).
    execFileSync('node', ['scripts/build-dashboard.mjs', '--if-stale'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] })
    mkdirSync(ARTIFACTS, { recursive: true })
    browser = await launchBrowser()
    orgA = await e.createOrg('Acme Studio')
    orgB = await e.createOrg('Beta Works')
    await createUser(e.deps, { ...userA, organizationId: orgA.organizationId })
    await createUser(e.deps, { ...userB, organizationId: orgB.organizationId })
    page = await open()
  }, 120_000)

  afterAll(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()))
    await browser?.close()
    await e?.settlement.idle()
    expect(problems, 'errors in the pages').toEqual([])
  })

  async function open(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: e.base })
    contexts.push(context)
    const p = await context.newPage()
    watch(p)
    context.on('page', watch)
    return p
  }

  function watch(p: Page) {
    if ((p as Page & { __watched?: boolean }).__watched) return
    ;(p as Page & { __watched?: boolean }).__watched = true
    p.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    p.on('console', (m) => {
      // GET /v1/auth/me before logging in and a wrong password are 401s: the browser logs those responses.
      if (m.type() === 'error' && !expectedStatus.test(m.text())) problems.push(`console: ${m.text()}`)
    })
  }

  const dash = (path = '') => `${e.base}/dashboard${path}`
  /** A full-page screenshot, scrolled to the top first (else the sticky top bar lands mid-page). */
  async function shot(p: Page, name: string) {
    await inPage(p, 'window.scrollTo(0, 0)')
    await p.screenshot({ path: `${ARTIFACTS}dashboard-${name}.png`, fullPage: true })
  }
  const pathOf = (p: Page) => new URL(p.url()).pathname
  const lastSegment = (p: Page) => pathOf(p).split('/').pop()!

  async function logIn(p: Page, user: { email: string; password: string }) {
    await p.goto(dash('/login'))
    await p.getByLabel('Email').fill(user.email)
    await p.getByLabel('Password').fill(user.password)
    await p.getByRole('button', { name: 'Log in' }).click()
  }

  /** `GET path` with the browser context's cookies (the dashboard's session). */
  async function apiGet<T>(p: Page, path: string): Promise<{ status: number; body: T }> {
    const res = await p.context().request.get(`${e.base}${path}`)
    return { status: res.status(), body: (await res.json()) as T }
  }

  it('logs in: a wrong password shows an error on the login page, the right one opens Products', async () => {
    await page.goto(dash())
    await page.waitForURL(dash('/login'))
    await page.getByRole('heading', { name: 'Log in to your dashboard' }).waitFor()
    await shot(page, 'login')

    await logIn(page, { email: userA.email, password: 'not the password' })
    await waitContains(page.getByRole('alert'), 'Invalid email or password.', 'login error')
    expect(pathOf(page)).toBe('/dashboard/login')
    expect(await page.getByLabel('Password').inputValue()).toBe('not the password')
    const cookies = await page.context().cookies()
    expect(cookies.some((c) => c.name === 'kassa_session')).toBe(false)
    await shot(page, 'login-error')

    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL(dash('/products'))
    await waitContains(page.getByTestId('organization-name'), 'Acme Studio', 'organization name')
    expect(await textOf(page.locator('.user-email'))).toBe(userA.email)
    expect((await page.context().cookies()).find((c) => c.name === 'kassa_session')?.httpOnly).toBe(true)
  })

  it('creates two products from the Products tab and a discount from the Discounts tab', async () => {
    const createProduct = async (name: string, amount: string, subscription: boolean) => {
      await page.goto(dash('/products'))
      await page.getByRole('link', { name: 'New Product' }).first().click()
      await page.waitForURL(dash('/products/new'))
      await page.getByRole('textbox', { name: 'Name' }).fill(name)
      await page.getByRole('textbox', { name: 'Description' }).fill(`${name}, made in the browser test.`)
      if (subscription) await page.getByRole('radio', { name: 'Subscription' }).check()
      await page.getByRole('textbox', { name: 'Amount' }).fill(amount)
      await page.getByRole('button', { name: 'Create Product' }).click()
      await page.waitForURL((u) => /^\/dashboard\/products\/[0-9a-f-]{36}$/.test(u.pathname))
      productIds.push(lastSegment(page))
    }
    await createProduct('Starter kit', '29', false)
    await createProduct('Pro plan', '9', true)

    await page.goto(dash('/products'))
    const rows = page.locator('table tbody tr')
    await until(() => rows.count(), (n) => n === 2, 'two product rows')
    expect(await textOf(page.locator('table tbody'))).toContain('Starter kit')
    expect(await textOf(page.locator('table tbody'))).toContain('Pro plan')
    await shot(page, 'products')

    await page.getByRole('navigation', { name: 'Products section' }).getByRole('link', { name: 'Discounts' }).click()
    await page.waitForURL(dash('/products/discounts'))
    await page.getByRole('link', { name: 'New Discount' }).first().click()
    await page.waitForURL(dash('/products/discounts/new'))
    await page.getByRole('textbox', { name: 'Name' }).fill('Launch')
    await page.getByRole('textbox', { name: 'Code' }).fill('LAUNCH20')
    await page.getByRole('textbox', { name: 'Percentage' }).fill('20')
    await page.getByRole('button', { name: 'Create Discount' }).click()
    await page.waitForURL((u) => /^\/dashboard\/products\/discounts\/[0-9a-f-]{36}$/.test(u.pathname))
    discountId = lastSegment(page)

    await page.getByRole('link', { name: '← Discounts' }).click()
    await page.waitForURL(dash('/products/discounts'))
    await waitContains(page.locator('table tbody'), 'Launch LAUNCH20 20%', 'discount row')
    await shot(page, 'discounts')

    const products = await apiGet<{ items: { id: string; name: string; prices: { price_amount?: number }[]; is_recurring: boolean }[] }>(page, '/v1/products/?sorting=created_at')
    expect(products.body.items.map((p) => [p.id, p.name, p.prices[0]?.price_amount, p.is_recurring])).toEqual([
      [productIds[0], 'Starter kit', 2900, false],
      [productIds[1], 'Pro plan', 900, true],
    ])
    const discount = await apiGet<{ name: string; code: string; basis_points: number }>(page, `/v1/discounts/${discountId}`)
    expect(discount.body).toMatchObject({ name: 'Launch', code: 'LAUNCH20', basis_points: 2000 })
  })

  it('deletes a product nothing refers to (is_deletable), after a confirmation', async () => {
    await page.goto(dash('/products/new'))
    await page.getByRole('textbox', { name: 'Name' }).fill('Scratch pad')
    await page.getByRole('textbox', { name: 'Amount' }).fill('5')
    await page.getByRole('button', { name: 'Create Product' }).click()
    await page.waitForURL((u) => /^\/dashboard\/products\/[0-9a-f-]{36}$/.test(u.pathname))
    const scratch = lastSegment(page)
    await page.goto(dash('/products'))
    await page.getByRole('button', { name: 'Delete Scratch pad' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Delete product' }).click()
    await until(() => page.locator('table tbody tr').count(), (n) => n === 2, 'two product rows after the delete')
    expect(await textOf(page.locator('table tbody'))).not.toContain('Scratch pad')
    expect((await apiGet(page, `/v1/products/${scratch}`)).status).toBe(404)
  })

  it('New Link: two products in order and the preset discount, as the API shows it', async () => {
    await page.getByRole('navigation', { name: 'Products section' }).getByRole('link', { name: 'Checkout Links' }).click()
    await page.waitForURL(dash('/products/checkout-links'))
    await page.getByRole('link', { name: 'New Link' }).first().click()
    await page.waitForURL(dash('/products/checkout-links/new'))
    const form = page.getByTestId('link-form')
    await form.waitFor()

    await form.getByRole('textbox', { name: 'Label' }).fill('Spring launch')
    const products = form.getByRole('combobox', { name: 'Products' })
    for (const name of ['Starter', 'Pro']) {
      await products.click()
      await products.fill(name)
      await page.getByRole('option', { name: new RegExp(name) }).click()
    }
    expect(await form.getByRole('list', { name: 'Selected products' }).locator('li .strong').allInnerTexts()).toEqual(['Starter kit', 'Pro plan'])
    const discount = form.getByRole('combobox', { name: 'Preset discount' })
    await discount.click()
    await discount.fill('Laun')
    await page.getByRole('option', { name: /Launch/ }).click()
    expect(await discount.inputValue()).toBe('Launch')
    await shot(page, 'new-link')

    await form.getByRole('button', { name: 'Create Link' }).click()
    await page.waitForURL((u) => /^\/dashboard\/products\/checkout-links\/[0-9a-f-]{36}$/.test(u.pathname))
    await page.getByRole('heading', { name: 'Spring launch' }).waitFor()

    const res = await apiGet<ApiLink>(page, `/v1/checkout-links/${lastSegment(page)}`)
    expect(res.status).toBe(200)
    link = res.body
    expect(link.label).toBe('Spring launch')
    expect(link.products.map((p) => p.id)).toEqual(productIds)
    expect(link.discount_id).toBe(discountId)
    expect(link.organization_id).toBe(orgA.organizationId)
    expect(link.url).toMatch(new RegExp(`^${e.base}/buy/`))
  })

  it('Copy puts the link URL on the clipboard; opened, it is a checkout with the discount line', async () => {
    expect(link, 'the link of the previous test').toBeDefined()
    expect(await page.getByTestId('link-url').inputValue()).toBe(link.url)
    await page.getByRole('tabpanel').getByRole('button', { name: 'Copy', exact: true }).click()
    await waitContains(page.getByRole('tabpanel').getByRole('button', { name: 'Copied' }), 'Copied', 'copy button')
    const copied = await inPage<string>(page, 'navigator.clipboard.readText()')
    expect(copied).toBe(link.url)

    const buyer = await page.context().newPage()
    const res = await buyer.goto(copied)
    expect(res?.status()).toBe(200)
    expect(buyer.url()).toMatch(new RegExp(`^${e.base}/checkout/polar_c_`))
    await waitContains(buyer.locator('#k-breakdown .line.discount'), 'Launch (20%)', 'discount line')
    expect(await textOf(buyer.locator('#k-breakdown .line.discount'))).toContain('$5.80')
    expect(await textOf(buyer.locator('#k-product-name'))).toBe('Starter kit')
    // The buyer chooses between the link's products, in the link's order.
    expect(await buyer.locator('input[name=product_id]').evaluateAll((els) => els.map((el) => (el as unknown as { value: string }).value))).toEqual(productIds)
    await buyer.close()
  })

  it('URL builder: email, locale and utm_source compose a URL that opens a prefilled checkout', async () => {
    await page.getByRole('tab', { name: 'URL builder' }).click()
    const builder = page.getByTestId('url-builder')
    await builder.waitFor()
    await builder.getByRole('checkbox', { name: 'Add customer_email to the link' }).check()
    await builder.getByLabel('Email', { exact: true }).fill('ada@example.com')
    await builder.getByRole('checkbox', { name: 'Add locale to the link' }).check()
    await builder.getByLabel('Locale', { exact: true }).selectOption('fr')
    await builder.getByRole('checkbox', { name: 'Add utm_source to the link' }).check()
    await builder.getByLabel('UTM source', { exact: true }).fill('newsletter')

    const expected = `${link.url}?customer_email=ada%40example.com&locale=fr&utm_source=newsletter`
    builderUrl = await until(() => textOf(page.getByTestId('builder-url')), (v) => v === expected, 'the composed URL')
    await shot(page, 'url-builder')

    const [buyer] = await Promise.all([page.context().waitForEvent('page'), builder.getByRole('link', { name: 'Open' }).click()])
    await buyer.waitForLoadState('load')
    expect(buyer.url()).toMatch(new RegExp(`^${e.base}/checkout/polar_c_`))
    expect(await buyer.getAttribute('html', 'lang')).toBe('fr')
    expect(await buyer.inputValue('input[name=customer_email]')).toBe('ada@example.com')
    await waitContains(buyer.locator('#k-breakdown .line.discount'), 'Launch (20', 'discount line')

    // Paid, it becomes the order the Orders page lists.
    const secret = decodeURIComponent(new URL(buyer.url()).pathname.split('/')[2] ?? '')
    await buyer.fill('#card_number', '4242 4242 4242 4242')
    await buyer.fill('#card_expiry', `12 / ${String((new Date().getUTCFullYear() + 4) % 100).padStart(2, '0')}`)
    await buyer.fill('#card_cvc', '123')
    await buyer.click('#k-pay')
    await buyer.waitForURL(`${e.base}/checkout/${secret}/confirmation`, { timeout: 15_000 })
    await buyer.close()
  })

  it('the QR code decodes to the link URL (and, asked, to the URL builder’s)', async () => {
    await page.getByRole('tab', { name: 'QR code' }).click()
    const img = page.getByTestId('qr-image')
    await img.waitFor()
    expect(await decodeQr(page, '[data-testid=qr-image]')).toBe(link.url)
    // The PNG download is the same image.
    expect(await page.getByRole('link', { name: 'Download PNG' }).getAttribute('href')).toBe(await img.getAttribute('src'))
    await shot(page, 'link-qr')

    const before = await img.getAttribute('src')
    await page.getByRole('checkbox', { name: "Include the URL builder's parameters" }).check()
    await until(() => img.getAttribute('src'), (src) => !!src && src !== before, 'the QR code of the builder URL')
    expect(await decodeQr(page, '[data-testid=qr-image]')).toBe(builderUrl)
  })

  it('the Orders page lists the paid checkout; the links list counts it', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders' }).click()
    await page.waitForURL(dash('/orders'))
    await waitContains(page.locator('table tbody'), 'ada@example.com', 'order row')
    const row = norm(await page.locator('table tbody tr').first().innerText())
    expect(row).toContain('Starter kit')
    expect(row).toContain('$23.20')
    await shot(page, 'orders')

    await page.goto(dash('/products/checkout-links'))
    const table = page.getByTestId('links-table')
    await waitContains(table, 'Spring launch', 'links table')
    await waitContains(table.getByTestId('link-paid'), '1', 'paid count')
    expect(await textOf(table.getByTestId('link-sessions'))).toBe('2')
    expect(await textOf(table.getByTestId('link-revenue'))).toBe('$23.20')
    await shot(page, 'links')
    // The list's own Copy URL button.
    await inPage(page, "navigator.clipboard.writeText('')")
    await table.getByRole('button', { name: 'Copy URL' }).click()
    expect(await until(() => inPage<string>(page, 'navigator.clipboard.readText()'), (v) => v !== '', 'the clipboard')).toBe(link.url)
  })

  it("a user of organization A never sees organization B's links", async () => {
    const polarB = await polarClient(e.app, orgB.token)
    const productB = await polarB.products.create({ name: 'Beta secret product', prices: [{ amountType: 'fixed', priceAmount: 1500 }] } as Parameters<typeof polarB.products.create>[0])
    const linkB = await polarB.checkoutLinks.create({ paymentProcessor: 'stripe', products: [productB.id], label: 'Beta secret link' } as Parameters<typeof polarB.checkoutLinks.create>[0])

    // A's list: A's link, not B's.
    await page.goto(dash('/products/checkout-links'))
    const table = page.getByTestId('links-table')
    await waitContains(table, 'Spring launch', 'links table')
    expect(await textOf(page.locator('main'))).not.toContain('Beta secret')
    expect(await page.locator('#link-product-filter option').allInnerTexts()).not.toContain('Beta secret product')

    // The API with A's cookie: only A's links; B's link is a 404, and so is its page.
    const list = await apiGet<{ items: ApiLink[] }>(page, '/v1/checkout-links/?limit=100')
    expect(list.status).toBe(200)
    expect(list.body.items.map((l) => l.id)).toEqual([link.id])
    expect(list.body.items.every((l) => l.organization_id === orgA.organizationId)).toBe(true)
    expect((await apiGet(page, `/v1/checkout-links/${linkB.id}`)).status).toBe(404)
    expectedStatus = /status of (401|404)/
    await page.goto(dash(`/products/checkout-links/${linkB.id}`))
    await page.getByRole('alert').waitFor()
    expect(await textOf(page.locator('main'))).not.toContain('Beta secret')
    expectedStatus = /status of 401/

    // B, logged in elsewhere, sees B's link and not A's.
    const pageB = await open()
    await logIn(pageB, userB)
    await pageB.waitForURL(dash('/products'))
    await pageB.goto(dash('/products/checkout-links'))
    await waitContains(pageB.getByTestId('links-table'), 'Beta secret link', "B's links table")
    expect(await textOf(pageB.locator('main'))).not.toContain('Spring launch')
    const listB = await apiGet<{ items: ApiLink[] }>(pageB, '/v1/checkout-links/?limit=100')
    expect(listB.body.items.map((l) => l.id)).toEqual([linkB.id])
  })

  /** `method path` with organization A's token (how the tests below set data up, as an integration would). */
  async function tokenApi<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${e.base}${path}`, {
      method,
      headers: { ...orgA.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T }
  }

  interface ApiOrder {
    id: string
    checkout_id: string | null
    subscription_id: string | null
    status: string
    total_amount: number
    refunded_amount: number
    refundable_amount: number
    livemode: boolean
  }

  /** A checkout of `productId` paid with the sandbox card, settled by the app's worker; its order. */
  async function buy(productId: string, email: string): Promise<ApiOrder> {
    const session = await tokenApi<{ id: string; client_secret: string }>('POST', '/v1/checkouts/', { products: [productId], customer_email: email })
    expect(session.status).toBe(201)
    const confirm = await tokenApi<{ status: string }>('POST', `/v1/checkouts/client/${session.body.client_secret}/confirm`, {
      confirmation_token_id: 'tok_sandbox_success',
      customer_name: 'Grace Hopper',
    })
    expect(confirm.status).toBe(200)
    return until(
      async () => {
        await e.settlement.idle()
        await e.settlement.run()
        const orders = await tokenApi<{ items: ApiOrder[] }>('GET', '/v1/orders/?limit=100')
        return orders.body.items.find((o) => o.checkout_id === session.body.id)
      },
      (o) => !!o && o.status === 'paid',
      `the order of ${email}`,
      15_000,
    ) as Promise<ApiOrder>
  }

  let subscriptionOrder: ApiOrder

  it('the order page: totals, a partial refund through the form, the refund listed; an over-refund shows the API error at the field', async () => {
    const once = await buy(productIds[0]!, 'grace.once@example.com')
    subscriptionOrder = await buy(productIds[1]!, 'grace.sub@example.com')
    expect(once.livemode).toBe(false)
    expect(subscriptionOrder.subscription_id).toBeTruthy()

    await page.goto(dash('/orders'))
    await waitContains(page.locator('table tbody'), 'grace.once@example.com', 'the one-time order in the list')
    await page.getByRole('link', { name: /order of grace\.once@example\.com/ }).click()
    await page.waitForURL(dash(`/orders/${once.id}`))
    await waitContains(page.getByTestId('order-total'), '$29.00', 'order total')
    expect(await textOf(page.getByTestId('order-status'))).toBe('Paid')
    expect(await textOf(page.getByTestId('order-test-mode'))).toBe('Test mode')
    expect(await textOf(page.getByTestId('order-refundable'))).toBe('$29.00')
    expect(await textOf(page.getByTestId('order-timeline'))).toContain('Paid')
    expect(await page.getByTestId('order-subscription-link').count()).toBe(0)

    const form = page.getByTestId('refund-form')
    const amount = form.getByRole('textbox', { name: 'Amount' })
    await form.getByRole('button', { name: 'Full amount' }).click()
    expect(await amount.inputValue()).toBe('29.00')
    await amount.fill('5')
    await form.getByRole('combobox', { name: 'Reason' }).selectOption('duplicate')
    await form.getByRole('textbox', { name: 'Comment' }).fill('Charged twice by mistake')
    await form.getByRole('button', { name: 'Refund' }).click()
    await waitContains(page.getByTestId('order-refunded'), '$5.00', 'refunded amount')
    await waitContains(page.getByTestId('order-status'), 'Partially refunded', 'status after the refund')
    expect(await textOf(page.getByTestId('order-refundable'))).toBe('$24.00')
    const refundRow = await textOf(page.getByTestId('refunds-table').locator('tbody tr'))
    expect(refundRow).toContain('Duplicate')
    expect(refundRow).toContain('$5.00')
    expect(refundRow).toContain('Succeeded')
    expect(await textOf(page.getByTestId('order-timeline'))).toContain('Refund succeeded')
    await shot(page, 'order')

    const refunds = await tokenApi<{ items: { amount: number; reason: string }[] }>('GET', `/v1/refunds/?order_id=${once.id}`)
    expect(refunds.body.items.map((r) => [r.amount, r.reason])).toEqual([[500, 'duplicate']])

    // More than is left: the API's 422, beside the amount.
    expectedStatus = /status of (401|422)/
    await amount.fill('100')
    await form.getByRole('button', { name: 'Refund' }).click()
    const field = form.locator('.field-invalid').filter({ has: page.getByRole('textbox', { name: 'Amount' }) })
    await waitContains(field, 'Refund amount exceeds refundable amount', 'over-refund error at the amount')
    expect(await amount.getAttribute('aria-invalid')).toBe('true')
    expectedStatus = /status of 401/
    expect((await tokenApi<ApiOrder>('GET', `/v1/orders/${once.id}`)).body.refunded_amount).toBe(500)

    // Dark mode and a phone's width: nothing wider than the screen.
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.setViewportSize({ width: 390, height: 844 })
    await until(() => inPage<boolean>(page, 'document.documentElement.scrollWidth <= window.innerWidth'), (v) => v, 'no horizontal scroll on a phone')
    await shot(page, 'order-phone-dark')
    await page.emulateMedia({ colorScheme: 'light' })
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  it('the subscription page: cancel at period end (confirmed), undo, then revoke now', async () => {
    expect(subscriptionOrder, 'the order of the previous test').toBeDefined()
    const id = subscriptionOrder.subscription_id!
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Subscriptions' }).click()
    await page.waitForURL(dash('/subscriptions'))
    await waitContains(page.locator('table tbody'), 'grace.sub@example.com', 'subscription row')
    await page.getByRole('link', { name: 'grace.sub@example.com' }).click()
    await page.waitForURL(dash(`/subscriptions/${id}`))
    const badges = page.getByTestId('subscription-badges')
    await waitContains(badges, 'Active', 'active badge')
    expect(await textOf(page.getByTestId('subscription-summary'))).toContain('$9.00 / month')
    // Its order, linked.
    await waitContains(page.getByTestId('subscription-orders'), 'New subscription', 'the subscription order')
    expect(await page.getByTestId('subscription-orders').getByRole('link').getAttribute('href')).toBe(`/dashboard/orders/${subscriptionOrder.id}`)

    await page.getByRole('button', { name: 'Cancel at period end' }).click()
    const dialog = page.getByRole('dialog')
    await waitContains(dialog, 'keeps access until', 'cancel dialog')
    await dialog.getByRole('combobox', { name: 'Reason (optional)' }).selectOption('too_expensive')
    await dialog.getByRole('button', { name: 'Cancel at period end' }).click()
    await waitContains(badges, 'Ends', 'the ends badge')
    expect(await textOf(badges)).toContain('Active')
    const sub = await tokenApi<{ cancel_at_period_end: boolean; ends_at: string; customer_cancellation_reason: string }>('GET', `/v1/subscriptions/${id}`)
    expect(sub.body).toMatchObject({ cancel_at_period_end: true, customer_cancellation_reason: 'too_expensive' })
    expect(await textOf(page.getByTestId('subscription-ends'))).not.toBe('—')
    expect(await textOf(page.getByTestId('subscription-reason'))).toBe('Too expensive')
    await shot(page, 'subscription-canceling')

    await page.getByRole('button', { name: 'Undo cancellation' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Undo cancellation' }).click()
    await page.getByRole('button', { name: 'Cancel at period end' }).waitFor()
    expect(await textOf(badges)).toBe('Active')
    expect((await tokenApi<{ cancel_at_period_end: boolean }>('GET', `/v1/subscriptions/${id}`)).body.cancel_at_period_end).toBe(false)

    await page.getByRole('button', { name: 'Revoke now' }).click()
    await waitContains(page.getByRole('dialog'), 'ends the customer’s access immediately', 'revoke dialog')
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke now' }).click()
    await waitContains(badges, 'Canceled', 'canceled badge')
    expect(await textOf(page.getByTestId('subscription-ended'))).not.toBe('—')
    await page.getByRole('heading', { name: 'Subscription ended' }).waitFor()
    expect(await page.getByRole('button', { name: 'Revoke now' }).count()).toBe(0)
    const revoked = await tokenApi<{ status: string; ended_at: string | null }>('GET', `/v1/subscriptions/${id}`)
    expect(revoked.body.status).toBe('canceled')
    expect(revoked.body.ended_at).toBeTruthy()

    await page.emulateMedia({ colorScheme: 'dark' })
    await page.setViewportSize({ width: 390, height: 844 })
    await until(() => inPage<boolean>(page, 'document.documentElement.scrollWidth <= window.innerWidth'), (v) => v, 'no horizontal scroll on a phone')
    await shot(page, 'subscription-phone-dark')
    await page.emulateMedia({ colorScheme: 'light' })
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  it('Settings → Payments: a test-mode banner, Stripe keys saved with the errors at their fields, the secret never shown', async () => {
    await page.goto(dash('/settings'))
    await waitContains(page.getByTestId('test-mode-banner'), 'Sandbox: no real money moves', 'sandbox banner')
    await page.getByTestId('processor-stripe').check()
    await waitContains(page.getByTestId('payments-webhook-url'), `/v1/integrations/stripe/webhook/${orgA.organizationId}`, 'webhook URL')
    expect(await textOf(page.getByTestId('payments-webhook-events'))).toContain('charge.dispute.created')

    const secret = 'sk_test_51E2eSecretKeyAbcdef9876'
    expectedStatus = /status of (401|422)/
    await page.getByTestId('payments-secret-key').fill(secret)
    await page.getByTestId('payments-publishable-key').fill('pk_live_51E2ePublishableKeyAbcd')
    await page.getByTestId('payments-save').click()
    await waitContains(page.locator('.field-invalid').filter({ has: page.getByTestId('payments-publishable-key') }), 'This is a live key but the secret key is a test key', 'mode error at its field')
    expectedStatus = /status of 401/

    await page.getByTestId('payments-publishable-key').fill('pk_test_51E2ePublishableKeyAbcd')
    await page.getByTestId('payments-save').click()
    await waitContains(page.getByTestId('payments-settings'), 'Saved: checkouts pay with Stripe, in test mode.', 'saved')
    await waitContains(page.getByTestId('test-mode-banner'), 'Test mode: Stripe test keys', 'test-mode banner')
    expect(await page.getByTestId('payments-secret-key').inputValue()).toBe('')
    expect(await page.getByTestId('payments-secret-key').getAttribute('placeholder')).toBe('•••• 9876')
    expect(await page.getByTestId('payments-secret-key').getAttribute('type')).toBe('password')
    expect(await page.content()).not.toContain(secret)
    await shot(page, 'settings-payments')

    await page.reload()
    await waitContains(page.getByTestId('test-mode-banner'), 'Test mode: Stripe test keys', 'banner after a reload')
    // the banner and the settings section load separately: wait for the section, not only the banner
    await waitContains(page.getByTestId('payments-settings'), 'Test mode', 'the mode badge after a reload')
  })
})
