import { describe, expect, it } from 'vitest'
import { createOrg, createTestApp, polarClient } from './helpers'

// Polar's server/polar/kit/versioning.py: published versions accepted and echoed, others 404 {"detail": "Not Found"}.
describe('Polar-Version header', async () => {
  const ctx = await createTestApp()
  const { app } = ctx
  const org = await createOrg(ctx)
  const get = (headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: '/v1/products/', headers: { ...org.headers, ...headers } })

  it('absent: served as before, in the current version', async () => {
    const res = await get()
    expect(res.statusCode).toBe(200)
    expect(res.headers['polar-version']).toBe('2026-04')
  })

  it.each(['2026-04', '2026-10', '2027-01'])('accepts the published version %s and echoes it', async (v) => {
    const res = await get({ 'polar-version': v })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['polar-version']).toBe(v)
  })

  it.each(['bogus', '2026-4', '2025-01', '2099-12', '', ' 2026-04'])('answers %j as Polar does: 404 Not Found', async (v) => {
    const res = await get({ 'polar-version': v })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toEqual({ detail: 'Not Found' })
  })

  it('leaves pages outside the API alone', async () => {
    expect((await app.inject({ url: '/healthz', headers: { 'polar-version': 'bogus' } })).statusCode).toBe(200)
  })

  it('works with the SDK', async () => {
    const polar = await polarClient(app, org.token)
    const page = await polar.products.list({})
    expect(page.result.items).toBeInstanceOf(Array)
  })
})

describe('the OpenAPI document declares the headers SDK 1.x sends', async () => {
  const { app } = await createTestApp()
  type Param = { in: string; name: string }
  const params = async (path: string, method: string) => {
    const doc = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { parameters?: Param[] }>> }
    return (doc.paths[path]?.[method]?.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name)
  }

  it('Polar-Version on every API operation, Polar-Organization on those that authenticate, once each however often it is read', async () => {
    for (let i = 0; i < 2; i++) {
      expect(await params('/v1/products', 'get')).toEqual(['Polar-Version', 'Polar-Organization'])
      expect(await params('/v1/checkouts/client/{client_secret}', 'get')).toEqual(['Polar-Version'])
    }
  })
})
