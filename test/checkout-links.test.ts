import type { Polar } from '@polar-sh/sdk'
import { describe, expect, it } from 'vitest'
import { FixedClock, createOrg, createTestApp, polarClient, tokenWithScopes, type TestOrg } from './helpers'

describe('checkout links API', async () => {
  // Time stands still unless a test advances it, so `created_at` orders are deterministic.
  const clock = new FixedClock('2026-05-01T09:00:00Z')
  const ctx = await createTestApp({ clock })
  const { app } = ctx

  const notFound = { status: 404, body: { error: 'ResourceNotFound', detail: 'Not found' } }
  const MISSING_ID = '0190c8a0-0000-7000-8000-000000000000'

  const inject = (org: Pick<TestOrg, 'headers'> | undefined, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    app.inject({ method, url, headers: org?.headers ?? {}, ...(payload !== undefined ? { payload: payload as object } : {}) })
  const answer = (res: { statusCode: number; body: string }) => ({ status: res.statusCode, body: res.body ? JSON.parse(res.body) : null })

  async function seedProduct(org: TestOrg, body: Record<string, unknown> = {}): Promise<{ id: string; prices: { id: string }[] }> {
    const res = await inject(org, 'POST', '/v1/products/', { name: 'Sticker Pack', prices: [{ amount_type: 'fixed', price_amount: 1200 }], ...body })
    expect(res.statusCode, res.body).toBe(201)
    return res.json()
  }
  const monthly = (name = 'Pro Monthly', extra: Record<string, unknown> = {}) => ({ name, recurring_interval: 'month', prices: [{ amount_type: 'fixed', price_amount: 2900 }], ...extra })
  async function seedDiscount(org: TestOrg, body: Record<string, unknown> = {}): Promise<{ id: string }> {
    const res = await inject(org, 'POST', '/v1/discounts/', { name: 'Ten off', type: 'percentage', basis_points: 1000, duration: 'once', ...body })
    expect(res.statusCode, res.body).toBe(201)
    return res.json()
  }
  async function createLink(org: TestOrg, body: Record<string, unknown>): Promise<{ id: string; client_secret: string; url: string }> {
    clock.advance(1000)
    const res = await inject(org, 'POST', '/v1/checkout-links/', { payment_processor: 'stripe', ...body })
    expect(res.statusCode, res.body).toBe(201)
    return res.json()
  }
  const linkCount = async (org: TestOrg) => (await inject(org, 'GET', '/v1/checkout-links/')).json().pagination.total_count as number
  const archive = (org: TestOrg, productId: string, is_archived = true) => inject(org, 'PATCH', `/v1/products/${productId}`, { is_archived })

  it('creates a link with ordered products and every setting, and the SDK parses it', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    const oneTime = await seedProduct(org, { name: 'Sticker Pack' })
    const pro = await seedProduct(org, monthly('Pro Monthly', { trial_interval: 'day', trial_interval_count: 7 }))
    const team = await seedProduct(org, monthly('Team Monthly'))
    const discount = await seedDiscount(org, { name: 'Launch', basis_points: 2000, code: 'LAUNCH' })

    clock.advance(1000)
    const link = await polar.checkoutLinks.create({
      paymentProcessor: 'stripe',
      products: [team.id, oneTime.id, pro.id],
      discountId: discount.id,
      requireBillingAddress: true,
      successUrl: 'https://shop.example/thanks?checkout_id={CHECKOUT_ID}',
      returnUrl: 'https://shop.example/pricing',
      trialInterval: 'month',
      trialIntervalCount: 2,
      label: 'Spring campaign',
      metadata: { campaign: 'spring', wave: 2, vip: true },
    })
    expect(link).toMatchObject({
      paymentProcessor: 'stripe',
      organizationId: org.organizationId,
      createdAt: clock.now(),
      modifiedAt: null,
      discountId: discount.id,
      allowDiscountCodes: true, // the default
      requireBillingAddress: true,
      successUrl: 'https://shop.example/thanks?checkout_id={CHECKOUT_ID}', // the placeholder is kept on the link
      returnUrl: 'https://shop.example/pricing',
      trialInterval: 'month',
      trialIntervalCount: 2,
      label: 'Spring campaign',
      seats: null,
      metadata: { campaign: 'spring', wave: 2, vip: true },
    })
    expect(link.products.map((p) => p.id)).toEqual([team.id, oneTime.id, pro.id])
    expect(link.products[2]).toMatchObject({ name: 'Pro Monthly', isRecurring: true, recurringInterval: 'month', trialInterval: 'day', trialIntervalCount: 7 })
    expect(link.products[1]!.prices).toEqual([expect.objectContaining({ amountType: 'fixed', priceAmount: 1200, priceCurrency: 'usd' })])
    expect(link.discount).toMatchObject({ id: discount.id, name: 'Launch', type: 'percentage', basisPoints: 2000, code: 'LAUNCH' })

    // The secret: prefix + at least 32 url-safe random characters; the URL is built from it.
    expect(link.clientSecret).toMatch(/^polar_cl_[A-Za-z0-9_-]{32,}$/)
    expect(link.url).toBe(`http://kassa.test/buy/${link.clientSecret}`)
    expect(await polar.checkoutLinks.get({ id: link.id })).toEqual(link)

    // Defaults, and every new link gets its own secret.
    const plain = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [oneTime.id] })
    expect(plain).toMatchObject({
      allowDiscountCodes: true,
      requireBillingAddress: false,
      discountId: null,
      discount: null,
      successUrl: null,
      returnUrl: null,
      label: null,
      trialInterval: null,
      trialIntervalCount: null,
      metadata: {},
    })
    expect(plain.clientSecret).not.toBe(link.clientSecret)
    expect(plain.clientSecret.slice('polar_cl_'.length)).not.toBe(link.clientSecret.slice('polar_cl_'.length))
    const noCodes = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [oneTime.id], allowDiscountCodes: false })
    expect(noCodes.allowDiscountCodes).toBe(false)
  })

  it('accepts the deprecated product_id and product_price_id forms', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    const product = await seedProduct(org)
    const byProduct = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', productId: product.id })
    expect(byProduct.products.map((p) => p.id)).toEqual([product.id])
    const byPrice = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', productPriceId: product.prices[0]!.id })
    expect(byPrice.products.map((p) => p.id)).toEqual([product.id])
    // `products` wins when both are sent
    const other = await seedProduct(org, { name: 'Other' })
    const both = await createLink(org, { products: [other.id], product_id: product.id })
    expect((both as unknown as { products: { id: string }[] }).products.map((p) => p.id)).toEqual([other.id])
  })

  it('never lets a client set server-owned fields', async () => {
    const org = await createOrg(ctx)
    const product = await seedProduct(org)
    const link = await createLink(org, {
      products: [product.id],
      id: MISSING_ID,
      client_secret: 'polar_cl_chosen_by_the_client',
      url: 'https://evil.example/',
      created_at: '2001-01-01T00:00:00Z',
      organization_id: MISSING_ID,
    })
    expect(link.id).not.toBe(MISSING_ID)
    expect(link.client_secret).not.toBe('polar_cl_chosen_by_the_client')
    expect(link).toMatchObject({ url: `http://kassa.test/buy/${link.client_secret}`, created_at: clock.now().toISOString(), organization_id: org.organizationId })
    const patched = await inject(org, 'PATCH', `/v1/checkout-links/${link.id}`, { client_secret: 'polar_cl_x', id: MISSING_ID })
    expect(patched.json()).toMatchObject({ id: link.id, client_secret: link.client_secret })
  })

  it('lists with the product filter, pagination arithmetic and sorting', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    const a = await seedProduct(org, { name: 'Product A' })
    const b = await seedProduct(org, { name: 'Product B' })
    const c = await seedProduct(org, { name: 'Product C' })
    const ids: string[] = []
    for (let i = 0; i < 12; i++) {
      // A on every link, B on even ones, C only on the last
      const products = [a.id, ...(i % 2 === 0 ? [b.id] : []), ...(i === 11 ? [c.id] : [])]
      const link = await createLink(org, { products, label: `Link ${String((i * 5) % 12).padStart(2, '0')}`, allow_discount_codes: i % 3 !== 0, success_url: `https://shop.example/${String.fromCharCode(97 + ((i * 7) % 12))}` })
      ids.push(link.id)
    }

    // default sorting: oldest first, Polar's default for links (server/polar/checkout_link/sorting.py:
    // ["created_at"]; SDK 1.x sends it explicitly, 0.49 sends nothing: both must get the same order)
    const page1 = await polar.checkoutLinks.list({ limit: 5 })
    expect(page1.result.pagination).toEqual({ totalCount: 12, maxPage: 3 })
    expect(page1.result.items.map((l) => l.id)).toEqual(ids.slice(0, 5))
    const page3 = await polar.checkoutLinks.list({ limit: 5, page: 3 })
    expect(page3.result.items.map((l) => l.id)).toEqual([ids[10], ids[11]])
    const newest = await polar.checkoutLinks.list({ limit: 5, sorting: ['-created_at'] })
    expect(newest.result.items.map((l) => l.id)).toEqual(ids.slice().reverse().slice(0, 5))
    const beyond = await polar.checkoutLinks.list({ limit: 5, page: 4 })
    expect(beyond.result).toEqual({ items: [], pagination: { totalCount: 12, maxPage: 3 } })
    expect((await polar.checkoutLinks.list({ limit: 12 })).result.pagination).toEqual({ totalCount: 12, maxPage: 1 })
    expect((await polar.checkoutLinks.list({ limit: 11 })).result.pagination).toEqual({ totalCount: 12, maxPage: 2 })
    const capped = await inject(org, 'GET', '/v1/checkout-links/?limit=1000')
    expect(capped.json().items).toHaveLength(12)
    expect(capped.json().pagination).toEqual({ total_count: 12, max_page: 1 })

    const created = await polar.checkoutLinks.list({ limit: 100, sorting: ['created_at'] })
    expect(created.result.items.map((l) => l.id)).toEqual(ids)
    const byLabel = await polar.checkoutLinks.list({ limit: 3, sorting: ['label'] })
    expect(byLabel.result.items.map((l) => l.label)).toEqual(['Link 00', 'Link 01', 'Link 02'])
    const byLabelDesc = await polar.checkoutLinks.list({ limit: 3, sorting: ['-label'] })
    expect(byLabelDesc.result.items.map((l) => l.label)).toEqual(['Link 11', 'Link 10', 'Link 09'])
    const byUrl = await polar.checkoutLinks.list({ limit: 2, sorting: ['-success_url'] })
    expect(byUrl.result.items.map((l) => l.successUrl)).toEqual(['https://shop.example/l', 'https://shop.example/k'])
    // several criteria apply in order
    const multi = await polar.checkoutLinks.list({ limit: 100, sorting: ['allow_discount_codes', '-label'] })
    const expected = created.result.items
      .slice()
      .sort((x, y) => Number(x.allowDiscountCodes) - Number(y.allowDiscountCodes) || (y.label ?? '').localeCompare(x.label ?? ''))
      .map((l) => l.id)
    expect(multi.result.items.map((l) => l.id)).toEqual(expected)
    const badSort = await inject(org, 'GET', '/v1/checkout-links/?sorting=price')
    expect(badSort.statusCode).toBe(422)

    expect((await polar.checkoutLinks.list({ productId: a.id })).result.pagination.totalCount).toBe(12)
    const withB = await polar.checkoutLinks.list({ productId: b.id, limit: 100, sorting: ['created_at'] })
    expect(withB.result.items.map((l) => l.id)).toEqual(ids.filter((_, i) => i % 2 === 0))
    const withC = await polar.checkoutLinks.list({ productId: c.id })
    expect(withC.result.items.map((l) => l.id)).toEqual([ids[11]])
    expect(withC.result.items[0]!.products.map((p) => p.id)).toEqual([a.id, c.id]) // every product, not only the matching one
    // several product ids: links with any of them, each once
    expect((await polar.checkoutLinks.list({ productId: [b.id, c.id] })).result.pagination.totalCount).toBe(7)
    expect((await polar.checkoutLinks.list({ productId: MISSING_ID })).result).toEqual({ items: [], pagination: { totalCount: 0, maxPage: 0 } })

    expect((await polar.checkoutLinks.list({ organizationId: org.organizationId })).result.pagination.totalCount).toBe(12)
    expect((await polar.checkoutLinks.list({ organizationId: MISSING_ID })).result.pagination.totalCount).toBe(0)
  })

  it('updates only the keys sent, and null clears', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    const a = await seedProduct(org, { name: 'Product A' })
    const pro = await seedProduct(org, monthly())
    const d1 = await seedDiscount(org, { name: 'First' })
    const d2 = await seedDiscount(org, { name: 'Second', basis_points: 2500 })
    clock.advance(1000)
    const link = await polar.checkoutLinks.create({
      paymentProcessor: 'stripe',
      products: [a.id, pro.id],
      discountId: d1.id,
      successUrl: 'https://shop.example/ok?c={CHECKOUT_ID}',
      returnUrl: 'https://shop.example/back',
      trialInterval: 'week',
      trialIntervalCount: 2,
      label: 'Original',
      metadata: { a: '1' },
    })

    clock.advance(60_000)
    const relabelled = await polar.checkoutLinks.update({ id: link.id, checkoutLinkUpdate: { label: 'Renamed' } })
    expect(relabelled).toEqual({ ...link, label: 'Renamed', modifiedAt: clock.now() })

    clock.advance(60_000)
    const reordered = await polar.checkoutLinks.update({ id: link.id, checkoutLinkUpdate: { products: [pro.id, a.id], discountId: d2.id, allowDiscountCodes: false, requireBillingAddress: true } })
    expect(reordered.products.map((p) => p.id)).toEqual([pro.id, a.id])
    expect(reordered).toMatchObject({ discountId: d2.id, discount: { id: d2.id, name: 'Second' }, allowDiscountCodes: false, requireBillingAddress: true, label: 'Renamed', metadata: { a: '1' }, trialInterval: 'week' })

    // Only one half of the trial: the other half is kept.
    const longer = await polar.checkoutLinks.update({ id: link.id, checkoutLinkUpdate: { trialIntervalCount: 3 } })
    expect(longer).toMatchObject({ trialInterval: 'week', trialIntervalCount: 3 })

    // null clears the optional settings; a null boolean or product list changes nothing.
    const raw = await inject(org, 'PATCH', `/v1/checkout-links/${link.id}`, {
      label: null,
      success_url: null,
      return_url: null,
      discount_id: null,
      trial_interval: null,
      trial_interval_count: null,
      allow_discount_codes: null,
      require_billing_address: null,
      products: null,
    })
    expect(raw.statusCode, raw.body).toBe(200)
    expect(raw.json()).toMatchObject({
      label: null,
      success_url: null,
      return_url: null,
      discount_id: null,
      discount: null,
      trial_interval: null,
      trial_interval_count: null,
      allow_discount_codes: false,
      require_billing_address: true,
      metadata: { a: '1' },
      client_secret: link.clientSecret,
    })
    expect(raw.json().products.map((p: { id: string }) => p.id)).toEqual([pro.id, a.id])

    const meta = await polar.checkoutLinks.update({ id: link.id, checkoutLinkUpdate: { metadata: { b: 2 } } })
    expect(meta.metadata).toEqual({ b: 2 }) // replaced, not merged
    const empty = await inject(org, 'PATCH', `/v1/checkout-links/${link.id}`, {})
    expect(empty.statusCode).toBe(200)
    expect(await polar.checkoutLinks.get({ id: link.id })).toEqual({ ...meta, modifiedAt: clock.now() })

    // Business rules hold on update too, and a refused update changes nothing.
    const other = await createOrg(ctx, 'Other Org')
    const foreign = await seedProduct(other)
    const before = (await inject(org, 'GET', `/v1/checkout-links/${link.id}`)).json()
    const cases: [unknown, unknown][] = [
      [{ products: [foreign.id] }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'products', 0], msg: 'Product does not exist.', type: 'value_error', input: foreign.id }] }],
      [{ discount_id: MISSING_ID }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'discount_id'], msg: 'Discount does not exist.', type: 'value_error', input: MISSING_ID }] }],
      [{ success_url: 'javascript:alert(1)' }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'success_url'], msg: 'Input should be a valid URL with an http or https scheme', type: 'url_scheme', input: 'javascript:alert(1)' }] }],
      [{ products: [a.id], trial_interval: 'month', trial_interval_count: 1 }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'trial_interval'], msg: 'A trial can only be set on a link with recurring products.', type: 'value_error', input: 'month' }] }],
      [{ trial_interval: 'month' }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'trial_interval_count'], msg: 'trial_interval and trial_interval_count must be set together.', type: 'value_error' }] }],
      [{ products: [] }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'products'], msg: 'List should have at least 1 item after validation', type: 'too_short', input: [], ctx: { min_length: 1 } }] }],
    ]
    for (const [payload, expected] of cases) {
      const res = await inject(org, 'PATCH', `/v1/checkout-links/${link.id}`, payload)
      expect(answer(res), JSON.stringify(payload)).toEqual({ status: 422, body: expected })
    }
    expect((await inject(org, 'GET', `/v1/checkout-links/${link.id}`)).json()).toEqual(before)
    expect(answer(await inject(org, 'PATCH', `/v1/checkout-links/${MISSING_ID}`, { label: 'x' }))).toEqual(notFound)
  })

  it('deletes softly: 404 afterwards, and the link URL shows the not-available page', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    const product = await seedProduct(org)
    const link = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [product.id] })
    const keep = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [product.id] })
    // a session opened before the delete keeps working
    const visit = await app.inject({ method: 'GET', url: `/buy/${link.clientSecret}` })
    expect(visit.statusCode).toBe(307)
    const sessionSecret = new URL(visit.headers.location as string).pathname.split('/').pop()!

    await polar.checkoutLinks.delete({ id: link.id })
    expect(answer(await inject(org, 'GET', `/v1/checkout-links/${link.id}`))).toEqual(notFound)
    expect(answer(await inject(org, 'PATCH', `/v1/checkout-links/${link.id}`, { label: 'x' }))).toEqual(notFound)
    expect(answer(await inject(org, 'DELETE', `/v1/checkout-links/${link.id}`))).toEqual(notFound)
    const list = await polar.checkoutLinks.list({})
    expect(list.result.items.map((l) => l.id)).toEqual([keep.id])
    expect(list.result.pagination.totalCount).toBe(1)

    const page = await app.inject({ method: 'GET', url: `/buy/${link.clientSecret}` })
    expect(page.statusCode).toBe(404)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.body).toContain('This link is not available')
    const redirect = await app.inject({ method: 'GET', url: `/v1/checkout-links/${link.clientSecret}/redirect` })
    expect(answer(redirect)).toEqual(notFound)

    const session = await app.inject({ method: 'GET', url: `/v1/checkouts/client/${sessionSecret}` })
    expect(session.statusCode).toBe(200)
    expect(session.json().status).toBe('open')
    // the other link is untouched
    expect((await app.inject({ method: 'GET', url: `/buy/${keep.clientSecret}` })).statusCode).toBe(307)
  })

  it('rejects invalid bodies with Polar-style 422s, writing nothing', async () => {
    const org = await createOrg(ctx)
    const other = await createOrg(ctx, 'Other Org')
    const product = await seedProduct(org)
    const archived = await seedProduct(org, { name: 'Old Product' })
    expect((await archive(org, archived.id)).statusCode).toBe(200)
    const foreignProduct = await seedProduct(other)
    const foreignDiscount = await seedDiscount(other)
    const base = { payment_processor: 'stripe', products: [product.id] }
    const badUrl = (field: string, input: string) => ({ error: 'RequestValidationError', detail: [{ loc: ['body', field], msg: 'Input should be a valid URL with an http or https scheme', type: 'url_scheme', input }] })
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]))
    const longKey = 'k'.repeat(41)
    const longValue = 'v'.repeat(501)

    const cases: [string, Record<string, unknown>, unknown][] = [
      ['another payment processor', { ...base, payment_processor: 'paypal' }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'payment_processor'], msg: "Input should be 'stripe'", type: 'literal_error', input: 'paypal', ctx: { expected: "'stripe'" } }] }],
      ['no products at all', { payment_processor: 'stripe' }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'products'], msg: 'Field required', type: 'missing' }] }],
      ['an empty product list', { ...base, products: [] }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'products'], msg: 'List should have at least 1 item after validation', type: 'too_short', input: [], ctx: { min_length: 1 } }] }],
      ['a product that is not a UUID', { ...base, products: ['prod_1'] }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'products', 0], msg: 'Input should be a valid UUID', type: 'uuid_parsing', input: 'prod_1' }] }],
      ['a product listed twice', { ...base, products: [product.id, product.id] }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'products', 1], msg: 'A product can only be listed once.', type: 'value_error', input: product.id }] }],
      ['a product of another organization', { ...base, products: [product.id, foreignProduct.id] }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'products', 1], msg: 'Product does not exist.', type: 'value_error', input: foreignProduct.id }] }],
      ['an unknown product', { ...base, products: [MISSING_ID] }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'products', 0], msg: 'Product does not exist.', type: 'value_error', input: MISSING_ID }] }],
      ['an archived product', { ...base, products: [archived.id] }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'products', 0], msg: 'Product is archived.', type: 'value_error', input: archived.id }] }],
      ['a foreign product by the deprecated product_id', { payment_processor: 'stripe', product_id: foreignProduct.id }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'products', 0], msg: 'Product does not exist.', type: 'value_error', input: foreignProduct.id }] }],
      ['an unknown price by the deprecated product_price_id', { payment_processor: 'stripe', product_price_id: MISSING_ID }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'product_price_id'], msg: 'Product price does not exist.', type: 'value_error', input: MISSING_ID }] }],
      ['an unknown discount', { ...base, discount_id: MISSING_ID }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'discount_id'], msg: 'Discount does not exist.', type: 'value_error', input: MISSING_ID }] }],
      ['a discount of another organization', { ...base, discount_id: foreignDiscount.id }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'discount_id'], msg: 'Discount does not exist.', type: 'value_error', input: foreignDiscount.id }] }],
      ['a discount id that is not a UUID', { ...base, discount_id: 'LAUNCH' }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'discount_id'], msg: 'Input should be a valid UUID', type: 'uuid_parsing', input: 'LAUNCH' }] }],
      ...(['success_url', 'return_url'] as const).flatMap((field): [string, Record<string, unknown>, unknown][] =>
        ['javascript:alert(1)', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==', '//evil.example', 'ftp://x', 'JaVaScRiPt:alert(1)', 'shop.example/thanks'].map((url) => [`${url} as ${field}`, { ...base, [field]: url }, badUrl(field, url)]),
      ),
      ['a trial on one-time products only', { ...base, trial_interval: 'month', trial_interval_count: 1 }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'trial_interval'], msg: 'A trial can only be set on a link with recurring products.', type: 'value_error', input: 'month' }] }],
      ['trial_interval without a count', { ...base, trial_interval: 'month' }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'trial_interval_count'], msg: 'trial_interval and trial_interval_count must be set together.', type: 'value_error' }] }],
      ['a trial count without an interval', { ...base, trial_interval_count: 3 }, { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'trial_interval'], msg: 'trial_interval and trial_interval_count must be set together.', type: 'value_error' }] }],
      ['an unknown trial interval', { ...base, trial_interval: 'fortnight', trial_interval_count: 1 }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'trial_interval'], msg: "Input should be 'day', 'week', 'month' or 'year'", type: 'enum', input: 'fortnight', ctx: { expected: "'day', 'week', 'month' or 'year'" } }] }],
      ['51 metadata keys', { ...base, metadata: tooMany }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'metadata'], msg: 'Dictionary should have at most 50 items', type: 'too_long', input: tooMany }] }],
      ['a 41-character metadata key', { ...base, metadata: { [longKey]: 'v' } }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'metadata', longKey], msg: 'String should have at most 40 characters', type: 'string_too_long', input: longKey, ctx: { max_length: 40 } }] }],
      ['a 501-character metadata value', { ...base, metadata: { k: longValue } }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'metadata', 'k'], msg: 'String should have at most 500 characters', type: 'string_too_long', input: longValue, ctx: { max_length: 500 } }] }],
      ['a 257-character label', { ...base, label: 'l'.repeat(257) }, { error: 'RequestValidationError', detail: [{ loc: ['body', 'label'], msg: 'String should have at most 256 characters', type: 'string_too_long', input: 'l'.repeat(257), ctx: { max_length: 256 } }] }],
    ]
    for (const [name, payload, expected] of cases) {
      const res = await inject(org, 'POST', '/v1/checkout-links/', payload)
      expect(answer(res), name).toEqual({ status: 422, body: expected })
    }
    // Nothing half-written: no link, and no orphan product rows behind a failed create.
    expect(await linkCount(org)).toBe(0)
    const orphans = await ctx.deps.db
      .selectFrom('checkout_link_products')
      .select('checkout_link_id')
      .where('product_id', 'in', [product.id, archived.id])
      .execute()
    expect(orphans).toEqual([])

    // The limits themselves are allowed.
    const atLimit = await createLink(org, { products: [product.id], metadata: { ...Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, i])), ['k'.repeat(40)]: 'v'.repeat(500) }, success_url: 'HTTPS://shop.example/ok' })
    expect(Object.keys((atLimit as unknown as { metadata: object }).metadata)).toHaveLength(50)
    expect(await linkCount(org)).toBe(1)
  })

  // Polar (pydantic) answers a missing literal field with `missing`/"Field required".
  it('answers a missing payment_processor as a missing field, as Polar does', async () => {
    const org = await createOrg(ctx)
    const product = await seedProduct(org)
    const res = await inject(org, 'POST', '/v1/checkout-links/', { products: [product.id] })
    expect(answer(res)).toEqual({ status: 422, body: { error: 'RequestValidationError', detail: [{ loc: ['body', 'payment_processor'], msg: 'Field required', type: 'missing' }] } })
  })

  describe('auth', () => {
    const routes = (id: string) =>
      [
        ['GET', '/v1/checkout-links/', undefined, 'read'],
        ['POST', '/v1/checkout-links/', { payment_processor: 'stripe', products: [MISSING_ID] }, 'write'],
        ['GET', `/v1/checkout-links/${id}`, undefined, 'read'],
        ['PATCH', `/v1/checkout-links/${id}`, { label: 'x' }, 'write'],
        ['DELETE', `/v1/checkout-links/${id}`, undefined, 'write'],
      ] as const

    it('401 without a valid token, 403 without a checkout_links scope, on every route', async () => {
      const org = await createOrg(ctx)
      const product = await seedProduct(org)
      const link = await createLink(org, { products: [product.id], label: 'Kept' })
      const unauthorized = { status: 401, body: { error: 'Unauthorized', detail: 'Unauthorized' } }
      const forbidden = { status: 403, body: { error: 'NotPermitted', detail: 'You do not have the required scope for this operation.' } }
      const wrongScopes = await tokenWithScopes(ctx, org.organizationId, ['products:read', 'products:write', 'checkouts:write', 'discounts:write'])
      const readOnly = await tokenWithScopes(ctx, org.organizationId, ['checkout_links:read'])
      for (const [method, url, payload, kind] of routes(link.id)) {
        const label = `${method} ${url}`
        expect(answer(await inject(undefined, method, url, payload)), label).toEqual(unauthorized)
        expect(answer(await inject({ headers: { authorization: 'Bearer polar_oat_not_a_token' } }, method, url, payload)), label).toEqual(unauthorized)
        expect(answer(await inject({ headers: { authorization: org.token } }, method, url, payload)), label).toEqual(unauthorized) // no "Bearer"
        expect(answer(await inject({ headers: wrongScopes }, method, url, payload)), label).toEqual(forbidden)
        const ro = await inject({ headers: readOnly }, method, url, payload)
        if (kind === 'write') expect(answer(ro), label).toEqual(forbidden)
        else expect(ro.statusCode, label).toBe(200)
      }
      // a write scope grants reading
      const writeOnly = await tokenWithScopes(ctx, org.organizationId, ['checkout_links:write'])
      expect((await inject({ headers: writeOnly }, 'GET', `/v1/checkout-links/${link.id}`)).statusCode).toBe(200)
      // nothing changed on the way
      expect((await inject(org, 'GET', `/v1/checkout-links/${link.id}`)).json()).toMatchObject({ label: 'Kept' })
      expect(await linkCount(org)).toBe(1)
    })

    it("isolates tenants: another organization's token gets 404 and never sees the link", async () => {
      const org = await createOrg(ctx)
      const intruder = await createOrg(ctx, 'Intruder')
      const polarIntruder: Polar = await polarClient(app, intruder.token)
      const product = await seedProduct(org)
      const link = await createLink(org, { products: [product.id], label: 'Mine' })
      for (const [method, url, payload] of routes(link.id).filter(([, url]) => url.includes(link.id))) {
        expect(answer(await inject(intruder, method, url, payload)), `${method} ${url}`).toEqual(notFound)
      }
      expect((await polarIntruder.checkoutLinks.list({})).result).toEqual({ items: [], pagination: { totalCount: 0, maxPage: 0 } })
      expect((await polarIntruder.checkoutLinks.list({ organizationId: org.organizationId })).result.items).toEqual([])
      expect((await polarIntruder.checkoutLinks.list({ productId: product.id })).result.items).toEqual([])
      // the owner's link is untouched
      expect((await inject(org, 'GET', `/v1/checkout-links/${link.id}`)).json()).toMatchObject({ label: 'Mine', modified_at: null })
      expect((await app.inject({ method: 'GET', url: link.url.replace('http://kassa.test', '') })).statusCode).toBe(307)
    })
  })

  it('stops selling once all its products are archived (and sells again when one comes back)', async () => {
    const org = await createOrg(ctx, 'Archive Shop')
    const first = await seedProduct(org, { name: 'First' })
    const second = await seedProduct(org, { name: 'Second' })
    const link = await createLink(org, { products: [first.id, second.id] })
    const visit = () => app.inject({ method: 'GET', url: `/buy/${link.client_secret}` })
    const redirect = () => app.inject({ method: 'GET', url: `/v1/checkout-links/${link.client_secret}/redirect` })
    const sessionProduct = async (res: { headers: Record<string, unknown> }) => {
      const secret = new URL(res.headers.location as string).pathname.split('/').pop()!
      return (await app.inject({ method: 'GET', url: `/v1/checkouts/client/${secret}` })).json() as { product_id: string; products: { id: string }[] }
    }

    expect((await sessionProduct(await visit())).product_id).toBe(first.id)
    await archive(org, first.id)
    // The first live product is preselected; archived ones are not offered.
    const onlySecond = await sessionProduct(await visit())
    expect(onlySecond.product_id).toBe(second.id)
    expect(onlySecond.products.map((p) => p.id)).toEqual([second.id])
    expect((await sessionProduct(await app.inject({ method: 'GET', url: `/buy/${link.client_secret}?product_id=${first.id}` }))).product_id).toBe(second.id)

    await archive(org, second.id)
    const page = await visit()
    expect(page.statusCode).toBe(404)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.body).toContain('This link is not available')
    expect(page.body).toContain('Archive Shop') // the organization's name, when known
    expect(answer(await redirect())).toEqual(notFound)
    // The merchant still sees the link, with its archived products.
    const seen = (await inject(org, 'GET', `/v1/checkout-links/${link.id}`)).json()
    expect(seen.products.map((p: { id: string; is_archived: boolean }) => [p.id, p.is_archived])).toEqual([[first.id, true], [second.id, true]])

    await archive(org, second.id, false)
    expect((await visit()).statusCode).toBe(307)
    expect((await redirect()).statusCode).toBe(307)
  })
})
