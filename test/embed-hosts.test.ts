import { createPolar } from 'polar-sdk-1/2026-10'
import { describe, expect, it } from 'vitest'
import { isLocalHost, matchOrigin, validateEmbedHosts, validateHostPattern } from '../src/organizations/embed-hosts'
import { createOrg, createTestApp, listen, polarClient, tokenWithScopes } from './helpers'

/*
 * `embed_hosts` as Polar validates and matches it (server/polar/organization/embed_hosts.py and its
 * tests/organization/test_embed_hosts.py), and Polar's `PATCH /v1/organizations/{id}` that sets it.
 */

describe('embed host entries', () => {
  it.each([
    ['example.com', 'example.com'],
    ['  Example.COM  ', 'example.com'],
    ['*.example.com', '*.example.com'],
    ['shop.example.com', 'shop.example.com'],
    ['localhost:3000', 'localhost:3000'],
    ['localhost', 'localhost'],
    ['app.localhost:5173', 'app.localhost:5173'],
    ['192.168.1.43:5500', '192.168.1.43:5500'],
    ['127.0.0.2:8080', '127.0.0.2:8080'],
    ['[::1]:3000', '[::1]:3000'],
    ['example.com:443', 'example.com'],
    ['example.com:8443', 'example.com:8443'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['*.vercel.app', '*.vercel.app'],
    ['*.myshop.co.uk', '*.myshop.co.uk'],
    ['*.localhost', '*.localhost'],
    ['chrome-extension://abcdef', 'chrome-extension://abcdef'],
  ])('accepts %j as %j', (entry, normalized) => {
    expect(validateHostPattern(entry)).toBe(normalized)
  })

  const badHost = 'write a host and an optional port, with no path. Between the dots, only letters, digits and hyphens'
  const scheme = 'write the host on its own. HTTPS is always allowed, and HTTP as well for localhost and private addresses'
  it.each([
    ['', 'it is empty'],
    ['   ', 'it is empty'],
    ['*', 'a bare wildcard would let any page embed'],
    ['*.', 'a bare wildcard would let any page embed'],
    ['*.*', 'a bare wildcard would let any page embed'],
    ['https://example.com', scheme],
    ['http://localhost:3000', scheme],
    ['HTTPS://example.com', scheme],
    ['example.com/checkout', badHost],
    ['example.com?x=1', badHost],
    ['example.com#top', badHost],
    ['user@example.com', badHost],
    ['exa mple.com', badHost],
    ['exa_mple.com', badHost],
    ['shop.*.example.com', badHost],
    ['data:', badHost],
    ['example.com:99999', badHost],
    ['javascript:alert(1)', badHost],
    [`${'a'.repeat(250)}.com`, badHost],
    ['*.com', 'com is a domain suffix, so this would admit every site registered under it. Name your own site, like myshop.com'],
    ['*.co.uk', 'co.uk is a domain suffix, so this would admit every site registered under it. Name your own site, like myshop.co.uk'],
  ])('refuses %j: %s', (entry, reason) => {
    expect(() => validateHostPattern(entry)).toThrow(`is not a valid embed host: ${reason}`)
  })

  it('normalizes a list and drops its duplicates, keeping the order', () => {
    expect(validateEmbedHosts(['Example.com', 'localhost:3000', 'example.com:443', '*.example.com'])).toEqual(['example.com', 'localhost:3000', '*.example.com'])
  })

  it.each([
    ['localhost', true],
    ['shop.localhost', true],
    ['printer.local', true],
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.20.0.1', true],
    ['192.168.0.10', true],
    ['[::1]', true],
    ['[fd00::1]', true],
    ['[::ffff:7f00:1]', true],
    ['[::ffff:5db8:d70e]', false],
    ['example.com', false],
    ['93.184.215.14', false],
    ['[2606:4700::1111]', false],
  ])('%s is local: %s', (host, local) => {
    expect(isLocalHost(host)).toBe(local)
  })
})

describe('embed origins against the list', () => {
  const hosts = ['example.com', '*.shop.io', 'localhost:3000', '192.168.1.43:5500', '127.0.0.2:8080', 'chrome-extension://abcdef']
  it.each([
    ['https://example.com', 'https://example.com'],
    ['https://EXAMPLE.com/some/path?q=1#f', 'https://example.com'],
    ['https://example.com:443', 'https://example.com'],
    ['https://a.shop.io', 'https://a.shop.io'],
    ['https://a.b.shop.io', 'https://a.b.shop.io'],
    ['http://localhost:3000', 'http://localhost:3000'],
    ['https://localhost:3000', 'https://localhost:3000'],
    ['http://192.168.1.43:5500', 'http://192.168.1.43:5500'],
    ['http://127.0.0.2:8080', 'http://127.0.0.2:8080'],
    ['chrome-extension://abcdef', 'chrome-extension://abcdef'],
  ])('admits %s as %s', (origin, normalized) => {
    expect(matchOrigin(origin, hosts)).toBe(normalized)
  })

  it.each([
    ['http://example.com', 'a public host over HTTP'],
    ['https://shop.io', 'the wildcard does not cover its own domain'],
    ['https://evil-example.com', 'another host'],
    ['https://example.com.evil.io', 'a suffix trick'],
    ['https://example.com:8443', 'another port'],
    ['http://localhost:3001', 'another port of localhost'],
    ['http://localhost', 'localhost without the listed port'],
    ['http://127.0.0.3:8080', 'another loopback address'],
    ['ftp://example.com', 'not a web scheme'],
    ['chrome-extension://other', 'another extension'],
    ['null', 'an opaque origin'],
    ['file:///etc/passwd', 'a file URL'],
    ['example.com', 'no scheme'],
    ['', 'empty'],
  ])('refuses %s (%s)', (origin) => {
    expect(matchOrigin(origin, hosts)).toBeUndefined()
  })

  it('an empty list admits nothing', () => {
    expect(matchOrigin('https://example.com', [])).toBeUndefined()
  })
})

describe('PATCH /v1/organizations/{id} embed_hosts', async () => {
  const ctx = await createTestApp()
  const { app } = ctx
  const patch = (id: string, headers: object, payload: unknown) => app.inject({ method: 'PATCH', url: `/v1/organizations/${id}`, headers: headers as never, payload: payload as never })

  it('stores the normalized list and returns it in the Organization, which both SDKs parse', async () => {
    const org = await createOrg(ctx)
    const r = await patch(org.organizationId, org.headers, { embed_hosts: ['Shop.Example.com', '*.example.com', 'localhost:3000', 'shop.example.com:443'], name: 'ignored' })
    expect(r.statusCode).toBe(200)
    expect(r.json()).toMatchObject({ id: org.organizationId, embed_hosts: ['shop.example.com', '*.example.com', 'localhost:3000'] })
    expect(r.json().modified_at).not.toBeNull()

    const polar = await polarClient(app, org.token)
    expect((await polar.organizations.get({ id: org.organizationId })).id).toBe(org.organizationId)
    const one = createPolar({ accessToken: org.token, baseUrl: await listen(app) })
    expect((await one.organizations.get(org.organizationId)).embed_hosts).toEqual(['shop.example.com', '*.example.com', 'localhost:3000'])
    const updated = await one.organizations.update(org.organizationId, { embed_hosts: ['example.org'] })
    expect(updated.embed_hosts).toEqual(['example.org'])
    expect((await one.organizations.list()).items[0]?.embed_hosts).toEqual(['example.org'])
  })

  it('a new organization has none; a body without embed_hosts (or null) leaves them; [] clears them', async () => {
    const org = await createOrg(ctx)
    const get = async () => (await app.inject({ url: `/v1/organizations/${org.organizationId}`, headers: org.headers })).json().embed_hosts
    expect(await get()).toEqual([])
    await patch(org.organizationId, org.headers, { embed_hosts: ['example.com'] })
    expect((await patch(org.organizationId, org.headers, {})).json().embed_hosts).toEqual(['example.com'])
    expect((await patch(org.organizationId, org.headers, { embed_hosts: null })).json().embed_hosts).toEqual(['example.com'])
    expect((await patch(org.organizationId, org.headers, { embed_hosts: [] })).json().embed_hosts).toEqual([])
    expect(await get()).toEqual([])
  })

  it.each([
    [['https://example.com'], "Value error, 'https://example.com' is not a valid embed host: write the host on its own. HTTPS is always allowed, and HTTP as well for localhost and private addresses"],
    [['example.com', '*'], "Value error, '*' is not a valid embed host: a bare wildcard would let any page embed"],
    [['example.com/path'], "Value error, 'example.com/path' is not a valid embed host: write a host and an optional port, with no path. Between the dots, only letters, digits and hyphens"],
    [['*.com'], "Value error, '*.com' is not a valid embed host: com is a domain suffix, so this would admit every site registered under it. Name your own site, like myshop.com"],
  ])('refuses %j with a 422 on body.embed_hosts, stores nothing', async (hosts, msg) => {
    const org = await createOrg(ctx)
    const r = await patch(org.organizationId, org.headers, { embed_hosts: hosts })
    expect(r.statusCode).toBe(422)
    expect(r.json()).toEqual({ error: 'RequestValidationError', detail: [{ loc: ['body', 'embed_hosts'], msg, type: 'value_error', input: hosts }] })
    expect((await app.inject({ url: `/v1/organizations/${org.organizationId}`, headers: org.headers })).json().embed_hosts).toEqual([])
  })

  it.each([
    [{ embed_hosts: 'example.com' }, ['body', 'embed_hosts'], 'list_type'],
    [{ embed_hosts: [1] }, ['body', 'embed_hosts', 0], 'string_type'],
    [{ embed_hosts: Array.from({ length: 51 }, (_, i) => `s${i}.example.com`) }, ['body', 'embed_hosts'], 'too_long'],
    [{ embed_hosts: [`${'a'.repeat(301)}`] }, ['body', 'embed_hosts', 0], 'string_too_long'],
  ])('refuses a malformed body %#: 422 at %j', async (body, loc, type) => {
    const org = await createOrg(ctx)
    const r = await patch(org.organizationId, org.headers, body)
    expect(r.statusCode).toBe(422)
    expect(r.json().detail[0]).toMatchObject({ loc, type })
  })

  it('auth: 401 without a token, 403 without organizations:write, 404 for another organization or an unknown id', async () => {
    const org = await createOrg(ctx)
    const other = await createOrg(ctx)
    const body = { embed_hosts: ['example.com'] }
    expect((await patch(org.organizationId, {}, body)).statusCode).toBe(401)
    const readOnly = await tokenWithScopes(ctx, org.organizationId, ['organizations:read'])
    expect((await patch(org.organizationId, readOnly, body)).json()).toMatchObject({ error: 'NotPermitted' })
    expect((await patch(other.organizationId, org.headers, body)).json()).toEqual({ error: 'ResourceNotFound', detail: 'Not found' })
    expect((await patch('00000000-0000-4000-8000-000000000000', org.headers, body)).statusCode).toBe(404)
    expect((await app.inject({ url: `/v1/organizations/${other.organizationId}`, headers: other.headers })).json().embed_hosts).toEqual([])
  })
})
