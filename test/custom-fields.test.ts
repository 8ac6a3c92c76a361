import { describe, expect, it } from 'vitest'
import { createOrg, createTestApp, polarClient, tokenWithScopes, type TestOrg } from './helpers'

describe('custom fields API', async () => {
  const ctx = await createTestApp()
  const { app } = ctx
  const post = (org: TestOrg, payload: unknown) => app.inject({ method: 'POST', url: '/v1/custom-fields/', headers: org.headers, payload: payload as object })

  it('creates every type with its properties, and the SDK parses them', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    const text = await polar.customFields.create({ type: 'text', slug: 'company', name: 'Company', properties: { formLabel: 'Company name', textarea: false, minLength: 2, maxLength: 80 } })
    expect(text).toMatchObject({ type: 'text', slug: 'company', name: 'Company', organizationId: org.organizationId, properties: { formLabel: 'Company name', minLength: 2, maxLength: 80 } })
    const num = await polar.customFields.create({ type: 'number', slug: 'seats', name: 'Seats', properties: { ge: 1, le: 500 } })
    expect(num.properties).toEqual({ ge: 1, le: 500 })
    const date = await polar.customFields.create({ type: 'date', slug: 'birthday', name: 'Birthday', properties: { ge: 0 } })
    expect(date.type).toBe('date')
    const check = await polar.customFields.create({ type: 'checkbox', slug: 'terms', name: 'Terms', properties: { formLabel: 'I accept the terms' }, metadata: { v: 2 } })
    expect(check.metadata).toEqual({ v: 2 })
    const select = await polar.customFields.create({ type: 'select', slug: 'source', name: 'Source', properties: { options: [{ value: 'x', label: 'Twitter' }, { value: 'hn', label: 'Hacker News' }] } })
    expect(select.type === 'select' && select.properties.options).toEqual([{ value: 'x', label: 'Twitter' }, { value: 'hn', label: 'Hacker News' }])

    const list = await polar.customFields.list({})
    expect(list.result.items.map((f) => f.slug)).toEqual(['birthday', 'company', 'seats', 'source', 'terms'])
    expect((await polar.customFields.list({ query: 'ter' })).result.items.map((f) => f.slug)).toEqual(['terms'])
    expect((await polar.customFields.list({ typeFilter: ['number', 'date'] })).result.items.map((f) => f.slug)).toEqual(['birthday', 'seats'])
    const page2 = await polar.customFields.list({ limit: 2, page: 2 })
    expect(page2.result.pagination).toEqual({ totalCount: 5, maxPage: 3 })
    expect(page2.result.items.map((f) => f.slug)).toEqual(['seats', 'source'])
  })

  it('updates, keeps slugs unique, and deletes (detaching from products)', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    const f = await polar.customFields.create({ type: 'text', slug: 'vat', name: 'VAT', properties: {} })
    await polar.customFields.create({ type: 'text', slug: 'taken', name: 'Taken', properties: {} })
    const upd = await polar.customFields.update({ id: f.id, customFieldUpdate: { type: 'text', name: 'VAT number' } })
    expect(upd).toMatchObject({ name: 'VAT number', slug: 'vat' })

    const dup = await post(org, { type: 'text', slug: 'vat', name: 'Again', properties: {} })
    expect({ status: dup.statusCode, body: dup.json() }).toEqual({ status: 422, body: { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'slug'], msg: 'Custom field with this slug already exists.', type: 'value_error', input: 'vat' }] } })
    const rename = await app.inject({ method: 'PATCH', url: `/v1/custom-fields/${f.id}`, headers: org.headers, payload: { type: 'text', slug: 'taken' } })
    expect(rename.json()).toEqual({ error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'slug'], msg: 'Custom field with this slug already exists.', type: 'value_error', input: 'taken' }] })
    const retype = await app.inject({ method: 'PATCH', url: `/v1/custom-fields/${f.id}`, headers: org.headers, payload: { type: 'number' } })
    expect(retype.json()).toEqual({ error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'type'], msg: 'The type of a custom field cannot change (it is "text").', type: 'value_error', input: 'number' }] })

    const product = await polar.products.create({ name: 'With field', prices: [{ amountType: 'fixed', priceAmount: 100 }], attachedCustomFields: [{ customFieldId: f.id, required: true }] })
    expect(product.attachedCustomFields).toHaveLength(1)
    const del = await app.inject({ method: 'DELETE', url: `/v1/custom-fields/${f.id}`, headers: org.headers })
    expect(del.statusCode).toBe(204)
    expect((await app.inject({ method: 'GET', url: `/v1/custom-fields/${f.id}`, headers: org.headers })).statusCode).toBe(404)
    expect((await app.inject({ method: 'DELETE', url: `/v1/custom-fields/${f.id}`, headers: org.headers })).statusCode).toBe(404)
    expect((await polar.products.get({ id: product.id })).attachedCustomFields).toEqual([])
    // the slug is free again
    expect((await post(org, { type: 'text', slug: 'vat', name: 'VAT again', properties: {} })).statusCode).toBe(201)
  })

  it('rejects invalid definitions', async () => {
    const org = await createOrg(ctx)
    const cases: [unknown, unknown][] = [
      [{ type: 'text', slug: 'Bad Slug', name: 'X', properties: {} }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'slug'], msg: "String should match pattern '^[a-z0-9_-]+$'", type: 'string_pattern_mismatch', input: 'Bad Slug' }] }],
      [{ type: 'select', slug: 's', name: 'S', properties: { options: [] } }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'properties', 'options'], msg: 'List should have at least 1 item after validation', type: 'too_short', input: [], ctx: { min_length: 1 } }] }],
      [{ type: 'select', slug: 's', name: 'S', properties: { options: [{ value: 'a', label: 'A' }, { value: 'a', label: 'B' }] } }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'properties', 'options'], msg: 'Option values must be unique: "a" appears twice.', type: 'value_error', input: 'a' }] }],
      [{ type: 'number', slug: 'n', name: 'N', properties: { ge: 10, le: 1 } }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'properties', 'ge'], msg: 'ge must be less than or equal to le.', type: 'value_error', input: 10 }] }],
      [{ type: 'text', slug: 't', name: 'T', properties: { min_length: 10, max_length: 2 } }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'properties', 'min_length'], msg: 'min_length must be less than or equal to max_length.', type: 'value_error', input: 10 }] }],
      [{ type: 'color', slug: 'c', name: 'C', properties: {} }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'type'], msg: `Input tag "color" found using 'type' does not match any of the expected tags: 'text', 'number', 'date', 'checkbox' or 'select'`, type: 'union_tag_invalid', input: 'color', ctx: { discriminator: "'type'", tag: 'color', expected_tags: "'text', 'number', 'date', 'checkbox' or 'select'" } }] }],
      [{ slug: 'c', name: 'C', properties: {} }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'type'], msg: 'Field required', type: 'missing' }] }],
    ]
    for (const [payload, expected] of cases) {
      const res = await post(org, payload)
      expect({ status: res.statusCode, body: res.json() }, JSON.stringify(payload)).toEqual({ status: 422, body: expected })
    }
    expect((await app.inject({ method: 'GET', url: '/v1/custom-fields/', headers: org.headers })).json().pagination.total_count).toBe(0)
  })

  it('isolates tenants and checks scopes', async () => {
    const a = await createOrg(ctx)
    const b = await createOrg(ctx)
    const f = (await post(a, { type: 'text', slug: 'mine', name: 'Mine', properties: {} })).json()
    for (const req of [
      { method: 'GET' as const, url: `/v1/custom-fields/${f.id}` },
      { method: 'PATCH' as const, url: `/v1/custom-fields/${f.id}`, payload: { type: 'text', name: 'Theirs' } },
      { method: 'DELETE' as const, url: `/v1/custom-fields/${f.id}` },
    ]) {
      const res = await app.inject({ ...req, headers: b.headers })
      expect({ status: res.statusCode, body: res.json() }).toEqual({ status: 404, body: { error: 'ResourceNotFound', detail: 'Not found' } })
    }
    expect((await app.inject({ method: 'GET', url: '/v1/custom-fields/', headers: b.headers })).json().items).toEqual([])
    // same slug in another organization is fine
    expect((await post(b, { type: 'text', slug: 'mine', name: 'Also mine', properties: {} })).statusCode).toBe(201)
    // a product cannot attach another organization's field
    const res = await app.inject({ method: 'POST', url: '/v1/products/', headers: b.headers, payload: { name: 'Sneaky', prices: [{ amount_type: 'fixed', price_amount: 1 }], attached_custom_fields: [{ custom_field_id: f.id, required: false }] } })
    expect(res.statusCode).toBe(422)

    const readOnly = await tokenWithScopes(ctx, a.organizationId, ['custom_fields:read'])
    expect((await app.inject({ method: 'GET', url: `/v1/custom-fields/${f.id}`, headers: readOnly })).statusCode).toBe(200)
    expect((await app.inject({ method: 'DELETE', url: `/v1/custom-fields/${f.id}`, headers: readOnly })).statusCode).toBe(403)
    expect((await app.inject({ method: 'GET', url: '/v1/custom-fields/' })).statusCode).toBe(401)
  })
})
