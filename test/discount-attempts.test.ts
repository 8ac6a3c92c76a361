import type { Polar } from '@polar-sh/sdk'
import { describe, expect, it } from 'vitest'
import { DISCOUNT_CODE_LIMITS } from '../src/checkouts/discount-attempts'
import { FixedClock, createOrg, createTestApp, polarClient } from './helpers'

/*
 * Wrong discount codes are limited per session and per client address (IPv6 by /64), so that a checkout
 * cannot be used as an oracle to guess codes: past the limit a 429 in Polar's error format with
 * Retry-After, on the JSON client endpoints and on the hosted page's form post alike. Each test uses
 * addresses of its own, since the counts are shared by everything on the database.
 */

describe('wrong discount code limits', async () => {
  const clock = new FixedClock('2025-03-01T00:00:00Z')
  const ctx = await createTestApp({ clock })
  const { app } = ctx
  const { perCheckout, perClient, windowMs } = DISCOUNT_CODE_LIMITS
  let n = 0
  const nextIp = () => `198.51.100.${++n}`

  async function shop() {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    const product = await polar.products.create({ name: 'Pack', prices: [{ amountType: 'fixed', priceAmount: 2000 }] })
    await polar.discounts.create({ name: 'Real', type: 'percentage', basisPoints: 1000, duration: 'once', code: 'REAL10' })
    return { polar, product }
  }
  /** A new session, of a new shop unless one is given. */
  async function session(of?: Awaited<ReturnType<typeof shop>>): Promise<{ polar: Polar; secret: string }> {
    const { polar, product } = of ?? (await shop())
    const checkout = await polar.checkouts.create({ products: [product.id] })
    return { polar, secret: checkout.clientSecret }
  }
  const patch = (secret: string, code: string | null, ip: string) =>
    app.inject({ method: 'PATCH', url: `/v1/checkouts/client/${secret}`, payload: { discount_code: code }, remoteAddress: ip })
  const confirm = (secret: string, code: string, ip: string) =>
    app.inject({ method: 'POST', url: `/v1/checkouts/client/${secret}/confirm`, payload: { discount_code: code, customer_email: 'a@example.com' }, remoteAddress: ip })

  it(`a session may try ${perCheckout} wrong codes; then 429 with Retry-After, for right codes too, until the window passes`, async () => {
    const { secret } = await session()
    const ip = nextIp()
    for (let i = 0; i < perCheckout; i++) expect((await patch(secret, `WRONG${i}`, ip)).statusCode).toBe(422)
    const limited = await patch(secret, 'WRONG9', nextIp()) // another address does not help: the session is limited
    expect(limited.statusCode).toBe(429)
    expect(limited.json()).toEqual({ error: 'TooManyRequests', detail: 'Too many discount code attempts. Try again in 15 minutes.' })
    expect(Number(limited.headers['retry-after'])).toBe(windowMs / 1000)
    expect((await patch(secret, 'REAL10', ip)).statusCode).toBe(429)
    expect((await confirm(secret, 'WRONG', ip)).statusCode).toBe(429)
    // other changes, and removing the code, are not limited
    expect((await app.inject({ method: 'PATCH', url: `/v1/checkouts/client/${secret}`, payload: { customer_name: 'Ada' }, remoteAddress: ip })).statusCode).toBe(200)
    expect((await patch(secret, null, ip)).statusCode).toBe(200)

    clock.advance(windowMs / 2)
    expect(Number((await patch(secret, 'REAL10', ip)).headers['retry-after'])).toBe(windowMs / 2000)
    clock.advance(windowMs / 2 + 1000)
    const applied = await patch(secret, 'REAL10', ip)
    expect(applied.statusCode).toBe(200)
    expect(applied.json()).toMatchObject({ discount_amount: 200, total_amount: 1800 })
  })

  it('right codes do not count', async () => {
    const { secret } = await session()
    const ip = nextIp()
    for (let i = 0; i < perCheckout * 2; i++) {
      expect((await patch(secret, 'real10', ip)).statusCode).toBe(200)
      expect((await patch(secret, null, ip)).statusCode).toBe(200)
    }
    expect((await patch(secret, 'WRONG', ip)).statusCode).toBe(422)
  })

  it(`a client address may try ${perClient} wrong codes across one shop's sessions; IPv6 counts by /64; other shops are not affected`, async () => {
    const ip = nextIp()
    const one = await shop()
    let tried = 0
    while (tried < perClient) {
      const { secret } = await session(one)
      for (let i = 0; i < perCheckout && tried < perClient; i++, tried++) expect((await patch(secret, `NOPE${tried}`, ip)).statusCode).toBe(422)
    }
    const { secret } = await session(one)
    expect((await patch(secret, 'NOPE', ip)).statusCode).toBe(429)
    expect((await patch(secret, 'NOPE', nextIp())).statusCode).toBe(422) // another address still may
    expect((await patch((await session()).secret, 'NOPE', ip)).statusCode).toBe(422) // and so may this one at another shop

    const v6 = (i: number) => `2001:db8:${n + 100}:7::${i.toString(16)}`
    const two = await shop()
    for (let i = 0; i < perClient; i++) {
      const s = await session(two)
      expect((await patch(s.secret, 'NOPE', v6(i + 1))).statusCode).toBe(422)
    }
    const s = await session(two)
    expect((await patch(s.secret, 'NOPE', v6(999))).statusCode).toBe(429) // same /64, new address
    expect((await patch(s.secret, 'NOPE', `2001:db8:${n + 100}:8::1`)).statusCode).toBe(422) // the next /64
  })

  it('parallel wrong codes on one session never get past the limit', async () => {
    const { secret } = await session()
    const ips = Array.from({ length: 12 }, () => nextIp())
    const codes = (await Promise.all(ips.map((ip, i) => patch(secret, `PAR${i}`, ip)))).map((r) => r.statusCode)
    expect(codes.filter((c) => c === 422)).toHaveLength(perCheckout)
    expect(codes.filter((c) => c === 429)).toHaveLength(12 - perCheckout)
  })

  it('the form post is limited the same way, and says so in the buyer\'s language', async () => {
    const { secret } = await session()
    const ip = nextIp()
    const post = (code: string) =>
      app.inject({
        method: 'POST',
        url: `/checkout/${secret}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'de' },
        payload: new URLSearchParams({ action: 'apply_discount', discount_code: code }).toString(),
        remoteAddress: ip,
      })
    for (let i = 0; i < perCheckout; i++) {
      const r = await post(`WRONG${i}`)
      expect(r.statusCode).toBe(422)
      expect(r.body).toContain('Dieser Rabattcode ist ungültig.')
    }
    const limited = await post('REAL10')
    expect(limited.statusCode).toBe(429)
    expect(limited.headers['retry-after']).toBe(String(windowMs / 1000))
    expect(limited.body).toContain('Zu viele Versuche.')
  })
})
