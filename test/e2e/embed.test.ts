import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Polar } from '@polar-sh/sdk'
import type { Browser, BrowserContext, Page, Response } from 'playwright-core'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../../src/organizations/service'
import { polarClient } from '../helpers'
import { launchBrowser, skipBrowserTests } from './browser'
import { startE2EApp, type E2EApp } from './server'

/*
 * Embedded checkout in a real browser: a merchant's page on another origin (a node:http server on another
 * loopback address) loads Kassa's /embed.js, opens a checkout link in the overlay through Polar's markup
 * (`data-polar-checkout`) or API (`PolarEmbedCheckout.create`), pays with the sandbox card and receives
 * `success`; the same page on an origin outside the organization's embed_hosts cannot frame the checkout.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const expiry = () => `12 / ${String((new Date().getUTCFullYear() + 4) % 100).padStart(2, '0')}`

interface MerchantSite {
  origin: string
  /** The checkout link the shop's button opens (the link is made once the site's origin is known). */
  link: string
  /** Markup to serve in place of the shop's button and script (a snippet copied from the dashboard). */
  snippet?: string
  close(): Promise<void>
}

/**
 * The merchant's site on `host` (127.0.0.2, 127.0.0.3: other origins than Kassa's 127.0.0.1): `/` is a shop
 * page with a `data-polar-checkout` button and Kassa's script; it records every message it gets from Kassa's
 * origin in `window.kassaMessages`, as a merchant listening on its page would see them. `/thanks` is its
 * success page.
 */
