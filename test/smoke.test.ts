import { describe, expect, it } from 'vitest'
import { createOrg, createTestApp, polarClient } from './helpers'

describe('smoke', async () => {
  const ctx = await createTestApp()
  it('serves health and creates a product through the SDK', async () => {
    const h = await ctx.app.inject({ method: 'GET', url: '/healthz' })
    expect(h.statusCode).toBe(200)
    const org = await createOrg(ctx)
    const polar = await polarClient(ctx.app, org.token)
    const cf = await polar.customFields.create({ type: 'text', slug: 'company', name: 'Company', properties: {} })
    const p = await polar.products.create({
      name: 'Pro plan',
      recurringInterval: 'month',
      trialInterval: 'day',
      trialIntervalCount: 7,
      prices: [{ amountType: 'fixed', priceAmount: 2900, priceCurrency: 'usd' }, { amountType: 'custom', priceCurrency: 'eur', minimumAmount: 500 }],
      attachedCustomFields: [{ customFieldId: cf.id, required: true }],
      metadata: { tier: 'pro', seats: 3 },
    })
    expect(p.prices).toHaveLength(2)
    expect(p.attachedCustomFields[0]?.customField.slug).toBe('company')
    const list = await polar.products.list({})
    expect(list.result.pagination.totalCount).toBe(1)
    const got = await polar.products.get({ id: p.id })
    expect(got.name).toBe('Pro plan')
    const upd = await polar.products.update({ id: p.id, productUpdate: { isArchived: true, prices: [{ id: p.prices[0]!.id }] } })
    expect(upd.isArchived).toBe(true)
    expect(upd.prices).toHaveLength(1)
    const bad = await ctx.app.inject({ method: 'POST', url: '/v1/products/', headers: org.headers, payload: { prices: [] } })
    console.log(bad.statusCode, bad.body)
    const unauth = await ctx.app.inject({ method: 'POST', url: '/v1/products/', payload: '{bad' , headers: {'content-type': 'application/json'}})
    console.log(unauth.statusCode, unauth.body)
    const badjson = await ctx.app.inject({ method: 'POST', url: '/v1/products/', payload: '{bad' , headers: {'content-type': 'application/json', ...org.headers}})
    console.log(badjson.statusCode, badjson.body)
  })
})
