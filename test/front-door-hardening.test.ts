import { gzipSync } from 'node:zlib'
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { parseMajorAmount } from '../src/checkout-page/format'
import { DISCOUNT_CODE_LIMITS } from '../src/checkouts/discount-attempts'
import { createOrg, createTestApp, listen, polarClient } from './helpers'

/*
 * Found by an attack on the public routes after issue 9's first pass: each answer is a 4xx in Polar's
 * format, and a link visit is no way around the discount-code limit.
 */
describe('the front door, attacked', async () => {
  const ctx = await createTestApp()
  const { app } = ctx
  const org = await createOrg(ctx, 'Front Door')
  const polar = await polarClient(app, org.token)
  const product = await polar.products.create({ name: 'Guide', prices: [{ amountType: 'fixed', priceAmount: 2000 }] })
  const link = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [product.id] })
  await polar.discounts.create({ name: 'Ten', type: 'percentage', basisPoints: 1000, duration: 'once', code: 'RIGHTCODE' })

  it('a secret with a NUL is simply not found, on the page and link routes', async () => {
    for (const [method, url] of [['GET', '/checkout/a%00b'], ['GET', '/checkout/a%00b/confirmation'], ['POST', '/checkout/a%00b'], ['GET', '/buy/a%00b'], ['HEAD', '/buy/a%00b']] as const) {
      const r = await app.inject({ method, url, ...(method === 'POST' ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'action=update' } : {}) })
      expect(r.statusCode, `${method} ${url}`).toBe(404)
    }
  })

  it('discount codes guessed through link visits count against the client limit; past it, even a right code is ignored', async () => {
    const visit = async (code: string, remoteAddress: string) => {
      const r = await app.inject({ method: 'GET', url: `/buy/${link.clientSecret}?discount_code=${code}`, remoteAddress })
      expect(r.statusCode).toBe(307)
      const secret = new URL(r.headers.location as string).pathname.split('/').pop()!
      return (await polar.checkouts.clientGet({ clientSecret: secret })).discountId
    }
    expect(await visit('RIGHTCODE', '198.51.100.7')).not.toBeNull() // a right code applies and does not count
    for (let i = 0; i < DISCOUNT_CODE_LIMITS.perClient; i++) expect(await visit(`WRONG${i}`, '198.51.100.7')).toBeNull()
    expect(await visit('RIGHTCODE', '198.51.100.7')).toBeNull() // over the limit: no oracle
    expect(await visit('RIGHTCODE', '203.0.113.9')).not.toBeNull() // another client is not affected
  })

  it('a compressed body is not inflated: it is read as sent (Polar does not decompress requests)', async () => {
    const c = await polar.checkouts.create({ products: [product.id] })
    const body = gzipSync(Buffer.from(`{"customer_name":"${' '.repeat(5_000_000)}x"}`))
    const r = await app.inject({ method: 'PATCH', url: `/v1/checkouts/client/${c.clientSecret}`, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: body })
    expect(r.statusCode).toBe(422)
    expect(r.json()).toMatchObject({ error: 'RequestValidationError', detail: [{ type: 'json_invalid' }] })
  })

  it("the router's and the HTTP parser's refusals are in Polar's format", async () => {
    const bad = await app.inject({ method: 'GET', url: '/checkout/%E0%A4%A' })
    expect({ status: bad.statusCode, body: bad.json() }).toEqual({ status: 400, body: { error: 'BadRequest', detail: 'The request URL is not valid.' } })
    const long = await app.inject({ method: 'GET', url: `/checkout/${'a'.repeat(3000)}` })
    expect({ status: long.statusCode, body: long.json() }).toEqual({ status: 414, body: { error: 'URITooLong', detail: 'The request URL is too long.' } })

    const base = new URL(await listen(app))
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(base.port), base.hostname, () => socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`))
      let data = ''
      socket.on('data', (d) => (data += d))
      socket.on('close', () => resolve(data))
      socket.on('error', reject)
    })
    expect(raw).toMatch(/^HTTP\/1\.1 431 /)
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({ error: 'RequestHeaderFieldsTooLarge', detail: 'The request headers are too large.' })
  })

  it.each([
    ['5.50', 'usd', 550],
    ['5,5', 'usd', 550],
    ['$ 12', 'usd', 1200],
    ['5,000', 'usd', undefined], // a thousands separator, not $5.00
    ['5.999', 'usd', undefined], // more digits than cents: refused, not rounded
    ['5.005', 'usd', undefined],
    ['500', 'jpy', 500],
    ['5.5', 'jpy', undefined],
  ])('the form reads amount %j in %s as %s', (input, currency, minor) => {
    expect(parseMajorAmount(input, currency)).toBe(minor)
  })
})