async function startMerchant(host: string, kassa: string): Promise<MerchantSite> {
  const shop = (linkUrl: string, snippet?: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Merchant shop</title></head><body>
<script>window.kassaMessages=[];window.addEventListener('message',function(e){if(e.origin===${JSON.stringify(kassa)})window.kassaMessages.push(e.data)})</script>
<h1>Posters</h1>${snippet ?? `<a id="buy" href="${linkUrl}" data-polar-checkout data-polar-checkout-theme="dark">Buy <span>now</span></a>
<script src="${kassa}/embed.js" defer data-auto-init></script>`}</body></html>`
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(path === '/' ? shop(site.link, site.snippet) : '<!doctype html><title>Thanks</title><h1>Thanks from the merchant</h1>')
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const { port } = server.address() as AddressInfo
  const site: MerchantSite = { origin: `http://${host}:${port}`, link: 'about:blank', close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
  return site
}

describe.skipIf(skipBrowserTests)('embedded checkout in a browser', async () => {
  const e: E2EApp = skipBrowserTests ? (undefined as never) : await startE2EApp()
  let browser: Browser
  const contexts: BrowserContext[] = []
  const sites: MerchantSite[] = []
  let problems: string[] = []

  beforeAll(async () => {
    // The dashboard test below needs dashboard/dist (a no-op when it is up to date).
    execFileSync('node', ['scripts/build-dashboard.mjs', '--if-stale'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] })
    mkdirSync(ARTIFACTS, { recursive: true })
    browser = await launchBrowser()
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
  })
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()))
    await Promise.all(sites.splice(0).map((s) => s.close()))
    await e.settlement.idle()
    const seen = problems
    problems = []
    expect(seen, 'errors in the pages').toEqual([])
  })

  /** A browser page; `expected` console errors (the refused frame) are not problems. */
  async function open(expected?: RegExp): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    contexts.push(context)
    const page = await context.newPage()
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error' && !(expected && expected.test(m.text()))) problems.push(`console: ${m.text()}`)
    })
    return page
  }

  /** An organization whose embed_hosts are `hosts`, selling one poster through a link. */
  async function shop(hosts: string[], linkExtra: Record<string, unknown> = {}): Promise<{ polar: Polar; linkUrl: string }> {
    const org = await e.createOrg('Poster Shop')
    const patched = await fetch(`${e.base}/v1/organizations/${org.organizationId}`, {
      method: 'PATCH',
      headers: { ...org.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ embed_hosts: hosts }),
    })
    expect(patched.status).toBe(200)
    const polar = await polarClient(e.app, org.token)
    const p = await polar.products.create({ name: 'Poster', prices: [{ amountType: 'fixed', priceAmount: 1500 }] } as Parameters<Polar['products']['create']>[0])
    const l = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [p.id], ...linkExtra } as Parameters<Polar['checkoutLinks']['create']>[0])
    return { polar, linkUrl: l.url }
  }

  const messages = (page: Page) => page.evaluate('window.kassaMessages') as Promise<{ type: string; event: string; successURL?: string; redirect?: boolean }[]>
  const events = async (page: Page) => (await messages(page)).map((m) => m.event)

  async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeout = 10_000): Promise<T> {
    const end = Date.now() + timeout
    for (;;) {
      const v = await read()
      if (ok(v)) return v
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`)
      await sleep(50)
    }
  }

  /** The checkout page responses of a page's frames (the overlay's document). */
  function checkoutResponses(page: Page): Response[] {
    const seen: Response[] = []
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/checkout/')) seen.push(r)
    })
    return seen
  }

  async function pay(page: Page) {
    const frame = page.frameLocator('iframe')
    await frame.locator('#customer_email').fill('ada@example.com')
    await frame.locator('#card_number').fill('4242 4242 4242 4242')
    await frame.locator('#card_expiry').fill(expiry())
    await frame.locator('#card_cvc').fill('123')
    await frame.locator('#k-pay').click()
  }

  it('data-polar-checkout on an allowed origin: the overlay opens, the buyer pays, the page gets loaded, confirmed and success', async () => {
    const real = await startMerchant('127.0.0.2', e.base)
    sites.push(real)
    const { polar, linkUrl } = await shop([new URL(real.origin).host])
    real.link = linkUrl

    const page = await open()
    const responses = checkoutResponses(page)
    await page.goto(`${real.origin}/`)
    // A click on the link's child: the closest [data-polar-checkout] opens, not a navigation.
    await page.click('#buy span')
    await until(() => events(page), (ev) => ev.includes('loaded'), "'loaded'")
    expect(page.url()).toBe(`${real.origin}/`)
    const iframe = page.locator('iframe')
    expect(await iframe.count()).toBe(1)
    const src = new URL((await iframe.getAttribute('src'))!)
    expect(src.searchParams.get('embed')).toBe('true')
    expect(src.searchParams.get('embed_origin')).toBe(real.origin)
    expect(src.searchParams.get('theme')).toBe('dark')

    // The overlay's checkout page: framed by exactly the merchant's origin, in the compact dark layout.
    const first = responses.find((r) => /\/checkout\/polar_c_[^/]+$/.test(new URL(r.url()).pathname))!
    expect(first.headers()['content-security-policy']).toContain(`frame-ancestors ${real.origin}`)
    expect(first.headers()['x-frame-options']).toBeUndefined()
    const frame = page.frameLocator('iframe')
    expect(await frame.locator('html').getAttribute('data-theme')).toBe('dark')
    expect(await frame.locator('html').getAttribute('data-embed')).toBe('')
    expect(await frame.locator('#k-close').isVisible()).toBe(true)
    expect(await frame.locator('footer').count()).toBe(0)
    await page.screenshot({ path: `${ARTIFACTS}embed-overlay.png` })

    await pay(page)
    const all = await until(() => messages(page), (m) => m.some((x) => x.event === 'success'), "'success'")
    const success = all.find((m) => m.event === 'success')!
    expect(all.map((m) => m.event).slice(0, 3)).toEqual(['loaded', 'confirmed', 'success'])
    expect(all.every((m) => m.type === 'POLAR_CHECKOUT')).toBe(true)
    // Kassa's own confirmation page: shown in the overlay, embedded and dark; the embedding page stays.
    const secret = new URL(first.url()).pathname.split('/')[2]!
    expect(success).toEqual({ type: 'POLAR_CHECKOUT', event: 'success', successURL: `${e.base}/checkout/${secret}/confirmation?embed=true&theme=dark`, redirect: false })
    const session = await polar.checkouts.clientGet({ clientSecret: secret })
    expect([session.status, session.embedOrigin]).toEqual(['succeeded', real.origin])
    await until(async () => (await frame.locator('h1').textContent()) ?? '', (t) => t.includes('Thank you'), 'the confirmation in the overlay')
    expect(page.url()).toBe(`${real.origin}/`)

    // The close button asks the embedding page to close the overlay, which it does.
    await frame.locator('#k-close').click()
    await until(() => page.locator('iframe').count(), (n) => n === 0, 'the overlay to close')
    expect((await events(page)).at(-1)).toBe('close')
  })

  it('PolarEmbedCheckout.create with a merchant success_url: success says redirect, and the embedding page goes there', async () => {
    const site = await startMerchant('127.0.0.2', e.base)
    sites.push(site)
    const { polar, linkUrl } = await shop([new URL(site.origin).host], { successUrl: `${site.origin}/thanks?checkout_id={CHECKOUT_ID}` })
    const page = await open()
    await page.goto(`${site.origin}/`)
    await page.waitForFunction('window.PolarEmbedCheckout && window.Polar.EmbedCheckout === window.PolarEmbedCheckout')
    await page.evaluate(`window.seen = []; PolarEmbedCheckout.create(${JSON.stringify(linkUrl)}, { theme: 'light' }).then(function (c) {
      window.seen.push('created');
      ['loaded', 'confirmed', 'success', 'close'].forEach(function (t) { c.addEventListener(t, function (ev) { window.seen.push(t); if (t === 'success') { window.successDetail = ev.detail; window.sessionStorage.setItem('success', JSON.stringify(ev.detail)) } }) })
    })`)
    await page.waitForFunction("window.seen && window.seen.indexOf('created') >= 0", undefined, { timeout: 10_000 })
    const secret = new URL(page.frames().find((f) => f.url().includes('/checkout/'))!.url()).pathname.split('/')[2]!
    const session = await polar.checkouts.clientGet({ clientSecret: secret })
    await pay(page)
    // The default action of `success` with redirect: the embedding page opens the merchant's success_url.
    await page.waitForURL(`${site.origin}/thanks?checkout_id=${session.id}`, { timeout: 15_000 })
    const detail = JSON.parse((await page.evaluate("sessionStorage.getItem('success')")) as string)
    expect(detail).toEqual({ type: 'POLAR_CHECKOUT', event: 'success', successURL: `${site.origin}/thanks?checkout_id=${session.id}`, redirect: true })
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).status).toBe('succeeded')
  })

  it('an origin not in embed_hosts cannot frame the checkout: frame-ancestors none, no message ever arrives', async () => {
    const allowed = await startMerchant('127.0.0.2', e.base)
    sites.push(allowed)
    const { polar, linkUrl } = await shop([new URL(allowed.origin).host])
    // The same shop page, the same link, served from an origin the organization did not list.
    const other = await startMerchant('127.0.0.3', e.base)
    other.link = linkUrl
    sites.push(other)

    const page = await open(/frame-ancestors|Refused to (display|frame)/)
    const responses = checkoutResponses(page)
    await page.goto(`${other.origin}/`)
    await page.click('#buy')
    await until(() => Promise.resolve(responses.length), (n) => n > 0, 'the checkout page response')
    const res = responses[0]!
    expect(res.status()).toBe(200)
    expect(res.headers()['content-security-policy']).toContain("frame-ancestors 'none'")
    expect(res.headers()['x-frame-options']).toBe('DENY')
    // The session opened, but not as an embedded one: the origin was not allowed.
    const secret = new URL(res.url()).pathname.split('/')[2]!
    expect((await polar.checkouts.clientGet({ clientSecret: secret })).embedOrigin).toBeNull()

    await sleep(2_000)
    expect(await events(page)).toEqual([])
    // The browser refused the frame: its document is not the checkout page.
    const frame = page.frames().find((f) => f !== page.mainFrame())
    const content = frame ? await frame.evaluate('document.querySelector("#k-form") ? "checkout" : "blocked"').catch(() => 'blocked') : 'blocked'
    expect(content).toBe('blocked')
  })

  it("the dashboard: Settings saves the embed hosts (a bad entry is refused beside the field), and the link's Embed snippet works on the merchant's page", async () => {
    const site = await startMerchant('127.0.0.2', e.base)
    sites.push(site)
    const org = await e.createOrg('Dashboard Shop')
    const user = { email: `embed-${process.pid}-${Date.now().toString(36)}@example.com`, password: 'correct horse battery staple' }
    await createUser(e.deps, { ...user, organizationId: org.organizationId })
    const polar = await polarClient(e.app, org.token)
    const p = await polar.products.create({ name: 'Poster', prices: [{ amountType: 'fixed', priceAmount: 1500 }] } as Parameters<Polar['products']['create']>[0])
    const l = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [p.id], label: 'Poster' } as Parameters<Polar['checkoutLinks']['create']>[0])

    const page = await open(/status of (401|422)/)
    await page.goto(`${e.base}/dashboard/login`)
    await page.getByLabel('Email').fill(user.email)
    await page.getByLabel('Password').fill(user.password)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL(`${e.base}/dashboard/products`)

    await page.getByRole('link', { name: 'Settings' }).click()
    const hosts = page.getByTestId('embed-hosts')
    await hosts.fill(`https://${new URL(site.origin).host}`)
    await page.getByRole('region', { name: 'Embedded checkout' }).getByRole('button', { name: 'Save' }).click()
    const error = page.getByTestId('field-error')
    await error.waitFor()
    expect(await error.innerText()).toContain('is not a valid embed host: write the host on its own')
    expect(await hosts.getAttribute('aria-invalid')).toBe('true')

    await hosts.fill(`${new URL(site.origin).host.toUpperCase()}\nshop.example.com:443`)
    await page.getByRole('region', { name: 'Embedded checkout' }).getByRole('button', { name: 'Save' }).click()
    await page.getByText('Saved: 2 hosts may embed your checkout.').waitFor()
    expect(await hosts.inputValue()).toBe(`${new URL(site.origin).host}\nshop.example.com`)
    expect((await polar.organizations.get({ id: org.organizationId })).id).toBe(org.organizationId)
    await page.screenshot({ path: `${ARTIFACTS}dashboard-settings-embed.png`, fullPage: true })

    await page.goto(`${e.base}/dashboard/products/checkout-links/${l.id}`)
    await page.getByRole('tab', { name: 'Embed' }).click()
    await page.getByLabel('Dark').check()
    const snippet = await page.getByTestId('embed-snippet').inputValue()
    expect(snippet).toBe(
      `<a href="${l.url}" data-polar-checkout data-polar-checkout-theme="dark" style="display:inline-block;padding:12px 20px;border-radius:8px;background:#f8fafc;color:#0f172a;font:600 16px/1.2 system-ui, -apple-system, Segoe UI, Roboto, sans-serif;text-decoration:none">Buy now</a>\n` +
        `<script src="${e.base}/embed.js" defer data-auto-init></script>`,
    )

    // Pasted into the merchant's page, the snippet opens the checkout in the overlay.
    site.snippet = snippet
    const shopPage = await open()
    await shopPage.goto(`${site.origin}/`)
    await shopPage.getByRole('link', { name: 'Buy now' }).click()
    await until(() => events(shopPage), (ev) => ev.includes('loaded'), "'loaded' from the pasted snippet")
    expect(await shopPage.frameLocator('iframe').locator('html').getAttribute('data-theme')).toBe('dark')
  })
})
