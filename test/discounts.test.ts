import { describe, expect, it } from 'vitest'
import { findDiscountByCode, getDiscountById, getDiscountsByIds, isDiscountRedeemable } from '../src/discounts/service'
import { FixedClock, createOrg, createTestApp, polarClient, tokenWithScopes, type TestOrg } from './helpers'

describe('discounts API', async () => {
  // A clock that ticks one second per discount created, so `created_at` orders are deterministic.
  const clock = new FixedClock('2026-01-01T00:00:00Z')
  const ctx = await createTestApp({ clock })
  const { app } = ctx

  const post = (org: TestOrg, payload: unknown) => {
    clock.advance(1000)
    return app.inject({ method: 'POST', url: '/v1/discounts/', headers: org.headers, payload: payload as object })
  }
  const patch = (org: TestOrg, id: string, payload: unknown) =>
    app.inject({ method: 'PATCH', url: `/v1/discounts/${id}`, headers: org.headers, payload: payload as object })
  const pct = (extra: Record<string, unknown> = {}) => ({ name: 'Ten off', type: 'percentage', basis_points: 1000, duration: 'once', ...extra })
  const createProduct = async (org: TestOrg, name = 'Product') =>
    (await app.inject({ method: 'POST', url: '/v1/products/', headers: org.headers, payload: { name, prices: [{ amount_type: 'fixed', price_amount: 1000 }] } })).json()
  const notFound = { status: 404, body: { error: 'ResourceNotFound', detail: 'Not found' } }

  it('creates the four variants, and the SDK parses every one', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    const product = await polar.products.create({ name: 'Pro', recurringInterval: 'month', prices: [{ amountType: 'fixed', priceAmount: 2900 }] })

    const fixedOnce = await polar.discounts.create({ type: 'fixed', name: 'Five off', duration: 'once', amounts: { eur: 500 }, code: 'FIVE', metadata: { campaign: 'spring' } })
    expect(fixedOnce).toMatchObject({
      type: 'fixed',
      duration: 'once',
      amount: 500,
      currency: 'eur',
      amounts: { eur: 500 },
      name: 'Five off',
      code: 'FIVE',
      startsAt: null,
      endsAt: null,
      maxRedemptions: null,
      redemptionsCount: 0,
      organizationId: org.organizationId,
      metadata: { campaign: 'spring' },
      products: [],
      modifiedAt: null,
    })
    expect(fixedOnce.createdAt).toBeInstanceOf(Date)

    // Polar's deprecated `amount`: currency defaults to usd
    const fixedRepeat = await polar.discounts.create({ type: 'fixed', name: 'Ten off for 3 months', duration: 'repeating', durationInMonths: 3, amount: 1000 })
    expect(fixedRepeat).toMatchObject({ type: 'fixed', duration: 'repeating', durationInMonths: 3, amount: 1000, currency: 'usd', amounts: { usd: 1000 } })

    const startsAt = new Date('2030-01-01T00:00:00Z')
    const endsAt = new Date('2030-02-01T00:00:00Z')
    const pctForever = await polar.discounts.create({
      type: 'percentage',
      name: 'Launch',
      duration: 'forever',
      basisPoints: 2550,
      startsAt,
      endsAt,
      maxRedemptions: 100,
      products: [product.id],
    })
    expect(pctForever).toMatchObject({ type: 'percentage', duration: 'forever', basisPoints: 2550, startsAt, endsAt, maxRedemptions: 100, code: null })
    expect(pctForever.products).toEqual([
      expect.objectContaining({ id: product.id, name: 'Pro', isRecurring: true, recurringInterval: 'month', organizationId: org.organizationId }),
    ])
    expect('prices' in pctForever.products[0]!).toBe(false)

    const pctRepeat = await polar.discounts.create({ type: 'percentage', name: 'Half off a year', duration: 'repeating', durationInMonths: 12, basisPoints: 5000 })
    expect(pctRepeat).toMatchObject({ type: 'percentage', duration: 'repeating', durationInMonths: 12, basisPoints: 5000 })

    for (const d of [fixedOnce, fixedRepeat, pctForever, pctRepeat]) {
      expect(await polar.discounts.get({ id: d.id })).toEqual(d)
    }
  })

  it('updates only the keys sent, and soft-deletes', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    const [a, b] = [await createProduct(org, 'Product A'), await createProduct(org, 'Product B')]
    const d = await polar.discounts.create({ type: 'percentage', name: 'Spring', duration: 'once', basisPoints: 1500, code: 'SPRING', maxRedemptions: 5, metadata: { a: 1 }, products: [a.id] })

    const renamed = await polar.discounts.update({ id: d.id, discountUpdate: { name: 'Spring sale' } })
    expect(renamed).toMatchObject({ name: 'Spring sale', code: 'SPRING', basisPoints: 1500, maxRedemptions: 5, metadata: { a: 1 } })
    expect(renamed.products.map((p) => p.id)).toEqual([a.id])
    expect(renamed.modifiedAt).toBeInstanceOf(Date)

    const changed = await polar.discounts.update({
      id: d.id,
      discountUpdate: { basisPoints: 2000, code: 'spring2', maxRedemptions: null, products: [b.id, a.id, b.id], metadata: { b: true }, endsAt: new Date('2031-01-01T00:00:00Z') },
    })
    expect(changed).toMatchObject({ basisPoints: 2000, code: 'spring2', maxRedemptions: null, metadata: { b: true }, endsAt: new Date('2031-01-01T00:00:00Z') })
    expect(changed.products.map((p) => p.id).sort()).toEqual([a.id, b.id].sort())

    // same type and duration are accepted; other-type fields are ignored (as Polar does)
    const same = await patch(org, d.id, { type: 'percentage', duration: 'once', amount: 5, products: [], code: null })
    expect(same.statusCode).toBe(200)
    expect(same.json()).toMatchObject({ type: 'percentage', basis_points: 2000, products: [], code: null })

    const fixed = (await post(org, { name: 'Fixed', type: 'fixed', amount: 500, duration: 'repeating', duration_in_months: 2 })).json()
    const reFixed = await patch(org, fixed.id, { amounts: { EUR: 700 }, duration_in_months: 6 })
    expect(reFixed.json()).toMatchObject({ amount: 700, currency: 'eur', amounts: { eur: 700 }, duration_in_months: 6 })
    expect((await patch(org, fixed.id, { amount: 900 })).json()).toMatchObject({ amount: 900, currency: 'eur', amounts: { eur: 900 } })
    expect((await patch(org, fixed.id, { currency: 'GBP' })).json()).toMatchObject({ amount: 900, currency: 'gbp', amounts: { gbp: 900 } })

    await polar.discounts.delete({ id: d.id })
    for (const req of [
      { method: 'GET' as const, url: `/v1/discounts/${d.id}` },
      { method: 'PATCH' as const, url: `/v1/discounts/${d.id}`, payload: { name: 'Back' } },
      { method: 'DELETE' as const, url: `/v1/discounts/${d.id}` },
    ]) {
      const res = await app.inject({ ...req, headers: org.headers })
      expect({ status: res.statusCode, body: res.json() }).toEqual(notFound)
    }
    expect((await polar.discounts.list({})).result.items.map((i) => i.id)).toEqual([fixed.id])
  })

  it('lists with pagination arithmetic, sorting and the query filter', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    for (let i = 0; i < 12; i++) {
      const n = String(i).padStart(2, '0')
      await post(org, pct({ name: `Promo ${n}`, code: i % 4 === 0 ? `CODE${11 - i}X` : null, ends_at: `2030-01-${String(28 - i).padStart(2, '0')}T00:00:00Z` }))
    }
    const page1 = await polar.discounts.list({ limit: 5, sorting: ['name'] })
    expect(page1.result.pagination).toEqual({ totalCount: 12, maxPage: 3 })
    expect(page1.result.items.map((d) => d.name)).toEqual(['Promo 00', 'Promo 01', 'Promo 02', 'Promo 03', 'Promo 04'])
    const page3 = await polar.discounts.list({ limit: 5, page: 3, sorting: ['name'] })
    expect(page3.result.items.map((d) => d.name)).toEqual(['Promo 10', 'Promo 11'])
    const beyond = await polar.discounts.list({ limit: 5, page: 4 })
    expect(beyond.result).toEqual({ items: [], pagination: { totalCount: 12, maxPage: 3 } })

    // default: newest first
    expect((await polar.discounts.list({ limit: 2 })).result.items.map((d) => d.name)).toEqual(['Promo 11', 'Promo 10'])
    expect((await polar.discounts.list({ limit: 2, sorting: ['-name'] })).result.items.map((d) => d.name)).toEqual(['Promo 11', 'Promo 10'])
    expect((await polar.discounts.list({ limit: 3, sorting: ['code'] })).result.items.map((d) => d.code)).toEqual(['CODE11X', 'CODE3X', 'CODE7X'])
    expect((await polar.discounts.list({ limit: 2, sorting: ['ends_at'] })).result.items.map((d) => d.name)).toEqual(['Promo 11', 'Promo 10'])
    expect((await polar.discounts.list({ limit: 2, sorting: ['-ends_at'] })).result.items.map((d) => d.name)).toEqual(['Promo 00', 'Promo 01'])

    // query matches the name or the code, case-insensitively; LIKE wildcards are literal
    expect((await polar.discounts.list({ query: 'promo 0', limit: 100 })).result.pagination.totalCount).toBe(10)
    expect((await polar.discounts.list({ query: 'code7' })).result.items.map((d) => d.name)).toEqual(['Promo 04'])
    expect((await polar.discounts.list({ query: '%' })).result.pagination.totalCount).toBe(0)

    const bad = await app.inject({ method: 'GET', url: '/v1/discounts/?sorting=amount', headers: org.headers })
    expect(bad.statusCode).toBe(422)
    expect(bad.json().detail[0].loc).toEqual(['query', 'sorting', 0])
  })

  it('rejects invalid bodies with Polar-style 422s', async () => {
    const org = await createOrg(ctx)
    const other = await createOrg(ctx)
    const foreign = await createProduct(other, 'Not yours')
    const own = await createProduct(org, 'Yours')
    const missingProduct = '0190c8a0-0000-7000-8000-000000000000'
    const cases: [unknown, ({ type: string; msg: string } & Record<string, unknown>)[]][] = [
      [{ name: 'No bp', type: 'percentage', duration: 'once' }, [{ loc: ['body', 'basis_points'], msg: 'Field required', type: 'missing' }]],
      [pct({ basis_points: 10001 }), [{ loc: ['body', 'basis_points'], msg: 'Input should be less than or equal to 10000', type: 'less_than_equal', input: 10001, ctx: { le: 10000 } }]],
      [pct({ basis_points: 0 }), [{ loc: ['body', 'basis_points'], msg: 'Input should be greater than or equal to 1', type: 'greater_than_equal', input: 0, ctx: { ge: 1 } }]],
      [pct({ duration: 'repeating' }), [{ loc: ['body', 'duration_in_months'], msg: 'Field required', type: 'missing' }]],
      [pct({ duration: 'once', duration_in_months: 3 }), [{ loc: ['body', 'duration_in_months'], msg: 'duration_in_months is only allowed when duration is repeating.', type: 'value_error', input: 3 }]],
      [pct({ duration: 'weekly' }), [{ loc: ['body', 'duration'], msg: "Input should be 'once', 'forever' or 'repeating'", type: 'enum', input: 'weekly', ctx: { expected: "'once', 'forever' or 'repeating'" } }]],
      [pct({ starts_at: '2030-02-01T00:00:00Z', ends_at: '2030-02-01T00:00:00Z' }), [{ loc: ['body', 'starts_at'], msg: 'starts_at must be before ends_at.', type: 'value_error', input: '2030-02-01T00:00:00.000Z' }]],
      [pct({ starts_at: 'tomorrow' }), [{ loc: ['body', 'starts_at'], msg: 'Input should be a valid datetime', type: 'datetime_parsing', input: 'tomorrow' }]],
      [pct({ ends_at: '0000-01-01T00:00:00Z' }), [{ loc: ['body', 'ends_at'], msg: 'Input should be a datetime between 1970-01-01 and 9999-12-31 (UTC)', type: 'datetime_parsing', input: '0000-01-01T00:00:00Z' }]],
      [pct({ ends_at: '9999-12-31T23:00:00-02:00' }), [{ loc: ['body', 'ends_at'], msg: 'Input should be a datetime between 1970-01-01 and 9999-12-31 (UTC)', type: 'datetime_parsing', input: '9999-12-31T23:00:00-02:00' }]],
      [pct({ max_redemptions: 0 }), [{ loc: ['body', 'max_redemptions'], msg: 'Input should be greater than or equal to 1', type: 'greater_than_equal', input: 0, ctx: { ge: 1 } }]],
      [pct({ products: [own.id, foreign.id] }), [{ loc: ['body', 'products', 1], msg: 'Product not found.', type: 'value_error', input: foreign.id }]],
      [pct({ products: [missingProduct] }), [{ loc: ['body', 'products', 0], msg: 'Product not found.', type: 'value_error', input: missingProduct }]],
      [pct({ code: 'TEN-OFF' }), [{ loc: ['body', 'code'], msg: 'Value error, Code must contain only alphanumeric characters.', type: 'value_error', input: 'TEN-OFF' }]],
      [pct({ code: 'AB' }), [{ loc: ['body', 'code'], msg: 'Value error, Code must be between 3 and 256 characters long.', type: 'value_error', input: 'AB' }]],
      [pct({ code: 'A'.repeat(257) }), [{ loc: ['body', 'code'], msg: 'Value error, Code must be between 3 and 256 characters long.', type: 'value_error', input: 'A'.repeat(257) }]],
      [pct({ organization_id: other.organizationId }), [{ loc: ['body', 'organization_id'], msg: 'Setting organization_id is disallowed when using an organization token.', type: 'value_error', input: other.organizationId }]],
      [{ name: 'No amount', type: 'fixed', duration: 'once' }, [{ loc: ['body', 'amounts'], msg: 'Field required', type: 'missing' }]],
      [{ name: 'Two', type: 'fixed', duration: 'once', amounts: { usd: 100, eur: 90 } }, [{ loc: ['body', 'amounts'], msg: 'Exactly one currency is supported per discount: send a single {currency: amount} entry.', type: 'value_error', input: { usd: 100, eur: 90 } }]],
      [{ name: 'Neg', type: 'fixed', duration: 'once', amount: -1 }, [{ loc: ['body', 'amount'], msg: 'Input should be greater than or equal to 0', type: 'greater_than_equal', input: -1, ctx: { ge: 0 } }]],
      [{ name: 'Cur', type: 'fixed', duration: 'once', amount: 1, currency: 'dollars' }, [{ loc: ['body', 'currency'], msg: "String should match pattern '^[a-zA-Z]{3}$'", type: 'string_pattern_mismatch', input: 'dollars' }]],
      [{ name: '', type: 'percentage', basis_points: 1, duration: 'once' }, [{ loc: ['body', 'name'], msg: 'String should have at least 1 character', type: 'string_too_short', input: '', ctx: { min_length: 1 } }]],
    ]
    for (const [payload, detail] of cases) {
      const res = await post(org, payload)
      // Polar's model validators answer "Value error, …" from the schema; a plain value_error comes from the service
      const error = detail[0]!.type === 'value_error' && !detail[0]!.msg.startsWith('Value error,') ? 'PolarRequestValidationError' : 'RequestValidationError'
      expect({ status: res.statusCode, body: res.json() }, JSON.stringify(payload)).toEqual({ status: 422, body: { error, detail } })
    }
    expect((await app.inject({ method: 'GET', url: '/v1/discounts/', headers: org.headers })).json().pagination.total_count).toBe(0)
  })

  it('keeps codes unique per organization, case-insensitively, among live discounts', async () => {
    const org = await createOrg(ctx)
    const first = await post(org, pct({ code: 'Summer24' }))
    expect(first.statusCode).toBe(201)
    const dup = await post(org, pct({ code: 'SUMMER24' }))
    expect({ status: dup.statusCode, body: dup.json() }).toEqual({
      status: 422,
      body: { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'code'], msg: 'Discount with this code already exists.', type: 'value_error', input: 'SUMMER24' }] },
    })
    // racing creates: the unique index decides, never a 500
    const raced = await Promise.all(['race', 'RACE', 'Race', 'rAce', 'racE'].map((code) => post(org, pct({ code }))))
    expect(raced.map((r) => r.statusCode).sort()).toEqual([201, 422, 422, 422, 422])
    // surrounding spaces do not make a new code
    expect((await post(org, pct({ code: ' summer24 ' }))).statusCode).toBe(422)

    const second = (await post(org, pct({ code: 'WINTER' }))).json()
    const clash = await patch(org, second.id, { code: 'summer24' })
    expect({ status: clash.statusCode, body: clash.json() }).toEqual({
      status: 422,
      body: { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'code'], msg: 'Discount with this code already exists.', type: 'value_error', input: 'summer24' }] },
    })
    // re-sending its own code (any case) is fine
    expect((await patch(org, second.id, { code: 'winter' })).json().code).toBe('winter')

    // another organization may use the same code
    const other = await createOrg(ctx)
    expect((await post(other, pct({ code: 'summer24' }))).statusCode).toBe(201)

    // after delete, the code is free again
    expect((await app.inject({ method: 'DELETE', url: `/v1/discounts/${first.json().id}`, headers: org.headers })).statusCode).toBe(204)
    const reused = await post(org, pct({ code: 'summer24' }))
    expect(reused.statusCode).toBe(201)
    expect(reused.json().code).toBe('summer24')
  })

  it('guards updates: type and duration are fixed, redeemed values are frozen, dates stay ordered', async () => {
    const org = await createOrg(ctx)
    const d = (await post(org, pct({ starts_at: '2030-01-10T00:00:00Z', max_redemptions: 10 }))).json()
    const f = (await post(org, { name: 'Fixed', type: 'fixed', duration: 'forever', amount: 500 })).json()
    const err = (loc: (string | number)[], msg: string, input: unknown) => ({ status: 422, body: { error: 'PolarRequestValidationError', detail: [{ loc, msg, type: 'value_error', input }] } })
    const expectPatch = async (id: string, payload: unknown, expected: unknown) => {
      const res = await patch(org, id, payload)
      expect({ status: res.statusCode, body: res.json() }, JSON.stringify(payload)).toEqual(expected)
    }

    await expectPatch(d.id, { type: 'fixed', amount: 100 }, err(['body', 'type'], 'Type cannot be changed.', 'fixed'))
    await expectPatch(d.id, { duration: 'forever' }, err(['body', 'duration'], 'Duration cannot be changed.', 'forever'))
    await expectPatch(d.id, { duration_in_months: 3 }, err(['body', 'duration_in_months'], 'duration_in_months is only allowed when duration is repeating.', 3))
    await expectPatch(d.id, { ends_at: '2030-01-01T00:00:00Z' }, err(['body', 'ends_at'], 'starts_at must be before ends_at.', '2030-01-01T00:00:00.000Z'))
    await expectPatch(d.id, { starts_at: '2030-03-01T00:00:00Z', ends_at: '2030-02-01T00:00:00Z' }, err(['body', 'starts_at'], 'starts_at must be before ends_at.', '2030-03-01T00:00:00.000Z'))
    // clearing the start makes any end valid
    expect((await patch(org, d.id, { starts_at: null, ends_at: '2030-01-01T00:00:00Z' })).statusCode).toBe(200)

    // redemptions are server-owned: a client cannot set them, so simulate checkouts in the database
    expect((await patch(org, d.id, { redemptions_count: 7 })).json().redemptions_count).toBe(0)
    await ctx.deps.db.updateTable('discounts').set({ redemptions_count: 3 }).where('id', 'in', [d.id, f.id]).execute()

    const frozen = 'This field cannot be changed because the discount has already been redeemed.'
    await expectPatch(d.id, { basis_points: 2000 }, err(['body', 'basis_points'], frozen, 2000))
    await expectPatch(f.id, { amount: 400 }, err(['body', 'amount'], frozen, 400))
    await expectPatch(f.id, { amounts: { usd: 400 } }, err(['body', 'amounts'], frozen, { usd: 400 }))
    await expectPatch(f.id, { currency: 'eur' }, err(['body', 'currency'], frozen, 'eur'))
    await expectPatch(
      d.id,
      { max_redemptions: 2 },
      err(['body', 'max_redemptions'], 'max_redemptions cannot be lower than the number of redemptions so far (3).', 2),
    )
    // unchanged values and everything else can still be updated
    const ok = await patch(org, f.id, { amount: 500, currency: 'usd', name: 'Still fixed', max_redemptions: 3 })
    expect(ok.json()).toMatchObject({ name: 'Still fixed', amount: 500, redemptions_count: 3, max_redemptions: 3 })
    expect((await patch(org, d.id, { basis_points: 1000, name: 'Renamed' })).json()).toMatchObject({ name: 'Renamed', basis_points: 1000 })
  })

  it('enforces metadata limits', async () => {
    const org = await createOrg(ctx)
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]))
    const r1 = await post(org, pct({ metadata: tooMany }))
    expect({ status: r1.statusCode, body: r1.json() }).toEqual({
      status: 422,
      body: { error: 'RequestValidationError', detail: [{ loc: ['body', 'metadata'], msg: 'Dictionary should have at most 50 items', type: 'too_long', input: tooMany }] },
    })
    // the key's message comes from the shared MetadataInput; only where it points is asserted here
    const r2 = await post(org, pct({ metadata: { ['k'.repeat(41)]: 'v' } }))
    expect(r2.statusCode).toBe(422)
    expect(r2.json().detail).toEqual([expect.objectContaining({ loc: ['body', 'metadata', 'k'.repeat(41)] })])
    const r3 = await post(org, pct({ metadata: { k: 'v'.repeat(501) } }))
    expect({ status: r3.statusCode, body: r3.json() }).toEqual({
      status: 422,
      body: { error: 'RequestValidationError', detail: [{ loc: ['body', 'metadata', 'k'], msg: 'String should have at most 500 characters', type: 'string_too_long', input: 'v'.repeat(501), ctx: { max_length: 500 } }] },
    })
    const atLimit = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${'k'.repeat(38)}${String(i).padStart(2, '0')}`, 'v'.repeat(500)]))
    const r4 = await post(org, pct({ metadata: atLimit }))
    expect(r4.statusCode).toBe(201)
    expect(r4.json().metadata).toEqual(atLimit)
    const r5 = await patch(org, r4.json().id, { metadata: { k: 'v'.repeat(501) } })
    expect(r5.statusCode).toBe(422)
  })

  it('isolates tenants: another organization gets 404 and sees nothing', async () => {
    const a = await createOrg(ctx)
    const b = await createOrg(ctx)
    const d = (await post(a, pct({ code: 'MINE' }))).json()
    for (const req of [
      { method: 'GET' as const, url: `/v1/discounts/${d.id}` },
      { method: 'PATCH' as const, url: `/v1/discounts/${d.id}`, payload: { name: 'Stolen' } },
      { method: 'DELETE' as const, url: `/v1/discounts/${d.id}` },
    ]) {
      const res = await app.inject({ ...req, headers: b.headers })
      expect({ status: res.statusCode, body: res.json() }).toEqual(notFound)
    }
    expect((await app.inject({ method: 'GET', url: '/v1/discounts/', headers: b.headers })).json()).toEqual({ items: [], pagination: { total_count: 0, max_page: 0 } })
    const filtered = await app.inject({ method: 'GET', url: `/v1/discounts/?organization_id=${a.organizationId}`, headers: b.headers })
    expect(filtered.json().items).toEqual([])
    // a's discount is untouched
    expect((await app.inject({ method: 'GET', url: `/v1/discounts/${d.id}`, headers: a.headers })).json()).toMatchObject({ name: 'Ten off', code: 'MINE' })
    const own = await app.inject({ method: 'GET', url: `/v1/discounts/?organization_id=${a.organizationId}`, headers: a.headers })
    expect(own.json().items.map((i: { id: string }) => i.id)).toEqual([d.id])
  })

  it('needs a token, and the discounts scope', async () => {
    const org = await createOrg(ctx)
    const d = (await post(org, pct())).json()
    const none = await app.inject({ method: 'GET', url: '/v1/discounts/' })
    expect({ status: none.statusCode, body: none.json() }).toEqual({ status: 401, body: { error: 'Unauthorized', detail: 'Unauthorized' } })
    const noneCreate = await app.inject({ method: 'POST', url: '/v1/discounts/', payload: pct() })
    expect(noneCreate.statusCode).toBe(401)

    const productsOnly = await tokenWithScopes(ctx, org.organizationId, ['products:read'])
    const denied = { status: 403, body: { error: 'NotPermitted', detail: 'You do not have the required scope for this operation.' } }
    for (const req of [
      { method: 'GET' as const, url: '/v1/discounts/' },
      { method: 'GET' as const, url: `/v1/discounts/${d.id}` },
      { method: 'POST' as const, url: '/v1/discounts/', payload: pct() },
      { method: 'PATCH' as const, url: `/v1/discounts/${d.id}`, payload: { name: 'x' } },
      { method: 'DELETE' as const, url: `/v1/discounts/${d.id}` },
    ]) {
      const res = await app.inject({ ...req, headers: productsOnly })
      expect({ status: res.statusCode, body: res.json() }, `${req.method} ${req.url}`).toEqual(denied)
    }
    const readOnly = await tokenWithScopes(ctx, org.organizationId, ['discounts:read'])
    expect((await app.inject({ method: 'GET', url: `/v1/discounts/${d.id}`, headers: readOnly })).statusCode).toBe(200)
    expect((await app.inject({ method: 'DELETE', url: `/v1/discounts/${d.id}`, headers: readOnly })).statusCode).toBe(403)
    const writeOnly = await tokenWithScopes(ctx, org.organizationId, ['discounts:write'])
    expect((await app.inject({ method: 'GET', url: '/v1/discounts/', headers: writeOnly })).statusCode).toBe(200)
  })

  it('finds live discounts by code (any case) and id for checkouts', async () => {
    const org = await createOrg(ctx)
    const other = await createOrg(ctx)
    const d = (await post(org, pct({ code: 'Launch50', max_redemptions: 1 }))).json()
    const db = ctx.deps.db

    expect(await findDiscountByCode(db, org.organizationId, 'launch50')).toEqual(d)
    expect(await findDiscountByCode(db, org.organizationId, 'LAUNCH50')).toEqual(d)
    expect(await findDiscountByCode(db, org.organizationId, 'launch5')).toBeUndefined()
    expect(await findDiscountByCode(db, other.organizationId, 'launch50')).toBeUndefined()
    expect(await getDiscountById(db, org.organizationId, d.id)).toEqual(d)
    expect(await getDiscountById(db, other.organizationId, d.id)).toBeUndefined()
    const e = (await post(org, pct({ name: 'Second' }))).json()
    expect((await getDiscountsByIds(db, org.organizationId, [e.id, d.id, e.id, '0190c8a0-0000-7000-8000-000000000000'])).map((x) => x.id)).toEqual([e.id, d.id])
    expect(await getDiscountsByIds(db, other.organizationId, [d.id])).toEqual([])

    expect(isDiscountRedeemable(d, new Date())).toBe(true)
    expect(isDiscountRedeemable({ ...d, redemptions_count: 1 }, new Date())).toBe(false)
    expect(isDiscountRedeemable({ ...d, starts_at: '2999-01-01T00:00:00Z' }, new Date())).toBe(false)
    expect(isDiscountRedeemable({ ...d, ends_at: '2000-01-01T00:00:00Z' }, new Date())).toBe(false)

    await app.inject({ method: 'DELETE', url: `/v1/discounts/${d.id}`, headers: org.headers })
    expect(await findDiscountByCode(db, org.organizationId, 'launch50')).toBeUndefined()
    expect(await getDiscountById(db, org.organizationId, d.id)).toBeUndefined()
  })

  it('documents every discount route in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
    expect(Object.keys(doc.paths['/v1/discounts'] ?? {}).sort()).toEqual(['get', 'post'])
    expect(Object.keys(doc.paths['/v1/discounts/{id}'] ?? {}).sort()).toEqual(['delete', 'get', 'patch'])
  })
})
