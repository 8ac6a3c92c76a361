import { describe, expect, it } from 'vitest'
import { assertEndpointUrl, checkUrlSyntax, guardedLookup, type Resolver } from '../src/webhooks/url'

/** Table-driven: every spelling of a forbidden, local and public address, in both modes. No DNS here. */
const forbidden = [
  'https://169.254.169.254/latest/meta-data',
  'https://2852039166/',
  'https://0xa9.0xfe.0xa9.0xfe/',
  'https://0251.0376.0251.0376/',
  'https://[fe80::1]/',
  'https://[fd00:ec2::254]/',
  'https://[::ffff:169.254.169.254]/',
  'https://[::ffff:a9fe:a9fe]/',
  'https://[64:ff9b::a9fe:a9fe]/',
  'https://[64:ff9b:1::1]/',
  'https://[2002:a9fe:a9fe::1]/',
  'https://[::a9fe:a9fe]/',
  'https://[::7f00:1]/',
  'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/',
  'http://169.254.169.254/',
  'http://2852039166/',
  'http://[::ffff:a9fe:a9fe]/',
]
const local = ['https://127.0.0.1/', 'https://10.1.2.3/', 'https://[::1]/', 'https://[fd12::1]/', 'https://[::ffff:192.168.0.1]/', 'https://2130706433/']
const localHttp = ['http://127.0.0.1:9/', 'http://192.168.1.10/', 'http://[::1]/', 'http://[::ffff:7f00:1]/', 'http://localhost:9/']
const publicHttps = ['https://93.184.215.14/', 'https://[2606:4700:4700::1111]/', 'https://[64:ff9b::101:101]/']

const verdict = (raw: string, insecure: boolean) => {
  const r = checkUrlSyntax(raw, insecure)
  return 'problem' in r ? 'refused' : 'ok'
}

describe('webhook URL policy', () => {
  it.each(forbidden.flatMap((u) => [[u, false], [u, true]] as const))('%s is refused (insecure=%s)', (url, insecure) => {
    expect(verdict(url, insecure)).toBe('refused')
  })
  it.each(local)('%s: refused strict, allowed insecure', (url) => {
    expect(verdict(url, false)).toBe('refused')
    expect(verdict(url, true)).toBe('ok')
  })
  it.each(localHttp)('%s: http refused strict, allowed insecure', (url) => {
    expect(verdict(url, false)).toBe('refused')
    expect(verdict(url, true)).toBe('ok')
  })
  it.each(publicHttps)('%s: allowed in both modes; over http refused in both', (url) => {
    expect(verdict(url, false)).toBe('ok')
    expect(verdict(url, true)).toBe('ok')
    expect(verdict(url.replace('https:', 'http:'), true)).toBe('refused')
  })

  const resolverTo = (...addresses: string[]): Resolver => async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  const cases: [string, string, string[], boolean, boolean][] = [
    // url, resolved, strict ok?, insecure ok?
    ['https://meta.example/', ['169.254.169.254'], false, false],
    ['https://meta6.example/', ['fd00:ec2::254'], false, false],
    ['https://mapped.example/', ['::ffff:a9fe:a9fe'], false, false],
    ['https://teredo.example/', ['2001:0:4136:e378:8000:63bf:3fff:fdd2'], false, false],
    ['https://mixed.example/', ['93.184.215.14', '169.254.169.254'], false, false],
    ['https://intranet.example/', ['10.0.0.5'], false, true],
    ['http://intranet.example/', ['10.0.0.5'], false, true],
    ['http://public.example/', ['93.184.215.14'], false, false],
    ['https://public.example/', ['93.184.215.14'], true, true],
  ].map(([u, a, s, i]) => [u as string, (a as string[]).join(','), a as string[], s as boolean, i as boolean])
  it.each(cases)('hostname %s resolving to %s', async (url, _shown, addresses, strictOk, insecureOk) => {
    for (const [insecure, ok] of [[false, strictOk], [true, insecureOk]] as const) {
      const run = assertEndpointUrl(url, insecure, resolverTo(...addresses))
      if (ok) await expect(run).resolves.toBe(url)
      else {
        const err = await run.catch((e: unknown) => e)
        expect(err, `${url} insecure=${insecure}`).toBeInstanceOf(Error)
        // The 422 never tells which internal address the name resolved to.
        const text = JSON.stringify(err) + String((err as Error).message)
        for (const a of addresses) expect(text).not.toContain(a)
      }
    }
  })

  it('checks the addresses actually connected to, in every mode', async () => {
    const fakeLookup = ((_h: string, _o: object, cb: (e: null, a: { address: string; family: number }[]) => void) =>
      cb(null, [{ address: '169.254.169.254', family: 4 }])) as never
    for (const policy of ['public', 'local', 'insecure'] as const) {
      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => guardedLookup(policy)('rebind.example', {}, (e) => resolve(e), fakeLookup))
      expect(err?.code, policy).toBe('EADDRNOTALLOWED')
      expect(err?.message).not.toContain('169.254')
    }
    const ok = await new Promise<unknown>((resolve) =>
      guardedLookup('local')('x', {}, (e, a) => resolve(e ?? a), ((_h: string, _o: object, cb: (e: null, a: object[]) => void) => cb(null, [{ address: '10.0.0.1', family: 4 }])) as never),
    )
    expect(ok).toBe('10.0.0.1')
  })
})

describe('webhook endpoint events', async () => {
  const { createOrg, createTestApp } = await import('./helpers')
  const { WebhookEventType } = await import('@polar-sh/sdk/models/components/webhookeventtype.js')
  const ctx = await createTestApp()
  it("accepts every event type Polar has (the SDK's enum and the server's discount.* and subscription.cycled)", async () => {
    const org = await createOrg(ctx)
    const events = [...Object.values(WebhookEventType), 'subscription.cycled', 'discount.created', 'discount.updated', 'discount.deleted']
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/webhooks/endpoints', headers: org.headers, payload: { url: 'https://93.184.215.14/h', format: 'raw', events } })
    expect(res.statusCode, res.body).toBe(201)
    expect([...res.json().events].sort()).toEqual([...new Set(events)].sort())
    const patch = await ctx.app.inject({ method: 'PATCH', url: `/v1/webhooks/endpoints/${res.json().id}`, headers: org.headers, payload: { events: ['discount.deleted', 'member.updated'] } })
    expect(patch.statusCode, patch.body).toBe(200)
  })
})
