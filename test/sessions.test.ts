import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createUser } from '../src/organizations/service'
import { ALL_SCOPES } from '../src/auth/scopes'
import { FixedClock, createOrg, createTestApp, polarClient, tokenWithScopes, type TestContext, type TestOrg } from './helpers'

const PASSWORD = 'correct horse battery staple'
const INVALID = { error: 'Unauthorized', detail: 'Invalid email or password.' }
const BAD_CSRF = { error: 'NotPermitted', detail: 'Missing or invalid CSRF token.' }

// Polar's OrganizationAccessToken as later SDKs parse it (0.49.0 predates the organization-access-tokens API).
const isoDateTime = z.iso.datetime({ offset: true })
const SdkOrganizationAccessToken = z.strictObject({
  created_at: isoDateTime,
  modified_at: isoDateTime.nullable(),
  id: z.string(),
  scopes: z.array(z.string()),
  expires_at: isoDateTime.nullable(),
  comment: z.string(),
  last_used_at: isoDateTime.nullable(),
  organization_id: z.string(),
})
const SdkCreateResponse = z.strictObject({ organization_access_token: SdkOrganizationAccessToken, token: z.string() })
const SdkList = z.strictObject({ items: z.array(SdkOrganizationAccessToken), pagination: z.strictObject({ total_count: z.number(), max_page: z.number() }) })

let ipCounter = 0
let userCounter = 0

