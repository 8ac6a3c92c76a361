import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sql } from 'kysely'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, skipBrowserTests } from './browser'
import { startE2EApp, type E2EApp } from './server'

/*
 * The link's front door in a real browser (issue 10): the cookie that gives a returning browser its session
 * back, the preview page's "continue" for a person taken for a previewer, and a `<link rel=prefetch>` that
 * opens nothing until the buyer clicks.
 */
describe.skipIf(skipBrowserTests)('the link front door in a browser', async () => {
  const e: E2EApp = skipBrowserTests ? (undefined as never) : await startE2EApp()
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
  })

  async function shopLink() {
    const org = await e.createOrg('Door Shop')
    const post = async (url: string, payload: Record<string, unknown>) => {
      const res = await e.app.inject({ method: 'POST', url, headers: org.headers, payload })
      expect(res.statusCode, res.body).toBe(201)
      return res.json()
    }
    const product = await post('/v1/products/', { name: 'Poster', description: 'A big poster.', prices: [{ amount_type: 'fixed', price_amount: 2500, price_currency: 'usd' }] })
    const link = await post('/v1/checkout-links/', { payment_processor: 'stripe', products: [product.id] })
    return { url: `${e.base}/buy/${link.client_secret}`, id: link.id as string }
  }
  const sessions = async (linkId: string) => Number((await sql<{ n: string }>`select count(*) as n from checkouts where checkout_link_id = ${linkId}`.execute(e.deps.db)).rows[0]!.n)

  it('the same browser coming back to the link gets its open session; another browser a new one', async () => {
    const link = await shopLink()
    const a = await browser.newContext()
    const page = await a.newPage()
    await page.goto(`${link.url}?utm_source=mail`)
    const first = page.url()
    expect(first).toMatch(/\/checkout\/polar_c_/)
    await page.goto(e.base + '/healthz')
    await page.goto(`${link.url}?utm_source=mail`)
    expect(page.url()).toBe(first)
    await page.goto(`${link.url}?utm_source=other`)
    expect(page.url()).not.toBe(first)
    const b = await browser.newContext()
    const other = await b.newPage()
    await other.goto(`${link.url}?utm_source=mail`)
    expect(other.url()).not.toBe(first)
    expect(await sessions(link.id)).toBe(3)
    const cookies = await a.cookies()
    const visit = cookies.filter((c) => c.name === 'kassa_visit')
    expect(visit.length).toBe(1)
    expect(visit[0]!.httpOnly).toBe(true)
    expect(visit[0]!.sameSite).toBe('Lax')
    await Promise.all([a.close(), b.close()])
  })

  it('a person with a previewer’s user agent sees the preview and continues to a checkout', async () => {
    const link = await shopLink()
    const ctx = await browser.newContext({ userAgent: 'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)', locale: 'fr-FR' })
    const page = await ctx.newPage()
    const errors: string[] = []
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    await page.goto(link.url)
    expect(await page.locator('h1').innerText()).toBe('Poster')
    // The cached preview's style is allowed by its hash (no nonce): the page is styled, and nothing was refused.
    expect(await page.locator('h1').evaluate((h1) => h1.ownerDocument.defaultView!.getComputedStyle(h1).fontSize)).toBe('20px')
    expect(await sessions(link.id)).toBe(0)
    await Promise.all([page.waitForURL(/\/checkout\/polar_c_/), page.locator('form.go button').click()])
    expect(await page.locator('html').getAttribute('lang')).toBe('fr')
    expect(await sessions(link.id)).toBe(1)
    expect(errors).toEqual([])
    await ctx.close()
  })

  it('a prefetch of the link opens nothing; the click after it opens the session', async () => {
    const link = await shopLink()
    const site = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(`<!doctype html><title>Shop</title><link rel="prefetch" href="${link.url}"><a id="buy" href="${link.url}">Buy</a>`)
    })
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r))
    const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`
    const ctx = await browser.newContext()
    const page = await ctx.newPage()
    const prefetched = new Promise<string | undefined>((resolve) => {
      page.on('request', (r) => {
        if (r.url() === link.url) void r.allHeaders().then((h) => resolve(h['sec-purpose'] ?? h.purpose))
      })
      setTimeout(() => resolve(undefined), 5_000)
    })
    await page.goto(origin)
    const purpose = await prefetched
    // Chromium sends the prefetch with `Sec-Purpose: prefetch`; it is answered 503 and opens nothing.
    expect(purpose).toMatch(/prefetch/)
    await new Promise((r) => setTimeout(r, 300))
    expect(await sessions(link.id)).toBe(0)
    await Promise.all([page.waitForURL(/\/checkout\/polar_c_/), page.click('#buy')])
    expect(await sessions(link.id)).toBe(1)
    await ctx.close()
    await new Promise<void>((r) => site.close(() => r()))
  })
})
