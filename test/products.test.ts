import { describe, expect, it } from 'vitest'
import { createOrg, createTestApp, polarClient, tokenWithScopes, type TestOrg } from './helpers'

describe('products API', async () => {
  const ctx = await createTestApp()
  const { app } = ctx

  const post = (org: TestOrg, payload: unknown) => app.inject({ method: 'POST', url: '/v1/products/', headers: org.headers, payload: payload as object })
  const fixed = (amount: number, currency = 'usd') => ({ amount_type: 'fixed', price_amount: amount, price_currency: currency })

  it('creates one-time, recurring with trial, pay-what-you-want and free products that the SDK parses', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    const oneTime = await polar.products.create({ name: 'Sticker Pack', description: 'Ten stickers', prices: [{ amountType: 'fixed', priceAmount: 1200 }] })
    expect(oneTime).toMatchObject({ name: 'Sticker Pack', description: 'Ten stickers', isRecurring: false, recurringInterval: null, isArchived: false, visibility: 'public', organizationId: org.organizationId })
    expect(oneTime.prices).toEqual([expect.objectContaining({ amountType: 'fixed', priceAmount: 1200, priceCurrency: 'usd', productId: oneTime.id, isArchived: false })])

    const sub = await polar.products.create({ name: 'Pro Plan', recurringInterval: 'month', trialInterval: 'day', trialIntervalCount: 7, prices: [{ amountType: 'fixed', priceAmount: 2900 }] })
    expect(sub).toMatchObject({ isRecurring: true, recurringInterval: 'month', recurringIntervalCount: 1, trialInterval: 'day', trialIntervalCount: 7 })

    const pwyw = await polar.products.create({ name: 'Support us', prices: [{ amountType: 'custom', minimumAmount: 500, maximumAmount: 10000, presetAmount: 1500 }] })
    expect(pwyw.prices[0]).toMatchObject({ amountType: 'custom', minimumAmount: 500, maximumAmount: 10000, presetAmount: 1500 })

    const free = await polar.products.create({ name: 'Starter Guide', prices: [{ amountType: 'fixed', priceAmount: 0 }] })
    expect(free.prices[0]).toMatchObject({ amountType: 'fixed', priceAmount: 0 })

    const multi = await polar.products.create({ name: 'Global', prices: [{ amountType: 'fixed', priceAmount: 1000, priceCurrency: 'usd' }, { amountType: 'fixed', priceAmount: 900, priceCurrency: 'eur' }] })
    expect(multi.prices.map((p) => p.priceCurrency).sort()).toEqual(['eur', 'usd'])
  })

  it('attaches custom fields in order with required flags', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    const a = await polar.customFields.create({ type: 'text', slug: 'company', name: 'Company', properties: {} })
    const b = await polar.customFields.create({ type: 'checkbox', slug: 'terms', name: 'Terms', properties: { formLabel: 'I agree' } })
    const p = await polar.products.create({ name: 'Fields', prices: [fixedSdk(100)], attachedCustomFields: [{ customFieldId: b.id, required: true }, { customFieldId: a.id, required: false }] })
    expect(p.attachedCustomFields.map((f) => [f.customField.slug, f.order, f.required])).toEqual([['terms', 0, true], ['company', 1, false]])
    const updated = await polar.products.update({ id: p.id, productUpdate: { attachedCustomFields: [{ customFieldId: a.id, required: true }] } })
    expect(updated.attachedCustomFields.map((f) => [f.customField.slug, f.required])).toEqual([['company', true]])
  })

  it('updates only the keys sent, archives (never deletes), and replaces prices', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    const p = await polar.products.create({ name: 'Original', description: 'Keep me', metadata: { a: 1 }, prices: [fixedSdk(1000)] })
    const renamed = await polar.products.update({ id: p.id, productUpdate: { name: 'Renamed' } })
    expect(renamed).toMatchObject({ name: 'Renamed', description: 'Keep me', metadata: { a: 1 } })
    expect(renamed.modifiedAt).not.toBeNull()

    const repriced = await polar.products.update({ id: p.id, productUpdate: { prices: [{ amountType: 'fixed', priceAmount: 2000, priceCurrency: 'usd' }] } })
    expect(repriced.prices).toHaveLength(1)
    expect(repriced.prices[0]).toMatchObject({ priceAmount: 2000 })
    expect(repriced.prices[0]!.id).not.toBe(p.prices[0]!.id)

    const archived = await polar.products.update({ id: p.id, productUpdate: { isArchived: true } })
    expect(archived.isArchived).toBe(true)
    expect((await polar.products.get({ id: p.id })).isArchived).toBe(true)
    const listed = await polar.products.list({ isArchived: true })
    expect(listed.result.items.map((i) => i.id)).toEqual([p.id])
    expect((await polar.products.list({ isArchived: false })).result.items).toEqual([])
    // Nothing refers to it, so it can also be deleted for good (issue 18: DELETE as in SDK 1.x).
    const res = await app.inject({ method: 'DELETE', url: `/v1/products/${p.id}`, headers: org.headers })
    expect(res.statusCode).toBe(204)
    expect((await app.inject({ method: 'GET', url: `/v1/products/${p.id}`, headers: org.headers })).statusCode).toBe(404)
  })

  it('lists with filters, sorting and pagination arithmetic', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    for (let i = 0; i < 12; i++) {
      await polar.products.create({ name: `Item ${String(i).padStart(2, '0')}`, prices: [fixedSdk(100 * (12 - i))], ...(i % 3 === 0 ? { recurringInterval: 'month' as const } : {}) })
    }
    const page1 = await polar.products.list({ limit: 5, sorting: ['name'] })
    expect(page1.result.pagination).toEqual({ totalCount: 12, maxPage: 3 })
    expect(page1.result.items.map((p) => p.name)).toEqual(['Item 00', 'Item 01', 'Item 02', 'Item 03', 'Item 04'])
    const page3 = await polar.products.list({ limit: 5, page: 3, sorting: ['name'] })
    expect(page3.result.items.map((p) => p.name)).toEqual(['Item 10', 'Item 11'])
    const beyond = await polar.products.list({ limit: 5, page: 9 })
    expect(beyond.result.items).toEqual([])
    expect(beyond.result.pagination).toEqual({ totalCount: 12, maxPage: 3 })

    const desc = await polar.products.list({ limit: 2, sorting: ['-name'] })
    expect(desc.result.items.map((p) => p.name)).toEqual(['Item 11', 'Item 10'])
    const cheapest = await polar.products.list({ limit: 1, sorting: ['price_amount'] })
    expect(cheapest.result.items[0]!.name).toBe('Item 11')

    expect((await polar.products.list({ isRecurring: true })).result.pagination.totalCount).toBe(4)
    expect((await polar.products.list({ isRecurring: false })).result.pagination.totalCount).toBe(8)
    expect((await polar.products.list({ query: 'item 0' })).result.pagination.totalCount).toBe(10)
    expect((await polar.products.list({ query: '%' })).result.pagination.totalCount).toBe(0)

    const huge = await app.inject({ method: 'GET', url: '/v1/products/?limit=1000', headers: org.headers })
    expect(huge.json().items).toHaveLength(12)
    const big = await app.inject({ method: 'GET', url: '/v1/products/?limit=100&page=1', headers: org.headers })
    expect(big.json().pagination).toEqual({ total_count: 12, max_page: 1 })
  })

  it('rejects invalid bodies with Polar-style 422s', async () => {
    const org = await createOrg(ctx)
    const cases: [unknown, unknown][] = [
      [{ prices: [] }, { error: 'RequestValidationError', detail: [
        { loc: ['body', 'name'], msg: 'Field required', type: 'missing' },
        { loc: ['body', 'prices'], msg: 'List should have at least 1 item after validation', type: 'too_short', input: [], ctx: { min_length: 1 } },
      ] }],
      [{ name: 'ab', prices: [fixed(100)] }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'name'], msg: 'String should have at least 3 characters', type: 'string_too_short', input: 'ab', ctx: { min_length: 3 } }] }],
      [{ name: 'Neg', prices: [fixed(-1)] }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'prices', 0, 'price_amount'], msg: 'Input should be greater than or equal to 0', type: 'greater_than_equal', input: -1, ctx: { ge: 0 } }] }],
      [{ name: 'Float', prices: [fixed(1.5)] }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'prices', 0, 'price_amount'], msg: 'Input should be a valid integer', type: 'int_type', input: 1.5 }] }],
      [{ name: 'Two usd', prices: [fixed(100), fixed(200)] }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'prices'], msg: 'Only one price per currency is allowed: "usd" appears twice.', type: 'value_error' }] }],
      [{ name: 'Bad max', prices: [{ amount_type: 'custom', minimum_amount: 500, maximum_amount: 100 }] }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'prices', 0, 'maximum_amount'], msg: 'Maximum amount must be greater than or equal to the minimum amount.', type: 'value_error', input: 100 }] }],
      [{ name: 'Bad preset', prices: [{ amount_type: 'custom', minimum_amount: 500, preset_amount: 100 }] }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'prices', 0, 'preset_amount'], msg: 'Preset amount must be between the minimum and maximum amounts.', type: 'value_error', input: 100 }] }],
      [{ name: 'Trial once', trial_interval: 'day', trial_interval_count: 7, prices: [fixed(100)] }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'trial_interval'], msg: 'A trial is only possible on a recurring product.', type: 'value_error', input: 'day' }] }],
      [{ name: 'Interval', recurring_interval: 'fortnight', prices: [fixed(100)] }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'recurring_interval'], msg: "Input should be 'day', 'week', 'month' or 'year'", type: 'enum', input: 'fortnight', ctx: { expected: "'day', 'week', 'month' or 'year'" } }] }],
      [{ name: 'Metered', prices: [{ amount_type: 'metered_unit', unit_amount: 1 }] }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'prices', 0, 'amount_type'], msg: `Input tag "metered_unit" found using 'amount_type' does not match any of the expected tags: 'fixed' or 'custom'`, type: 'union_tag_invalid', input: 'metered_unit', ctx: { discriminator: "'amount_type'", tag: 'metered_unit', expected_tags: "'fixed' or 'custom'" } }] }],
      [{ name: 'Missing field', prices: [fixed(100)], attached_custom_fields: [{ custom_field_id: '0190c8a0-0000-7000-8000-000000000000', required: true }] }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'attached_custom_fields', 0, 'custom_field_id'], msg: 'Custom field does not exist.', type: 'value_error', input: '0190c8a0-0000-7000-8000-000000000000' }] }],
      [{ name: 'Foreign org', organization_id: '0190c8a0-0000-7000-8000-000000000000', prices: [fixed(100)] }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'organization_id'], msg: 'Setting organization_id is disallowed when using an organization token.', type: 'value_error', input: '0190c8a0-0000-7000-8000-000000000000' }] }],
    ]
    for (const [payload, expected] of cases) {
      const res = await post(org, payload)
      expect({ status: res.statusCode, body: res.json() }, JSON.stringify(payload)).toEqual({ status: 422, body: expected })
    }
    const list = await app.inject({ method: 'GET', url: '/v1/products/', headers: org.headers })
    expect(list.json().pagination.total_count).toBe(0)
  })

  it('enforces metadata limits', async () => {
    const org = await createOrg(ctx)
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]))
    const r1 = await post(org, { name: 'Meta', prices: [fixed(1)], metadata: tooMany })
    expect(r1.statusCode).toBe(422)
    expect(r1.json().detail[0]).toMatchObject({ loc: ['body', 'metadata'], type: 'too_long' })
    const r2 = await post(org, { name: 'Meta', prices: [fixed(1)], metadata: { ['k'.repeat(41)]: 'v' } })
    expect(r2.statusCode).toBe(422)
    expect(r2.json().detail[0].loc).toEqual(['body', 'metadata', 'k'.repeat(41)])
    const r3 = await post(org, { name: 'Meta', prices: [fixed(1)], metadata: { k: 'v'.repeat(501) } })
    expect(r3.statusCode).toBe(422)
    expect(r3.json().detail[0]).toMatchObject({ loc: ['body', 'metadata', 'k'], type: 'string_too_long' })
    const r4 = await post(org, { name: 'Meta', prices: [fixed(1)], metadata: { ...Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'.repeat(500)])) } })
    expect(r4.statusCode).toBe(201)
  })

  it('rejects one-time ↔ recurring switches and unknown price ids on update', async () => {
    const org = await createOrg(ctx)
    const created = (await post(org, { name: 'One time', prices: [fixed(100)] })).json()
    const r1 = await app.inject({ method: 'PATCH', url: `/v1/products/${created.id}`, headers: org.headers, payload: { recurring_interval: 'month' } })
    expect(r1.json()).toEqual({ error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'recurring_interval'], msg: 'A one-time product cannot become recurring.', type: 'value_error', input: 'month' }] })
    const other = (await post(org, { name: 'Other', prices: [fixed(100)] })).json()
    const r2 = await app.inject({ method: 'PATCH', url: `/v1/products/${created.id}`, headers: org.headers, payload: { prices: [{ id: other.prices[0].id }] } })
    expect(r2.json()).toEqual({ error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'prices', 0, 'id'], msg: 'Price does not exist on this product.', type: 'value_error', input: other.prices[0].id }] })
    // nothing half-written: the product still has its one price
    const after = await app.inject({ method: 'GET', url: `/v1/products/${created.id}`, headers: org.headers })
    expect(after.json().prices.map((p: { id: string }) => p.id)).toEqual([created.prices[0].id])
  })

  it('isolates tenants: another organization gets 404 and sees nothing', async () => {
    const a = await createOrg(ctx)
    const b = await createOrg(ctx)
    const p = (await post(a, { name: 'Private', prices: [fixed(100)] })).json()
    expect((await app.inject({ method: 'GET', url: `/v1/products/${p.id}`, headers: b.headers })).statusCode).toBe(404)
    const upd = await app.inject({ method: 'PATCH', url: `/v1/products/${p.id}`, headers: b.headers, payload: { name: 'Stolen' } })
    expect({ status: upd.statusCode, body: upd.json() }).toEqual({ status: 404, body: { error: 'ResourceNotFound', detail: 'Not found' } })
    expect((await app.inject({ method: 'GET', url: '/v1/products/', headers: b.headers })).json().items).toEqual([])
    expect((await app.inject({ method: 'GET', url: `/v1/products/?organization_id=${a.organizationId}`, headers: b.headers })).json().items).toEqual([])
    expect((await app.inject({ method: 'GET', url: `/v1/products/${p.id}`, headers: a.headers })).json().name).toBe('Private')
  })

  it('needs a token, and the right scope', async () => {
    const org = await createOrg(ctx)
    const readOnly = await tokenWithScopes(ctx, org.organizationId, ['products:read'])
    const none = await app.inject({ method: 'GET', url: '/v1/products/' })
    expect({ status: none.statusCode, body: none.json() }).toEqual({ status: 401, body: { error: 'Unauthorized', detail: 'Unauthorized' } })
    const bad = await app.inject({ method: 'GET', url: '/v1/products/', headers: { authorization: 'Bearer polar_oat_nope' } })
    expect(bad.statusCode).toBe(401)
    expect((await app.inject({ method: 'GET', url: '/v1/products/', headers: readOnly })).statusCode).toBe(200)
    const denied = await app.inject({ method: 'POST', url: '/v1/products/', headers: readOnly, payload: { name: 'Nope', prices: [fixed(1)] } })
    expect({ status: denied.statusCode, body: denied.json() }).toEqual({ status: 403, body: { error: 'NotPermitted', detail: 'You do not have the required scope for this operation.' } })
    const writeOnly = await tokenWithScopes(ctx, org.organizationId, ['products:write'])
    expect((await app.inject({ method: 'GET', url: '/v1/products/', headers: writeOnly })).statusCode).toBe(200)
  })
})

function fixedSdk(amount: number) {
  return { amountType: 'fixed' as const, priceAmount: amount }
}