describe('dashboard sessions', async () => {
  // Time stands still unless a test moves it: login attempts and token expiry are measured on this clock.
  const clock = new FixedClock(new Date())
  const ctx = await createTestApp({ clock })
  const { app } = ctx

  /**
   * Each test logs in from its own address, so per-client rate limiting never spills across tests, nor across
   * runs on a PostgreSQL database that keeps its rows (the limits look back a day): a /64 of this run's own.
   */
  const run = randomBytes(4).toString('hex')
  const runNet = `fd${run.slice(0, 2)}:${run.slice(2, 6)}:${run.slice(6)}00`
  const newIp = () => `${runNet}:${(++ipCounter).toString(16)}::1`

  async function newUser(c: Pick<TestContext, 'deps'>, ...orgs: TestOrg[]) {
    const email = `user-${process.pid}-${++userCounter}@example.com`
    let user!: { id: string; email: string }
    for (const org of orgs) user = await createUser(c.deps, { email, password: PASSWORD, organizationId: org.organizationId })
    return { id: user.id, email }
  }

  const login = (email: string, password: string, ip: string, a = app) =>
    a.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password }, remoteAddress: ip })

  /** Logs in and returns what the dashboard front-end keeps: the cookie (the browser's) and the CSRF token. */
  async function session(email: string, a = app) {
    const res = await login(email, PASSWORD, newIp(), a)
    expect(res.statusCode).toBe(200)
    const cookie = String(res.headers['set-cookie']).split(';')[0]!
    return { cookie, csrf: res.json().csrf_token as string, body: res.json() }
  }

  const product = (name: string) => ({ name, prices: [{ amount_type: 'fixed', price_amount: 1000 }] })
  const productNames = async (cookie: string) => {
    const res = await app.inject({ method: 'GET', url: '/v1/products/', headers: { cookie } })
    expect(res.statusCode).toBe(200)
    return res.json().items.map((p: { name: string }) => p.name)
  }

  describe('login', () => {
    it('sets an HttpOnly, SameSite=Lax session cookie and answers the user, their organizations and a CSRF token', async () => {
      const org = await createOrg(ctx, 'Acme')
      const user = await newUser(ctx, org)
      const res = await login(user.email.toUpperCase(), PASSWORD, newIp())
      expect(res.statusCode).toBe(200)
      const slug = (await app.inject({ method: 'GET', url: `/v1/organizations/${org.organizationId}`, headers: org.headers })).json().slug
      expect(res.json()).toEqual({
        user: { id: user.id, email: user.email },
        organizations: [{ id: org.organizationId, name: 'Acme', slug }],
        organization_id: org.organizationId,
        csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        expires_at: new Date(clock.now().getTime() + 14 * 86_400_000).toISOString(),
      })
      const cookie = String(res.headers['set-cookie'])
      expect(cookie).toMatch(/^kassa_session=kassa_s_[A-Za-z0-9_-]{43}; /)
      expect(cookie.split('; ')).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/', 'Max-Age=1209600']))
      expect(cookie).not.toMatch(/Secure/)
      expect(res.headers['cache-control']).toBe('no-store')
    })

    it('gives a wrong password and an unknown email the same 401, and no cookie', async () => {
      const org = await createOrg(ctx)
      const user = await newUser(ctx, org)
      const ip = newIp()
      const wrong = await login(user.email, 'not the password', ip)
      const unknown = await login(`nobody-${userCounter}@example.com`, PASSWORD, ip)
      for (const res of [wrong, unknown]) {
        expect(res.statusCode).toBe(401)
        expect(res.json()).toEqual(INVALID)
        expect(res.headers['set-cookie']).toBeUndefined()
      }
      const empty = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: user.email }, remoteAddress: ip })
      expect(empty.statusCode).toBe(422)
      expect(empty.json().detail[0]).toMatchObject({ loc: ['body', 'password'], type: 'missing' })
    })

    it('names the cookie __Host- and marks it Secure when PUBLIC_URL is https; pages and API send HSTS', async () => {
      const secure = await createTestApp({ clock, config: { publicUrl: 'https://kassa.example' } })
      const org = await createOrg(secure)
      const user = await newUser(secure, org)
      const res = await login(user.email, PASSWORD, newIp(), secure.app)
      expect(res.statusCode).toBe(200)
      const setCookie = String(res.headers['set-cookie'])
      expect(setCookie).toMatch(/^__Host-kassa_session=kassa_s_[A-Za-z0-9_-]{43}; /)
      expect(setCookie.split('; ')).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/', 'Secure']))
      expect(setCookie).not.toMatch(/Domain=/i)
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000')
      const cookie = setCookie.split(';')[0]!

      // The prefixed cookie is the session; the plain name (which any http page of the host could set) is not.
      expect((await secure.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie } })).statusCode).toBe(200)
      const plain = cookie.replace(/^__Host-/, '')
      expect((await secure.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie: plain } })).statusCode).toBe(401)

      for (const url of ['/dashboard/', '/checkout/polar_c_unknown', '/healthz']) {
        expect((await secure.app.inject({ method: 'GET', url })).headers['strict-transport-security'], url).toBe('max-age=31536000')
      }
      const logout = await secure.app.inject({ method: 'POST', url: '/v1/auth/logout' })
      expect(String(logout.headers['set-cookie'])).toMatch(/^__Host-kassa_session=; .*Secure/)
      const doc = (await secure.app.inject('/openapi.json')).json()
      expect(doc.components.securitySchemes.session_cookie.name).toBe('__Host-kassa_session')
    })

    it('keeps the plain cookie name and sends no HSTS when PUBLIC_URL is http', async () => {
      for (const url of ['/dashboard/', '/checkout/polar_c_unknown', '/healthz', '/v1/auth/me']) {
        expect((await app.inject({ method: 'GET', url })).headers['strict-transport-security'], url).toBeUndefined()
      }
    })

    it('answers the same session at /v1/auth/me, and 401 without a live cookie', async () => {
      const org = await createOrg(ctx)
      const user = await newUser(ctx, org)
      const s = await session(user.email)
      const me = await app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie: s.cookie } })
      expect(me.statusCode).toBe(200)
      expect(me.json()).toEqual(s.body)
      expect(me.headers['cache-control']).toBe('no-store')
      for (const headers of [{}, { cookie: 'kassa_session=kassa_s_forged' }, { cookie: 'other=1' }]) {
        const res = await app.inject({ method: 'GET', url: '/v1/auth/me', headers })
        expect(res.statusCode).toBe(401)
        expect(res.json()).toEqual({ error: 'Unauthorized', detail: 'Unauthorized' })
      }
      // A token is for the API, not for the dashboard's own endpoints.
      expect((await app.inject({ method: 'GET', url: '/v1/auth/me', headers: org.headers })).statusCode).toBe(401)
    })

    it('ends the session the browser already had when logging in again', async () => {
      const org = await createOrg(ctx)
      const user = await newUser(ctx, org)
      const first = await session(user.email)
      const again = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: user.email, password: PASSWORD }, headers: { cookie: first.cookie }, remoteAddress: newIp() })
      expect(again.statusCode).toBe(200)
      expect((await app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie: first.cookie } })).statusCode).toBe(401)
    })
  })

  describe('the session cookie on /v1', () => {
    it('reads freely, and changes only with the right x-csrf-token', async () => {
      const org = await createOrg(ctx)
      const user = await newUser(ctx, org)
      const s = await session(user.email)
      expect(await productNames(s.cookie)).toEqual([])

      for (const extra of [{}, { 'x-csrf-token': 'wrong' }, { 'x-csrf-token': `${s.csrf}x` }, { 'x-csrf-token': s.csrf.slice(1) }]) {
        const res = await app.inject({ method: 'POST', url: '/v1/products/', headers: { cookie: s.cookie, ...extra }, payload: product('Nope') })
        expect(res.statusCode).toBe(403)
        expect(res.json()).toEqual(BAD_CSRF)
      }
      // Another session's CSRF token is no good either.
      const other = await session((await newUser(ctx, org)).email)
      const crossed = await app.inject({ method: 'POST', url: '/v1/products/', headers: { cookie: s.cookie, 'x-csrf-token': other.csrf }, payload: product('Nope') })
      expect(crossed.statusCode).toBe(403)

      const created = await app.inject({ method: 'POST', url: '/v1/products/', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload: product('Made in the dashboard') })
      expect(created.statusCode).toBe(201)
      expect(created.json().organization_id).toBe(org.organizationId)
      const id = created.json().id
      const patchNoCsrf = await app.inject({ method: 'PATCH', url: `/v1/products/${id}`, headers: { cookie: s.cookie }, payload: { name: 'Renamed' } })
      expect(patchNoCsrf.statusCode).toBe(403)
      const patched = await app.inject({ method: 'PATCH', url: `/v1/products/${id}`, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload: { name: 'Renamed' } })
      expect(patched.statusCode).toBe(200)
      // The organization's token sees what the dashboard made.
      const viaToken = await app.inject({ method: 'GET', url: `/v1/products/${id}`, headers: org.headers })
      expect(viaToken.json().name).toBe('Renamed')
      expect(await productNames(s.cookie)).toEqual(['Renamed'])
    })

    it('is 401 without a cookie or with a dead one; a Bearer header always wins over the cookie', async () => {
      const a = await createOrg(ctx)
      const b = await createOrg(ctx)
      await app.inject({ method: 'POST', url: '/v1/products/', headers: b.headers, payload: product('B product') })
      const s = await session((await newUser(ctx, a)).email)
      for (const headers of [{}, { cookie: 'kassa_session=' }, { cookie: 'kassa_session=kassa_s_forged' }]) {
        const res = await app.inject({ method: 'GET', url: '/v1/products/', headers })
        expect(res.statusCode).toBe(401)
        expect(res.json()).toEqual({ error: 'Unauthorized', detail: 'Unauthorized' })
      }
      const bearer = await app.inject({ method: 'GET', url: '/v1/products/', headers: { cookie: s.cookie, ...b.headers } })
      expect(bearer.json().items.map((p: { name: string }) => p.name)).toEqual(['B product'])
      // A bad Bearer header is a 401 even with a good cookie, and a Bearer POST needs no CSRF token.
      expect((await app.inject({ method: 'GET', url: '/v1/products/', headers: { cookie: s.cookie, authorization: 'Bearer nope' } })).statusCode).toBe(401)
      expect((await app.inject({ method: 'POST', url: '/v1/products/', headers: { cookie: s.cookie, ...b.headers }, payload: product('By token') })).statusCode).toBe(201)
    })

    it('logs out: the session ends at once, the cookie is cleared, and logging out again is harmless', async () => {
      const org = await createOrg(ctx)
      const s = await session((await newUser(ctx, org)).email)
      const noCsrf = await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { cookie: s.cookie } })
      expect(noCsrf.statusCode).toBe(403)
      expect(noCsrf.json()).toEqual(BAD_CSRF)
      expect((await app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie: s.cookie } })).statusCode).toBe(200)

      const out = await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } })
      expect(out.statusCode).toBe(204)
      expect(out.body).toBe('')
      expect(String(out.headers['set-cookie'])).toMatch(/^kassa_session=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0/)
      expect((await app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie: s.cookie } })).statusCode).toBe(401)
      expect((await app.inject({ method: 'GET', url: '/v1/products/', headers: { cookie: s.cookie } })).statusCode).toBe(401)
      expect((await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } })).statusCode).toBe(204)
      expect((await app.inject({ method: 'POST', url: '/v1/auth/logout' })).statusCode).toBe(204)
    })

    it('expires after 14 days', async () => {
      const org = await createOrg(ctx)
      const s = await session((await newUser(ctx, org)).email)
      clock.advance(14 * 86_400_000 - 1000)
      expect((await app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie: s.cookie } })).statusCode).toBe(200)
      clock.advance(1000)
      expect((await app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie: s.cookie } })).statusCode).toBe(401)
      expect((await app.inject({ method: 'GET', url: '/v1/products/', headers: { cookie: s.cookie } })).statusCode).toBe(401)
    })
  })

  describe('organizations', () => {
    it('switches between the user’s organizations, and /v1 follows the selected one', async () => {
      const a = await createOrg(ctx, 'Org A')
      const b = await createOrg(ctx, 'Org B')
      await app.inject({ method: 'POST', url: '/v1/products/', headers: a.headers, payload: product('A product') })
      await app.inject({ method: 'POST', url: '/v1/products/', headers: b.headers, payload: product('B product') })
      const user = await newUser(ctx, a, b)
      const s = await session(user.email)
      expect(s.body.organizations.map((o: { id: string }) => o.id)).toEqual([a.organizationId, b.organizationId])
      expect(s.body.organization_id).toBe(a.organizationId)
      expect(await productNames(s.cookie)).toEqual(['A product'])

      const noCsrf = await app.inject({ method: 'POST', url: '/v1/auth/switch', headers: { cookie: s.cookie }, payload: { organization_id: b.organizationId } })
      expect(noCsrf.statusCode).toBe(403)
      const switched = await app.inject({ method: 'POST', url: '/v1/auth/switch', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload: { organization_id: b.organizationId } })
      expect(switched.statusCode).toBe(200)
      expect(switched.json()).toEqual({ ...s.body, organization_id: b.organizationId })
      expect(await productNames(s.cookie)).toEqual(['B product'])
      expect((await app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie: s.cookie } })).json().organization_id).toBe(b.organizationId)
      const org = await app.inject({ method: 'GET', url: `/v1/organizations/${b.organizationId}`, headers: { cookie: s.cookie } })
      expect(org.json()).toMatchObject({ id: b.organizationId, name: 'Org B' })
    })

    it('never lets a user reach an organization they do not belong to', async () => {
      const a = await createOrg(ctx, 'Mine')
      const b = await createOrg(ctx, 'Theirs')
      const theirs = (await app.inject({ method: 'POST', url: '/v1/products/', headers: b.headers, payload: product('Secret') })).json()
      const s = await session((await newUser(ctx, a)).email)
      for (const organization_id of [b.organizationId, '00000000-0000-4000-8000-000000000000']) {
        const res = await app.inject({ method: 'POST', url: '/v1/auth/switch', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload: { organization_id } })
        expect(res.statusCode).toBe(404)
        expect(res.json()).toEqual({ error: 'ResourceNotFound', detail: 'Not found' })
      }
      expect(await productNames(s.cookie)).toEqual([])
      expect((await app.inject({ method: 'GET', url: `/v1/products/${theirs.id}`, headers: { cookie: s.cookie } })).statusCode).toBe(404)
      expect((await app.inject({ method: 'GET', url: `/v1/products/?organization_id=${b.organizationId}`, headers: { cookie: s.cookie } })).json().items).toEqual([])
      expect((await app.inject({ method: 'GET', url: `/v1/organizations/${b.organizationId}`, headers: { cookie: s.cookie } })).statusCode).toBe(404)
      const badBody = await app.inject({ method: 'POST', url: '/v1/auth/switch', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload: { organization_id: 'nope' } })
      expect(badBody.statusCode).toBe(422)
      // Unauthenticated: a 401 whatever the body.
      expect((await app.inject({ method: 'POST', url: '/v1/auth/switch', payload: { organization_id: 'nope' } })).statusCode).toBe(401)
    })

    it('serves the caller’s own organization in the shape Polar’s SDK parses', async () => {
      const org = await createOrg(ctx, 'SDK Org')
      const other = await createOrg(ctx)
      const polar = await polarClient(app, org.token)
      const got = await polar.organizations.get({ id: org.organizationId })
      expect(got).toMatchObject({ id: org.organizationId, name: 'SDK Org', status: 'active', socials: [] })
      const listed = await polar.organizations.listOrganizations({})
      expect(listed.result.items.map((o) => o.id)).toEqual([org.organizationId])
      expect(listed.result.pagination).toEqual({ totalCount: 1, maxPage: 1 })
      expect((await polar.organizations.listOrganizations({ slug: 'not-mine' })).result.items).toEqual([])
      const res = await app.inject({ method: 'GET', url: `/v1/organizations/${other.organizationId}`, headers: org.headers })
      expect(res.statusCode).toBe(404)
    })
  })

  describe('login rate limit', () => {
    it('backs off an email on one address after 5 failures a minute; the owner elsewhere still logs in', async () => {
      const org = await createOrg(ctx)
      const user = await newUser(ctx, org)
      const ip = newIp()
      for (let i = 0; i < 5; i++) {
        expect((await login(user.email, `wrong ${i}`, ip)).statusCode).toBe(401)
        clock.advance(1000)
      }
      const limited = await login(user.email, PASSWORD, ip)
      expect(limited.statusCode).toBe(429)
      expect(limited.json()).toEqual({ error: 'TooManyRequests', detail: 'Too many failed login attempts. Try again in 1 minute.' })
      // The oldest of the 5 failures, 5 s ago, leaves the minute in 55 s.
      expect(limited.headers['retry-after']).toBe('55')
      expect(limited.headers['set-cookie']).toBeUndefined()
      // Emails are compared case-insensitively.
      expect((await login(user.email.toUpperCase(), PASSWORD, ip)).statusCode).toBe(429)
      // No global lock: the real owner, from another address, is not locked out.
      expect((await login(user.email, PASSWORD, newIp())).statusCode).toBe(200)

      clock.advance(55_000)
      expect((await login(user.email, PASSWORD, ip)).statusCode).toBe(200)
    })

    it('waits longer at each step: 10 failures in 15 minutes wait out the quarter hour', async () => {
      const org = await createOrg(ctx)
      const user = await newUser(ctx, org)
      const ip = newIp()
      for (let i = 0; i < 5; i++) (expect((await login(user.email, 'wrong', ip)).statusCode).toBe(401), clock.advance(1000))
      clock.advance(60_000)
      for (let i = 0; i < 5; i++) (expect((await login(user.email, 'wrong', ip)).statusCode).toBe(401), clock.advance(1000))
      const limited = await login(user.email, PASSWORD, ip)
      expect(limited.statusCode).toBe(429)
      // The first failure was 70 s ago: the 15-minute window frees up in 830 s.
      expect(limited.headers['retry-after']).toBe('830')
      clock.advance(120_000)
      expect((await login(user.email, PASSWORD, ip)).statusCode).toBe(429)
      clock.advance(710_000)
      expect((await login(user.email, PASSWORD, ip)).statusCode).toBe(200)
    })

    it('refuses an address after 30 failures in 15 minutes, whatever the email; other addresses are fine', async () => {
      const org = await createOrg(ctx)
      const user = await newUser(ctx, org)
      const ip = newIp()
      for (let i = 0; i < 30; i++) expect((await login(`spray-${userCounter}-${i}@example.com`, PASSWORD, ip)).statusCode).toBe(401)
      const limited = await login(user.email, PASSWORD, ip)
      expect(limited.statusCode).toBe(429)
      expect(limited.headers['retry-after']).toBe('900')
      expect((await login(user.email, PASSWORD, newIp())).statusCode).toBe(200)
      clock.advance(15 * 60_000)
      expect((await login(user.email, PASSWORD, ip)).statusCode).toBe(200)
    })

    it('counts an IPv6 client by its /64: new addresses in the same network do not reset the count', async () => {
      const org = await createOrg(ctx)
      const user = await newUser(ctx, org)
      const net = `${runNet}:${(++ipCounter).toString(16)}`
      for (let i = 0; i < 5; i++) expect((await login(user.email, 'wrong', `${net}::${(i + 1).toString(16)}`)).statusCode).toBe(401)
      expect((await login(user.email, PASSWORD, `${net}:ffff:ffff:ffff:ffff`)).statusCode).toBe(429)
      // The next /64 is another client.
      expect((await login(user.email, PASSWORD, `${runNet}:${(++ipCounter).toString(16)}::1`)).statusCode).toBe(200)
    })

    it('clears the failures of an email on that address on a successful login', async () => {
      const org = await createOrg(ctx)
      const user = await newUser(ctx, org)
      const ip = newIp()
      for (let i = 0; i < 4; i++) expect((await login(user.email, 'wrong', ip)).statusCode).toBe(401)
      expect((await login(user.email, PASSWORD, ip)).statusCode).toBe(200)
      for (let i = 0; i < 5; i++) expect((await login(user.email, 'wrong', ip)).statusCode).toBe(401)
      expect((await login(user.email, PASSWORD, ip)).statusCode).toBe(429)
    })

    it('holds under concurrent attempts: never more than 5 failures get a password check', async () => {
      const org = await createOrg(ctx)
      const user = await newUser(ctx, org)
      const ip = newIp()
      const results = await Promise.all(Array.from({ length: 15 }, (_, i) => login(user.email, `wrong ${i}`, ip)))
      const codes = results.map((r) => r.statusCode)
      const failures = codes.filter((c) => c === 401).length
      expect(failures).toBeLessThanOrEqual(5)
      expect(codes.filter((c) => c !== 401).every((c) => c === 429)).toBe(true)
      // Attempts refused by the limit are not recorded: exactly the checked failures count.
      expect((await login(user.email, PASSWORD, ip)).statusCode).toBe(failures === 5 ? 429 : 200)
    })
  })

  describe('organization access tokens', () => {
    it('creates a token from the dashboard, shown once, that works as a Bearer token at once', async () => {
      const org = await createOrg(ctx)
      const s = await session((await newUser(ctx, org)).email)
      const headers = { cookie: s.cookie, 'x-csrf-token': s.csrf }
      const payload = { comment: 'CI deploys', scopes: ['products:read', 'checkout_links:write', 'products:read'] }
      expect((await app.inject({ method: 'POST', url: '/v1/organization-access-tokens/', headers: { cookie: s.cookie }, payload })).statusCode).toBe(403)

      const res = await app.inject({ method: 'POST', url: '/v1/organization-access-tokens/', headers, payload })
      expect(res.statusCode).toBe(201)
      const created = SdkCreateResponse.parse(res.json())
      expect(created.token).toMatch(/^polar_oat_[A-Za-z0-9_-]{43}$/)
      expect(created.organization_access_token).toEqual({
        created_at: clock.now().toISOString(),
        modified_at: null,
        id: expect.any(String),
        scopes: ['products:read', 'checkout_links:write'],
        expires_at: null,
        comment: 'CI deploys',
        last_used_at: null,
        organization_id: org.organizationId,
      })

      const polar = await polarClient(app, created.token)
      expect((await polar.products.list({})).result.items).toEqual([])
      expect((await polar.checkoutLinks.list({})).result.items).toEqual([])
      const denied = await app.inject({ method: 'POST', url: '/v1/products/', headers: { authorization: `Bearer ${created.token}` }, payload: product('X') })
      expect(denied.statusCode).toBe(403)

      const list = await app.inject({ method: 'GET', url: '/v1/organization-access-tokens/', headers: { cookie: s.cookie } })
      expect(list.statusCode).toBe(200)
      expect(list.body).not.toContain(created.token)
      expect(list.body).not.toContain('token_hash')
      const parsed = SdkList.parse(list.json())
      // The organization's own first token, and the new one (used just now).
      expect(parsed.pagination).toEqual({ total_count: 2, max_page: 1 })
      const mine = parsed.items.find((t) => t.id === created.organization_access_token.id)!
      expect(mine.last_used_at).toBe(clock.now().toISOString())
      expect(parsed.items.find((t) => t.id !== mine.id)).toMatchObject({ comment: 'created with the organization', scopes: [...ALL_SCOPES] })
    })

    it('lists, updates scopes and revokes through a Bearer token; revocation is immediate', async () => {
      const org = await createOrg(ctx)
      const other = await createOrg(ctx)
      const create = await app.inject({ method: 'POST', url: '/v1/organization-access-tokens/', headers: org.headers, payload: { comment: 'worker', scopes: ['products:write'] } })
      expect(create.statusCode).toBe(201)
      const { organization_access_token: oat, token } = SdkCreateResponse.parse(create.json())
      const bearer = { authorization: `Bearer ${token}` }
      expect((await app.inject({ method: 'POST', url: '/v1/products/', headers: bearer, payload: product('Allowed') })).statusCode).toBe(201)

      clock.advance(1000)
      const update = await app.inject({ method: 'PATCH', url: `/v1/organization-access-tokens/${oat.id}`, headers: org.headers, payload: { scopes: ['products:read'] } })
      expect(update.statusCode).toBe(200)
      expect(SdkOrganizationAccessToken.parse(update.json())).toMatchObject({ id: oat.id, scopes: ['products:read'], comment: 'worker', modified_at: clock.now().toISOString() })
      expect((await app.inject({ method: 'POST', url: '/v1/products/', headers: bearer, payload: product('Refused') })).statusCode).toBe(403)
      expect((await app.inject({ method: 'GET', url: '/v1/products/', headers: bearer })).statusCode).toBe(200)
      const renamed = await app.inject({ method: 'PATCH', url: `/v1/organization-access-tokens/${oat.id}`, headers: org.headers, payload: { comment: 'reader' } })
      expect(renamed.json()).toMatchObject({ scopes: ['products:read'], comment: 'reader' })

      // Another organization cannot see, change or revoke it.
      expect((await app.inject({ method: 'PATCH', url: `/v1/organization-access-tokens/${oat.id}`, headers: other.headers, payload: { comment: 'x' } })).statusCode).toBe(404)
      expect((await app.inject({ method: 'DELETE', url: `/v1/organization-access-tokens/${oat.id}`, headers: other.headers })).statusCode).toBe(404)
      const otherList = await app.inject({ method: 'GET', url: '/v1/organization-access-tokens/', headers: other.headers })
      expect(otherList.json().items.map((t: { id: string }) => t.id)).not.toContain(oat.id)
      const filtered = await app.inject({ method: 'GET', url: `/v1/organization-access-tokens/?organization_id=${other.organizationId}`, headers: org.headers })
      expect(filtered.json()).toEqual({ items: [], pagination: { total_count: 0, max_page: 0 } })

      const revoked = await app.inject({ method: 'DELETE', url: `/v1/organization-access-tokens/${oat.id}`, headers: org.headers })
      expect(revoked.statusCode).toBe(204)
      const after = await app.inject({ method: 'GET', url: '/v1/products/', headers: bearer })
      expect(after.statusCode).toBe(401)
      expect(after.json()).toEqual({ error: 'Unauthorized', detail: 'Unauthorized' })
      expect((await app.inject({ method: 'DELETE', url: `/v1/organization-access-tokens/${oat.id}`, headers: org.headers })).statusCode).toBe(404)
      expect((await app.inject({ method: 'PATCH', url: `/v1/organization-access-tokens/${oat.id}`, headers: org.headers, payload: { comment: 'back?' } })).statusCode).toBe(404)
      const list = await app.inject({ method: 'GET', url: '/v1/organization-access-tokens/?sorting=comment', headers: org.headers })
      expect(list.json().items.map((t: { id: string }) => t.id)).not.toContain(oat.id)
    })

    it("lists tokens oldest first by default, as Polar does (organization_access_token/sorting.py: [\"created_at\"])", async () => {
      const org = await createOrg(ctx)
      const made: string[] = []
      for (const comment of ['first', 'second', 'third']) {
        const r = await app.inject({ method: 'POST', url: '/v1/organization-access-tokens/', headers: org.headers, payload: { comment, scopes: ['products:read'] } })
        made.push(r.json().organization_access_token.id)
        clock.advance(1000) // distinct created_at
      }
      const ids = async (q: string) => (await app.inject({ method: 'GET', url: `/v1/organization-access-tokens/${q}`, headers: org.headers })).json().items.map((t: { id: string }) => t.id).filter((id: string) => made.includes(id))
      expect(await ids('')).toEqual(made)
      expect(await ids('?sorting=-created_at')).toEqual(made.slice().reverse())
    })

    it('expires a token after expires_in', async () => {
      const org = await createOrg(ctx)
      const res = await app.inject({ method: 'POST', url: '/v1/organization-access-tokens/', headers: org.headers, payload: { comment: 'short', scopes: ['products:read'], expires_in: 'PT1H' } })
      expect(res.statusCode).toBe(201)
      const { organization_access_token: oat, token } = res.json()
      expect(oat.expires_at).toBe(new Date(clock.now().getTime() + 3_600_000).toISOString())
      const seconds = await app.inject({ method: 'POST', url: '/v1/organization-access-tokens/', headers: org.headers, payload: { comment: 'days', scopes: [], expires_in: 'P2DT30M' } })
      expect(seconds.json().organization_access_token.expires_at).toBe(new Date(clock.now().getTime() + 2 * 86_400_000 + 1_800_000).toISOString())
      clock.advance(3_599_000)
      expect((await app.inject({ method: 'GET', url: '/v1/products/', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200)
      clock.advance(1000)
      expect((await app.inject({ method: 'GET', url: '/v1/products/', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401)
    })

    it('needs the organization_access_tokens scopes, and a token cannot grant scopes it does not have', async () => {
      const org = await createOrg(ctx)
      const reader = await tokenWithScopes(ctx, org.organizationId, ['products:read'])
      const denied = await app.inject({ method: 'GET', url: '/v1/organization-access-tokens/', headers: reader })
      expect(denied.statusCode).toBe(403)
      expect(denied.json().error).toBe('NotPermitted')
      expect((await app.inject({ method: 'GET', url: '/v1/organization-access-tokens/' })).statusCode).toBe(401)

      const manager = await tokenWithScopes(ctx, org.organizationId, ['organization_access_tokens:write', 'products:read'])
      expect((await app.inject({ method: 'GET', url: '/v1/organization-access-tokens/', headers: manager })).statusCode).toBe(200)
      const escalate = await app.inject({ method: 'POST', url: '/v1/organization-access-tokens/', headers: manager, payload: { comment: 'x', scopes: ['products:write', 'products:read'] } })
      expect(escalate.statusCode).toBe(403)
      expect(escalate.json()).toEqual({ error: 'NotPermitted', detail: 'A token cannot grant scopes it does not have: products:write.' })
      const ok = await app.inject({ method: 'POST', url: '/v1/organization-access-tokens/', headers: manager, payload: { comment: 'x', scopes: ['products:read'] } })
      expect(ok.statusCode).toBe(201)
      const widen = await app.inject({ method: 'PATCH', url: `/v1/organization-access-tokens/${ok.json().organization_access_token.id}`, headers: manager, payload: { scopes: ['orders:read'] } })
      expect(widen.statusCode).toBe(403)
    })

    it.each([
      [{ scopes: ['products:read'] }, ['body', 'comment'], 'missing'],
      [{ comment: 'x' }, ['body', 'scopes'], 'missing'],
      [{ comment: 'x', scopes: ['coffee:make'] }, ['body', 'scopes', 0], 'enum'],
      [{ comment: 'x', scopes: [], expires_in: 'soon' }, ['body', 'expires_in'], 'time_delta_parsing'],
      [{ comment: 'x', scopes: [], expires_in: -5 }, ['body', 'expires_in'], 'value_error'],
      [{ comment: 'x', scopes: [], organization_id: '00000000-0000-4000-8000-000000000000' }, ['body', 'organization_id'], 'value_error'],
    ])('refuses an invalid create body %j with a 422', async (payload, loc, type) => {
      const org = await createOrg(ctx)
      const res = await app.inject({ method: 'POST', url: '/v1/organization-access-tokens/', headers: org.headers, payload })
      expect(res.statusCode).toBe(422)
      expect(res.json().detail[0]).toMatchObject({ loc, type })
    })
  })

  it('documents the dashboard endpoints in the OpenAPI document', async () => {
    const doc = (await app.inject('/openapi.json')).json()
    for (const path of ['/v1/auth/login', '/v1/auth/logout', '/v1/auth/switch']) expect(doc.paths[path].post.tags).toEqual(['dashboard'])
    expect(doc.paths['/v1/auth/me'].get.tags).toEqual(['dashboard'])
    expect(doc.paths['/v1/auth/login'].post.security).toEqual([])
    expect(doc.components.securitySchemes.session_cookie).toEqual({ type: 'apiKey', in: 'cookie', name: 'kassa_session' })
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/organization-access-tokens', '/v1/organization-access-tokens/{id}', '/v1/organizations', '/v1/organizations/{id}']))
  })
})
