import { describe, expect, it } from 'vitest'
import { createOrg, createTestApp, testDatabaseUrl } from './helpers'

/*
 * Review of issue 18 (embedded checkout, products.delete, metadata filter): attacks that found a problem.
 */

describe('review of issue 18: attacks', async () => {
  const ctx = await createTestApp({ config: { publicUrl: 'http://kassa.test', linkBaseUrl: 'http://kassa.test/buy' } })
  const { app } = ctx
  const product = async (headers: Record<string, string>, name: string) =>
    (await app.inject({ method: 'POST', url: '/v1/products/', headers, payload: { name, prices: [{ amount_type: 'fixed', price_amount: 500 }] } })).json() as { id: string }

  it('DELETE /v1/products/{id} racing a session being opened on it: never a 500 (PostgreSQL: the insert met the foreign key)', async () => {
    const org = await createOrg(ctx, 'Delete Race')
    const statuses: number[] = []
    // PGlite runs one statement at a time and never interleaves them this way; PostgreSQL does in most rounds.
    for (let i = 0; i < (testDatabaseUrl ? 30 : 5); i++) {
      const p = await product(org.headers, 'Doomed')
      const link = (await app.inject({ method: 'POST', url: '/v1/checkout-links/', headers: org.headers, payload: { payment_processor: 'stripe', products: [p.id] } })).json()
      const del = () => app.inject({ method: 'DELETE', url: `/v1/products/${p.id}`, headers: org.headers })
      const rs = await Promise.all([
        i % 2 ? new Promise<Awaited<ReturnType<typeof del>>>((res) => setTimeout(() => res(del()), i % 4)) : del(),
        app.inject({ method: 'POST', url: '/v1/checkouts/', headers: org.headers, payload: { products: [p.id] } }),
        app.inject({ url: `/buy/${link.client_secret}` }),
        app.inject({ method: 'POST', url: `/v1/checkouts/client/`, payload: { product_id: p.id } }),
      ])
      statuses.push(...rs.map((r) => r.statusCode))
      const [d, created, visit] = rs
      expect([204, 409]).toContain(d!.statusCode)
      expect([201, 422]).toContain(created!.statusCode)
      if (created!.statusCode === 422) expect(created!.json().detail[0]).toMatchObject({ loc: ['body', 'products', 0], msg: 'Product does not exist.' })
      // The link offers nothing once its only product is gone: "not available", never an error page.
      expect([307, 404]).toContain(visit!.statusCode)
    }
    expect(statuses.filter((s) => s >= 500)).toEqual([])
  })

  it('DELETE /v1/products/{id} racing a checkout link or discount created on it: never a 500 (PostgreSQL: every round)', async () => {
    const org = await createOrg(ctx, 'Delete Race Two')
    for (let i = 0; i < (testDatabaseUrl ? 10 : 3); i++) {
      const p = await product(org.headers, 'Doomed')
      const [d, link, discount] = await Promise.all([
        app.inject({ method: 'DELETE', url: `/v1/products/${p.id}`, headers: org.headers }),
        app.inject({ method: 'POST', url: '/v1/checkout-links/', headers: org.headers, payload: { payment_processor: 'stripe', products: [p.id] } }),
        app.inject({ method: 'POST', url: '/v1/discounts/', headers: org.headers, payload: { name: 'Ten', basis_points: 1000, duration: 'once', products: [p.id] } }),
      ])
      expect([204, 409]).toContain(d!.statusCode)
      expect([201, 422]).toContain(link!.statusCode)
      expect([201, 422]).toContain(discount!.statusCode)
    }
  })

  it.each(['*.com.', '*.co.uk.', '*.io.'])('embed_hosts refuses %j: the trailing dot named a whole domain suffix (every https://any.com. could frame)', async (entry) => {
    const org = await createOrg(ctx, 'Suffix Shop')
    const r = await app.inject({ method: 'PATCH', url: `/v1/organizations/${org.organizationId}`, headers: org.headers, payload: { embed_hosts: [entry] } })
    expect(r.statusCode).toBe(422)
    expect(r.json().detail[0].loc).toEqual(['body', 'embed_hosts'])
    expect(r.json().detail[0].msg).toContain('is a domain suffix')
    // Its own site under the suffix, with the dot, is still fine.
    const ok = await app.inject({ method: 'PATCH', url: `/v1/organizations/${org.organizationId}`, headers: org.headers, payload: { embed_hosts: [`*.myshop.${entry.slice(2)}`] } })
    expect(ok.statusCode).toBe(200)
  })

  it('?metadata[__proto__]=x is not silently dropped (it answered every product, the bug the filter fixed)', async () => {
    const org = await createOrg(ctx, 'Proto Filter')
    const create = await app.inject({ method: 'POST', url: '/v1/products/', headers: org.headers, payload: { name: 'Tagged', metadata: { a: 'b' }, prices: [{ amount_type: 'fixed', price_amount: 500 }] } })
    expect(create.statusCode).toBe(201)
    for (const q of ['metadata[__proto__]=x', 'metadata[a]=b&metadata[__proto__]=x']) {
      const r = await app.inject({ url: `/v1/products/?${q}`, headers: org.headers })
      expect(r.statusCode === 422 || (r.statusCode === 200 && r.json().items.length === 0)).toBe(true)
      if (r.statusCode === 422) expect(r.json().detail[0].loc).toEqual(['query', 'metadata', '__proto__'])
    }
    for (const list of ['customers', 'orders', 'subscriptions']) {
      expect((await app.inject({ url: `/v1/${list}/?metadata[__proto__]=x`, headers: org.headers })).statusCode).toBe(422)
    }
    // Keys that merely look special still filter as keys.
    expect((await app.inject({ url: '/v1/products/?metadata[constructor]=x', headers: org.headers })).json().items).toEqual([])
  })
})

describe('what a session insert that lost the race with a product delete looks like', () => {
  it('a broken product or price reference, or a deadlock (40P01), is the lost race; any other error is not', async () => {
    const { isLostProductRace } = await import('../src/checkouts/repository')
    expect(isLostProductRace({ code: '23503', constraint: 'checkouts_product_id_fkey' })).toBe(true)
    expect(isLostProductRace({ code: '23503', constraint: 'checkouts_product_price_id_fkey' })).toBe(true)
    expect(isLostProductRace({ code: '40P01' })).toBe(true)
    expect(isLostProductRace({ code: '23503', constraint: 'checkouts_discount_id_fkey' })).toBe(false)
    expect(isLostProductRace({ code: '23505' })).toBe(false)
    expect(isLostProductRace(new Error('boom'))).toBe(false)
  })
})
