import { Writable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app'
import { loadConfig } from '../src/config'
import { redactSecrets } from '../src/http/logging'
import { clientKey } from '../src/lib/ip'
import { createOrg, testConfig, testDatabase } from './helpers'

/** An app whose pino log lines land in `lines`. */
async function appWithLog(config = testConfig()) {
  const lines: string[] = []
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) })
  const database = await testDatabase()
  const app = await buildApp({ config, database, logger: { level: 'info', stream } })
  await app.ready()
  afterAll(() => app.close())
  return { app, lines, deps: { db: database.db, clock: app.deps.clock, config } }
}

describe('secrets in logs', async () => {
  const { app, lines, deps } = await appWithLog()

  it('cuts client secrets short in logged URLs', async () => {
    const org = await createOrg({ deps })
    const product = await app.inject({ method: 'POST', url: '/v1/products/', headers: org.headers, payload: { name: 'Sticker Pack', prices: [{ amount_type: 'fixed', price_amount: 100 }] } })
    const link = await app.inject({ method: 'POST', url: '/v1/checkout-links/', headers: org.headers, payload: { payment_processor: 'stripe', products: [product.json().id] } })
    expect(product.statusCode, product.body).toBe(201)
    const linkSecret: string = link.json().client_secret
    const visit = await app.inject({ method: 'GET', url: `/v1/checkout-links/${linkSecret}/redirect?customer_email=a@b.co` })
    expect(link.statusCode, link.body).toBe(201)
    expect(visit.statusCode, visit.body).toBe(307)
    const sessionSecret = new URL(visit.headers.location as string).pathname.split('/').pop()!
    expect(sessionSecret.startsWith('polar_c_')).toBe(true)
    await app.inject({ method: 'GET', url: `/v1/checkouts/client/${sessionSecret}` })
    await app.inject({ method: 'GET', url: `/checkout/${sessionSecret}` })
    await app.inject({ method: 'GET', url: `/buy/${linkSecret}` })

    // a client that percent-escapes the secret (the router decodes it) does not get it logged whole either
    const escaped = (secret: string) => `%${secret.charCodeAt(0).toString(16)}${secret.slice(1, 12)}%${secret.charCodeAt(12).toString(16)}${secret.slice(13)}`
    expect((await app.inject({ method: 'GET', url: `/checkout/${escaped(sessionSecret)}` })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: `/buy/${escaped(linkSecret)}` })).statusCode).toBe(307)

    const log = lines.join('')
    for (const secret of [linkSecret, sessionSecret]) expect(log).not.toContain(escaped(secret).slice(-24))
    expect(log).toContain(`/v1/checkout-links/${linkSecret.slice(0, 'polar_cl_'.length + 8)}…/redirect`)
    expect(log).toContain(`/v1/checkouts/client/${sessionSecret.slice(0, 'polar_c_'.length + 8)}…`)
    for (const secret of [linkSecret, sessionSecret, org.token]) expect(log).not.toContain(secret)
  })

  it('redacts every prefix Kassa mints, and nothing else', () => {
    expect(redactSecrets('/x/polar_oat_abcdefghijKLMNOP?y=kassa_s_0123456789abc')).toBe('/x/polar_oat_abcdefgh…?y=kassa_s_01234567…')
    expect(redactSecrets('/v1/products/0190c8a0-0000-7000-8000-000000000000')).toBe('/v1/products/0190c8a0-0000-7000-8000-000000000000')
  })
})

describe('request ids', async () => {
  const { app } = await appWithLog(testConfig({ logLevel: 'silent' }))
  it.each([
    ['abc-123_X.y', true],
    ['a'.repeat(64), true],
    ['a'.repeat(65), false],
    ['id with spaces', false],
    ['evil\u2028line', false],
    ['', false],
  ])('x-request-id %j used as is: %s', async (given, kept) => {
    const res = await app.inject({ method: 'GET', url: '/healthz', headers: given ? { 'x-request-id': given } : {} })
    const id = res.headers['x-request-id'] as string
    if (kept) expect(id).toBe(given)
    else {
      expect(id).not.toBe(given)
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
    }
  })
})

describe('TRUST_PROXY', () => {
  it.each([
    [undefined, false],
    ['0', false],
    ['false', false],
    ['1', 1],
    ['2', 2],
    ['10.0.0.1', ['10.0.0.1']],
    ['10.0.0.0/8, 2001:db8::/32 ,::1', ['10.0.0.0/8', '2001:db8::/32', '::1']],
  ])('TRUST_PROXY=%j → %j', (raw, expected) => {
    expect(loadConfig(raw === undefined ? {} : { TRUST_PROXY: raw }).trustProxy).toEqual(expected)
  })

  it.each(['true', 'yes', 'proxy.local', '10.0.0.0/33', '10.0.0.1/8/1', ','])('refuses TRUST_PROXY=%j', (raw) => {
    expect(() => loadConfig({ TRUST_PROXY: raw })).toThrow(/TRUST_PROXY.*must be false, a number of proxy hops/)
  })

  async function ipOf(trust: string | undefined, remoteAddress: string, forwardedFor?: string) {
    const database = await testDatabase()
    const app = await buildApp({ config: testConfig({ trustProxy: loadConfig(trust ? { TRUST_PROXY: trust } : {}).trustProxy }), database, logger: false })
    app.get('/ip-echo', async (req) => ({ ip: req.ip }))
    await app.ready()
    try {
      const res = await app.inject({ method: 'GET', url: '/ip-echo', remoteAddress, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} })
      return res.json().ip as string
    } finally {
      await app.close()
    }
  }

  it('answers the client address as the trusted proxies report it, never the left-most forged one', async () => {
    // Off: X-Forwarded-For is ignored.
    expect(await ipOf(undefined, '203.0.113.9', '1.2.3.4')).toBe('203.0.113.9')
    // One hop: the address the proxy appended, not what the client wrote before it.
    expect(await ipOf('1', '10.0.0.1', '6.6.6.6, 198.51.100.7')).toBe('198.51.100.7')
    // A list: only a listed proxy's header counts.
    expect(await ipOf('10.0.0.0/8', '10.0.0.1', '6.6.6.6, 198.51.100.7')).toBe('198.51.100.7')
    expect(await ipOf('10.0.0.0/8', '203.0.113.9', '198.51.100.7')).toBe('203.0.113.9')
  })
})

describe('clientKey: the unit rate limits count', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('%s counts as %s', (ip, key) => {
    expect(clientKey(ip)).toBe(key)
  })
})
