import { checkoutFromJSON } from '@polar-sh/sdk/models/components/checkout.js'
import fc from 'fast-check'
import { beforeAll, describe, expect, it, test } from 'vitest'
import { checkoutJobHandlers, SETTLE_JOB } from '../src/checkouts/jobs'
import { runDueJobs } from '../src/jobs/worker'
import { FixedClock, createOrg, createTestApp, polarClient, type TestOrg } from './helpers'

/**
 * The link visit (DESIGN.md, "A link visit (the hot path)"): `GET /buy/{secret}` and
 * `GET /v1/checkout-links/{secret}/redirect` open a fresh session from the link and the query string,
 * and answer 307 to its page, whatever the query string holds.
 */
describe('link visits', async () => {
  const clock = new FixedClock('2026-06-01T12:00:00Z')
  const ctx = await createTestApp({ clock })
  const { app } = ctx

  const notFound = { error: 'ResourceNotFound', detail: 'Not found' }
  const CHECKOUT_URL = /^http:\/\/kassa\.test\/checkout\/(polar_c_[A-Za-z0-9_-]{43})(?:\?(.*))?$/
  const routes = {
    link: (secret: string) => `/buy/${secret}`,
    redirect: (secret: string) => `/v1/checkout-links/${secret}/redirect`,
  }
  type Route = keyof typeof routes

  async function post<T = { id: string }>(org: TestOrg, url: string, payload: Record<string, unknown>): Promise<T> {
    const res = await app.inject({ method: 'POST', url, headers: org.headers, payload })
    expect(res.statusCode, `${url} ${res.body}`).toBe(201)
    return res.json()
  }
  type Product = { id: string; prices: { id: string }[] }
  type Link = { id: string; client_secret: string; metadata: Record<string, unknown> }
  const fixed = (price_amount: number) => [{ amount_type: 'fixed', price_amount }]
  const pct = (name: string, basis_points: number, extra: Record<string, unknown> = {}) => ({ name, type: 'percentage', basis_points, duration: 'once', ...extra })

  /** Opens a session by visiting `route`, then reads it back as the merchant (validated by the SDK's model). */
  async function visit(route: Route, secret: string, query = '', headers: Record<string, string> = {}) {
    const res = await app.inject({ method: 'GET', url: routes[route](secret) + (query ? `?${query}` : ''), headers })
    expect(res.statusCode, res.body).toBe(307)
    const location = res.headers.location as string
    const m = CHECKOUT_URL.exec(location)
    expect(m, location).not.toBeNull()
    return { res, location, sessionSecret: m![1]!, forward: m![2] ?? '' }
  }
  async function readSession(org: TestOrg, sessionSecret: string) {
    const pub = await app.inject({ method: 'GET', url: `/v1/checkouts/client/${sessionSecret}` })
    expect(pub.statusCode, pub.body).toBe(200)
    const res = await app.inject({ method: 'GET', url: `/v1/checkouts/${pub.json().id}`, headers: org.headers })
    expect(res.statusCode, res.body).toBe(200)
    const parsed = checkoutFromJSON(res.body)
    expect(parsed.ok, parsed.ok ? '' : String(parsed.error)).toBe(true)
    return res.json()
  }

  // ---- one organization's catalog, shared read-only by the table below --------------------------

  let org: TestOrg
  let p: Record<'basic' | 'pro' | 'pwyw' | 'pwywNoPreset' | 'archived' | 'notOnLink' | 'foreign', Product>
  let d: Record<'preset' | 'save20' | 'proOnly', { id: string }>
  let links: Record<'main' | 'noCodes' | 'pwywOnly' | 'trial', Link>
  const BIRTHDAY_MIN = Date.parse('1900-01-01T00:00:00Z') / 1000
  const BIRTHDAY_MAX = Date.parse('2020-12-31T00:00:00Z') / 1000

  beforeAll(async () => {
    org = await createOrg(ctx, 'Visit Shop')
    const other = await createOrg(ctx, 'Elsewhere')
    const field = (type: string, slug: string, properties: Record<string, unknown>) => post(org, '/v1/custom-fields/', { type, slug, name: slug, properties })
    const fields = [
      await field('text', 'company', { min_length: 2, max_length: 20 }),
      await field('number', 'seats', { ge: 1, le: 10 }),
      await field('select', 'source', { options: [{ value: 'x', label: 'X' }, { value: 'hn', label: 'Hacker News' }] }),
      await field('checkbox', 'terms', {}),
      await field('date', 'birthday', { ge: BIRTHDAY_MIN, le: BIRTHDAY_MAX }),
    ]
    const product = (body: Record<string, unknown>) => post<Product>(org, '/v1/products/', body)
    p = {
      basic: await product({ name: 'Basic', prices: fixed(1000), attached_custom_fields: fields.map((f) => ({ custom_field_id: f.id, required: false })) }),
      pro: await product({ name: 'Pro', recurring_interval: 'month', trial_interval: 'day', trial_interval_count: 7, prices: fixed(2000) }),
      pwyw: await product({ name: 'Tip jar', prices: [{ amount_type: 'custom', minimum_amount: 500, maximum_amount: 5000, preset_amount: 1500 }] }),
      pwywNoPreset: await product({ name: 'Donation', prices: [{ amount_type: 'custom', minimum_amount: 300, maximum_amount: 900 }] }),
      archived: await product({ name: 'Retired', prices: fixed(700) }),
      notOnLink: await product({ name: 'Elsewhere', prices: fixed(400) }),
      foreign: await post<Product>(other, '/v1/products/', { name: 'Foreign', prices: fixed(100) }),
    }
    const discount = (body: Record<string, unknown>) => post(org, '/v1/discounts/', body)
    d = {
      preset: await discount(pct('Preset ten', 1000)),
      save20: await discount(pct('Save twenty', 2000, { code: 'SAVE20' })),
      proOnly: await discount(pct('Half off Pro', 5000, { code: 'PROONLY', products: [p.pro.id] })),
    }
    await discount(pct('Old', 5000, { code: 'OLD', starts_at: '2026-01-01T00:00:00Z', ends_at: '2026-02-01T00:00:00Z' }))
    await discount(pct('Soon', 5000, { code: 'SOON', starts_at: '2027-01-01T00:00:00Z' }))
    await discount(pct('Other only', 5000, { code: 'OTHERONLY', products: [p.notOnLink.id] }))
    await discount({ name: 'Euro', type: 'fixed', amounts: { eur: 300 }, duration: 'once', code: 'EURO' })
    const usedUp = await discount(pct('Once', 5000, { code: 'USEDUP', max_redemptions: 1 }))
    const gone = await discount(pct('Gone', 5000, { code: 'GONE' }))
    expect((await app.inject({ method: 'DELETE', url: `/v1/discounts/${gone.id}`, headers: org.headers })).statusCode).toBe(204)
    await post(other, '/v1/discounts/', pct('Foreign', 5000, { code: 'FOREIGN' }))

    const link = (body: Record<string, unknown>) => post<Link>(org, '/v1/checkout-links/', { payment_processor: 'stripe', ...body })
    links = {
      main: await link({
        products: [p.basic.id, p.pro.id, p.pwyw.id, p.archived.id],
        discount_id: d.preset.id,
        metadata: { campaign: 'link', utm_source: 'newsletter' },
        success_url: 'https://shop.example/thanks?checkout_id={CHECKOUT_ID}',
        return_url: 'https://shop.example/pricing',
      }),
      noCodes: await link({ products: [p.basic.id], discount_id: d.preset.id, allow_discount_codes: false }),
      pwywOnly: await link({ products: [p.pwywNoPreset.id] }),
      trial: await link({ products: [p.pro.id], trial_interval: 'month', trial_interval_count: 2 }),
    }
    expect((await app.inject({ method: 'PATCH', url: `/v1/products/${p.archived.id}`, headers: org.headers, payload: { is_archived: true } })).statusCode).toBe(200)

    // USEDUP reaches its max_redemptions the way it does in production: a buyer pays with it.
    const spend = await visit('link', links.pwywOnly.client_secret, 'discount_code=USEDUP&customer_email=first%40example.com')
    const confirm = await app.inject({ method: 'POST', url: `/v1/checkouts/client/${spend.sessionSecret}/confirm`, payload: { confirmation_token_id: 'tok_sandbox_success' } })
    expect(confirm.statusCode, confirm.body).toBe(200)
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
    const spent = await app.inject({ method: 'GET', url: `/v1/discounts/${usedUp.id}`, headers: org.headers })
    expect(spent.json()).toMatchObject({ max_redemptions: 1, redemptions_count: 1 })
  })

  // ---- DESIGN.md's query-parameter table --------------------------------------------------------

  type LinkName = keyof typeof links
  interface Row {
    param: string
    case: string
    query: string | (() => string)
    link?: LinkName
    headers?: Record<string, string>
    /** Session fields that differ from the link's defaults (see `defaults`). */
    want?: () => Record<string, unknown>
    /** The query forwarded onto the checkout page URL. */
    forward?: string
  }

  const priceOf = (product: Product) => product.prices[0]!.id
  /** What a visit without query parameters opens, per link. */
  const defaults = (link: LinkName): Record<string, unknown> => {
    const common = { status: 'open', checkout_link_id: links[link].id, customer_email: null, customer_name: null, locale: null, custom_field_data: {}, discount_amount: 0 }
    switch (link) {
      case 'main':
        return { ...common, products: [p.basic.id, p.pro.id, p.pwyw.id], product_id: p.basic.id, product_price_id: priceOf(p.basic), amount: 1000, discount_id: d.preset.id, discount_amount: 100, total_amount: 900, metadata: { campaign: 'link', utm_source: 'newsletter' } }
      case 'noCodes':
        return { ...common, products: [p.basic.id], product_id: p.basic.id, product_price_id: priceOf(p.basic), amount: 1000, discount_id: d.preset.id, discount_amount: 100, total_amount: 900, metadata: {} }
      case 'pwywOnly':
        return { ...common, products: [p.pwywNoPreset.id], product_id: p.pwywNoPreset.id, product_price_id: priceOf(p.pwywNoPreset), amount: 300, discount_id: null, total_amount: 300, metadata: {} }
      case 'trial':
        return { ...common, products: [p.pro.id], product_id: p.pro.id, product_price_id: priceOf(p.pro), amount: 2000, discount_id: null, total_amount: 2000, metadata: {} }
    }
  }
  const presetOn = (amount: number) => ({ amount, discount_id: d.preset.id, discount_amount: Math.round(amount / 10), total_amount: amount - Math.round(amount / 10) })
  const codeOn = (id: () => string, amount: number, bp: number) => () => ({ amount, discount_id: id(), discount_amount: (amount * bp) / 10000, total_amount: amount - (amount * bp) / 10000 })
  const pro = () => ({ product_id: p.pro.id, product_price_id: priceOf(p.pro), ...presetOn(2000) })
  const pwyw = (amount: number) => () => ({ product_id: p.pwyw.id, product_price_id: priceOf(p.pwyw), ...presetOn(amount) })
  const pwywFree = (amount: number) => () => ({ amount, total_amount: amount })
  const fields = (data: Record<string, unknown>) => () => ({ custom_field_data: data })
  const meta = (extra: Record<string, unknown>) => () => ({ metadata: { campaign: 'link', utm_source: 'newsletter', ...extra } })
  const long = (n: number, c = 'x') => c.repeat(n)

  const table: Row[] = [
    // product_id: one of the link's live products, else the first product
    { param: 'product_id', case: "one of the link's products → selected", query: () => `product_id=${p.pro.id}`, want: pro },
    { param: 'product_id', case: 'not one of the link’s products → first product', query: () => `product_id=${p.notOnLink.id}` },
    { param: 'product_id', case: "the link's archived product → first product", query: () => `product_id=${p.archived.id}` },
    { param: 'product_id', case: "another organization's product → first product", query: () => `product_id=${p.foreign.id}` },
    { param: 'product_id', case: 'garbage → first product', query: "product_id=%27%20or%201%3D1--" },
    { param: 'product_id', case: 'empty → first product', query: 'product_id=' },

    // customer_email: valid syntax, else dropped
    { param: 'customer_email', case: 'valid → prefilled', query: 'customer_email=buyer%40example.com', want: () => ({ customer_email: 'buyer@example.com' }) },
    { param: 'customer_email', case: 'valid with an encoded plus → prefilled', query: 'customer_email=ada%2Btag%40example.co.uk', want: () => ({ customer_email: 'ada+tag@example.co.uk' }) },
    { param: 'customer_email', case: 'surrounding spaces are trimmed', query: 'customer_email=%20buyer%40example.com%20', want: () => ({ customer_email: 'buyer@example.com' }) },
    { param: 'customer_email', case: 'not-an-email → null', query: 'customer_email=not-an-email' },
    { param: 'customer_email', case: 'two @ → null', query: 'customer_email=a%40b%40example.com' },
    { param: 'customer_email', case: 'markup → null', query: 'customer_email=%3Cscript%3E%40x.y%20z' },

    // customer_name: at most 256 characters
    { param: 'customer_name', case: 'short → prefilled', query: 'customer_name=Ada%20Lovelace', want: () => ({ customer_name: 'Ada Lovelace' }) },
    { param: 'customer_name', case: '256 characters → prefilled', query: `customer_name=${long(256, 'n')}`, want: () => ({ customer_name: long(256, 'n') }) },
    { param: 'customer_name', case: '257 characters → null', query: `customer_name=${long(257, 'n')}` },

    // discount_code: a valid code replaces the preset; anything else is dropped and the preset stays
    { param: 'discount_code', case: 'valid code → applied, replacing the preset', query: 'discount_code=SAVE20', want: codeOn(() => d.save20.id, 1000, 2000) },
    { param: 'discount_code', case: 'case-insensitive', query: 'discount_code=save20', want: codeOn(() => d.save20.id, 1000, 2000) },
    { param: 'discount_code', case: 'mixed case with spaces', query: 'discount_code=%20SaVe20%20', want: codeOn(() => d.save20.id, 1000, 2000) },
    { param: 'discount_code', case: 'restricted to the selected product → applied', query: () => `product_id=${p.pro.id}&discount_code=PROONLY`, want: () => ({ ...pro(), ...codeOn(() => d.proOnly.id, 2000, 5000)() }) },
    { param: 'discount_code', case: 'unknown → dropped, preset stays', query: 'discount_code=NOPE' },
    { param: 'discount_code', case: 'expired (ends_at in the past) → preset stays', query: 'discount_code=OLD' },
    { param: 'discount_code', case: 'not started yet → preset stays', query: 'discount_code=SOON' },
    { param: 'discount_code', case: 'used up (max_redemptions reached) → preset stays', query: 'discount_code=USEDUP' },
    { param: 'discount_code', case: 'restricted to another product → preset stays', query: 'discount_code=OTHERONLY' },
    { param: 'discount_code', case: 'restricted to a product not selected → preset stays', query: 'discount_code=PROONLY' },
    { param: 'discount_code', case: 'fixed amount in another currency → preset stays', query: 'discount_code=EURO' },
    { param: 'discount_code', case: 'deleted → preset stays', query: 'discount_code=GONE' },
    { param: 'discount_code', case: "another organization's code → preset stays", query: 'discount_code=FOREIGN' },
    { param: 'discount_code', case: 'link with allow_discount_codes false → preset stays', link: 'noCodes', query: 'discount_code=SAVE20' },

    // amount: pay what you want, a whole number within min/max; else the preset, else the minimum
    { param: 'amount', case: 'within min/max → used', query: () => `product_id=${p.pwyw.id}&amount=2500`, want: pwyw(2500) },
    { param: 'amount', case: 'the minimum → used', query: () => `product_id=${p.pwyw.id}&amount=500`, want: pwyw(500) },
    { param: 'amount', case: 'the maximum → used', query: () => `product_id=${p.pwyw.id}&amount=5000`, want: pwyw(5000) },
    { param: 'amount', case: 'abc → the preset', query: () => `product_id=${p.pwyw.id}&amount=abc`, want: pwyw(1500) },
    { param: 'amount', case: '12.5 → the preset', query: () => `product_id=${p.pwyw.id}&amount=12.5`, want: pwyw(1500) },
    { param: 'amount', case: '-5 → the preset', query: () => `product_id=${p.pwyw.id}&amount=-5`, want: pwyw(1500) },
    { param: 'amount', case: '1e3 → the preset', query: () => `product_id=${p.pwyw.id}&amount=1e3`, want: pwyw(1500) },
    { param: 'amount', case: 'below the minimum → the preset', query: () => `product_id=${p.pwyw.id}&amount=499`, want: pwyw(1500) },
    { param: 'amount', case: 'above the maximum → the preset', query: () => `product_id=${p.pwyw.id}&amount=5001`, want: pwyw(1500) },
    { param: 'amount', case: 'huge → the preset', query: () => `product_id=${p.pwyw.id}&amount=99999999999999999999`, want: pwyw(1500) },
    { param: 'amount', case: 'no preset: within min/max → used', link: 'pwywOnly', query: 'amount=600', want: pwywFree(600) },
    { param: 'amount', case: 'no preset: abc → the minimum', link: 'pwywOnly', query: 'amount=abc' },
    { param: 'amount', case: 'no preset: above the maximum → the minimum', link: 'pwywOnly', query: 'amount=901' },
    { param: 'amount', case: 'no preset: below the minimum → the minimum', link: 'pwywOnly', query: 'amount=299' },
    { param: 'amount', case: 'on a fixed price → ignored', query: 'amount=5' },

    // locale: best supported match, else Accept-Language, else en
    { param: 'locale', case: 'fr → fr', query: 'locale=fr', want: () => ({ locale: 'fr' }) },
    { param: 'locale', case: 'pt-br → pt-BR', query: 'locale=pt-br', want: () => ({ locale: 'pt-BR' }) },
    { param: 'locale', case: 'fr-CA → fr', query: 'locale=fr-CA', want: () => ({ locale: 'fr' }) },
    { param: 'locale', case: 'pt_PT → pt-PT', query: 'locale=pt_PT', want: () => ({ locale: 'pt-PT' }) },
    { param: 'locale', case: 'xx → the Accept-Language match', query: 'locale=xx', headers: { 'accept-language': 'zz;q=1, de-DE;q=0.9, en;q=0.8' }, want: () => ({ locale: 'de' }) },
    { param: 'locale', case: 'xx without Accept-Language → en', query: 'locale=xx', want: () => ({ locale: 'en' }) },
    { param: 'locale', case: 'xx with an unsupported Accept-Language → en', query: 'locale=xx', headers: { 'accept-language': 'zz, *;q=0.5' }, want: () => ({ locale: 'en' }) },
    { param: 'locale', case: 'markup → en', query: 'locale=%3Cscript%3E', want: () => ({ locale: 'en' }) },

    // custom_field_data.{slug}: valid for the field → stored; invalid → not stored, and forwarded onto the page URL
    // as Polar's redirect does (checkout_link/endpoints.py forwards every custom_field_data.* key it did not validate)
    { param: 'custom_field_data (text)', case: 'valid → stored', query: 'custom_field_data.company=Acme%20Inc', want: fields({ company: 'Acme Inc' }) },
    { param: 'custom_field_data (text)', case: 'shorter than min_length → not stored, forwarded', query: 'custom_field_data.company=A', forward: 'custom_field_data.company=A' },
    { param: 'custom_field_data (text)', case: 'longer than max_length → not stored, forwarded', query: `custom_field_data.company=${long(21)}`, forward: `custom_field_data.company=${long(21)}` },
    { param: 'custom_field_data (number)', case: 'valid → stored as a number', query: 'custom_field_data.seats=3', want: fields({ seats: 3 }) },
    { param: 'custom_field_data (number)', case: 'not a number → not stored, forwarded', query: 'custom_field_data.seats=abc', forward: 'custom_field_data.seats=abc' },
    { param: 'custom_field_data (number)', case: 'not an integer → not stored, forwarded', query: 'custom_field_data.seats=2.5', forward: 'custom_field_data.seats=2.5' },
    { param: 'custom_field_data (number)', case: 'above le → not stored, forwarded', query: 'custom_field_data.seats=11', forward: 'custom_field_data.seats=11' },
    { param: 'custom_field_data (select)', case: 'an option → stored', query: 'custom_field_data.source=hn', want: fields({ source: 'hn' }) },
    { param: 'custom_field_data (select)', case: 'not an option → not stored, forwarded', query: 'custom_field_data.source=tv', forward: 'custom_field_data.source=tv' },
    { param: 'custom_field_data (checkbox)', case: 'true → stored', query: 'custom_field_data.terms=true', want: fields({ terms: true }) },
    { param: 'custom_field_data (checkbox)', case: 'false → stored', query: 'custom_field_data.terms=false', want: fields({ terms: false }) },
    { param: 'custom_field_data (checkbox)', case: 'maybe → not stored, forwarded', query: 'custom_field_data.terms=maybe', forward: 'custom_field_data.terms=maybe' },
    { param: 'custom_field_data (date)', case: 'valid → stored', query: 'custom_field_data.birthday=1990-05-17', want: fields({ birthday: '1990-05-17' }) },
    { param: 'custom_field_data (date)', case: 'impossible date → not stored, forwarded', query: 'custom_field_data.birthday=1990-02-30', forward: 'custom_field_data.birthday=1990-02-30' },
    { param: 'custom_field_data (date)', case: 'other format → not stored, forwarded', query: 'custom_field_data.birthday=17%2F05%2F1990', forward: 'custom_field_data.birthday=17%2F05%2F1990' },
    { param: 'custom_field_data (date)', case: 'after le → not stored, forwarded', query: 'custom_field_data.birthday=2030-01-01', forward: 'custom_field_data.birthday=2030-01-01' },
    {
      param: 'custom_field_data',
      case: 'invalid fields forwarded, valid ones kept (Polar drops all on one bad field: a difference on purpose)',
      query: 'custom_field_data.company=Acme&custom_field_data.seats=abc&custom_field_data.source=hn&custom_field_data.terms=maybe&custom_field_data.birthday=1990-05-17',
      want: fields({ company: 'Acme', source: 'hn', birthday: '1990-05-17' }),
      forward: 'custom_field_data.seats=abc&custom_field_data.terms=maybe',
    },
    { param: 'custom_field_data', case: 'a field the selected product lacks → forwarded', query: () => `product_id=${p.pro.id}&custom_field_data.company=Acme`, want: pro, forward: 'custom_field_data.company=Acme' },
    { param: 'custom_field_data', case: 'an unknown slug → forwarded', query: 'custom_field_data.nope=1', forward: 'custom_field_data.nope=1' },

    // reference_id and utm_*: into metadata, at most 500 characters, never over the link's own keys
    ...(['reference_id', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term'] as const).flatMap((key): Row[] => [
      { param: key, case: 'stored in metadata', query: `${key}=spring%20sale`, want: meta({ [key]: 'spring sale' }) },
      { param: key, case: '500 characters → stored', query: `${key}=${long(500)}`, want: meta({ [key]: long(500) }) },
      { param: key, case: '501 characters → dropped', query: `${key}=${long(501)}` },
    ]),
    { param: 'reference_id', case: 'unicode → stored decoded', query: 'reference_id=order%20%23%E2%82%AC42', want: meta({ reference_id: 'order #€42' }) },
    { param: 'utm_source', case: "a key the link's metadata has → not overwritten", query: 'utm_source=twitter' },
    { param: 'utm_source', case: 'stored when the link has no such key', link: 'noCodes', query: 'utm_source=twitter', want: () => ({ metadata: { utm_source: 'twitter' } }) },
    { param: 'utm_source', case: '501 characters → dropped', link: 'noCodes', query: `utm_source=${long(501)}` },
    {
      param: 'reference_id + utm_*',
      case: 'all six at once',
      query: 'reference_id=r1&utm_source=s&utm_medium=m&utm_campaign=c&utm_content=ct&utm_term=t',
      want: meta({ reference_id: 'r1', utm_medium: 'm', utm_campaign: 'c', utm_content: 'ct', utm_term: 't' }),
    },

    // anything else: forwarded onto the checkout page URL, not stored
    { param: 'anything else', case: 'forwarded, not stored', query: 'foo=bar&ref=abc%20def', forward: 'foo=bar&ref=abc%20def' },
    { param: 'anything else', case: 'known parameters are not forwarded', query: 'customer_email=buyer%40example.com&theme=dark&locale=fr', want: () => ({ customer_email: 'buyer@example.com', locale: 'fr' }), forward: 'theme=dark' },
    { param: 'anything else', case: 'utm_id is not an attribution key', query: 'utm_id=7', forward: 'utm_id=7' },
    { param: 'anything else', case: 'a key without a value', query: 'preview', forward: 'preview=' },
  ]

  describe.each(['link', 'redirect'] as const)('the query-parameter table on the %s route', (route) => {
    test.each(table)('$param: $case', async (row) => {
      const link = row.link ?? 'main'
      const query = typeof row.query === 'function' ? row.query() : row.query
      const { forward, sessionSecret } = await visit(route, links[link].client_secret, query, row.headers)
      const session = await readSession(org, sessionSecret)
      const expected = { ...defaults(link), ...row.want?.() }
      const actual = Object.fromEntries(Object.keys(expected).map((k) => [k, k === 'products' ? session.products.map((x: { id: string }) => x.id) : session[k]]))
      expect(actual).toEqual(expected)
      expect(forward).toBe(row.forward ?? '')
    })
  })

  // ---- the rest of the visit ----------------------------------------------------------------------

  it('opens a fresh, prefilled session per visit, with the link copied onto it (SDK)', async () => {
    const shop = await createOrg(ctx, 'Fresh Shop')
    const polar = await polarClient(app, shop.token)
    const first = await polar.products.create({ name: 'First', prices: [{ amountType: 'fixed', priceAmount: 1500 }] })
    const second = await polar.products.create({ name: 'Second', recurringInterval: 'year', prices: [{ amountType: 'fixed', priceAmount: 9900 }] })
    const link = await polar.checkoutLinks.create({
      paymentProcessor: 'stripe',
      products: [first.id, second.id],
      requireBillingAddress: true,
      allowDiscountCodes: false,
      successUrl: 'https://shop.example/thanks?checkout_id={CHECKOUT_ID}&again={CHECKOUT_ID}',
      returnUrl: 'https://shop.example/back',
      metadata: { source: 'qr', batch: 7, live: true },
    })

    const a = await visit('link', link.clientSecret, `product_id=${second.id}&customer_email=ada%40example.com&customer_name=Ada&locale=fr&utm_source=poster`)
    expect(a.res.headers['cache-control']).toBe('no-store')
    const b = await visit('redirect', link.clientSecret)
    expect(b.sessionSecret).not.toBe(a.sessionSecret)

    const list = await polar.checkouts.list({})
    expect(list.result.pagination.totalCount).toBe(2)
    const pub = await polar.checkouts.clientGet({ clientSecret: a.sessionSecret })
    const session = await polar.checkouts.get({ id: pub.id })
    expect(list.result.items.map((s) => s.id)).toContain(session.id)
    expect(session).toMatchObject({
      status: 'open',
      clientSecret: a.sessionSecret,
      url: `http://kassa.test/checkout/${a.sessionSecret}`,
      expiresAt: new Date(clock.now().getTime() + 86_400_000),
      productId: second.id,
      productPriceId: second.prices[0]!.id,
      amount: 9900,
      totalAmount: 9900,
      customerEmail: 'ada@example.com',
      customerName: 'Ada',
      customerIpAddress: '127.0.0.1',
      locale: 'fr',
      requireBillingAddress: true,
      allowDiscountCodes: false,
      returnUrl: 'https://shop.example/back',
      successUrl: `https://shop.example/thanks?checkout_id=${session.id}&again=${session.id}`,
      metadata: { source: 'qr', batch: 7, live: true, utm_source: 'poster' },
    })
    expect(session.products.map((x) => x.id)).toEqual([first.id, second.id])
    expect(session.product?.id).toBe(second.id)
    expect(pub.organization.name).toBe('Fresh Shop')
    const raw = await app.inject({ method: 'GET', url: `/v1/checkouts/${session.id}`, headers: shop.headers })
    expect(raw.json().checkout_link_id).toBe(link.id)

    const other = await polar.checkouts.get({ id: (await polar.checkouts.clientGet({ clientSecret: b.sessionSecret })).id })
    expect(other).toMatchObject({ productId: first.id, customerEmail: null, customerName: null, locale: null, metadata: { source: 'qr', batch: 7, live: true } })
    expect(other.id).not.toBe(session.id)

    // The page behind the Location answers.
    const page = await app.inject({ method: 'GET', url: new URL(a.location).pathname })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')

    // Paid: the metadata (the link's and the attribution) travels on to the order.
    const confirm = await app.inject({
      method: 'POST',
      url: `/v1/checkouts/client/${a.sessionSecret}/confirm`,
      payload: { confirmation_token_id: 'tok_sandbox_success', customer_billing_address: { country: 'FR', line1: '1 rue de la Paix', city: 'Paris', postal_code: '75002' } },
    })
    expect(confirm.statusCode, confirm.body).toBe(200)
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
    expect((await polar.checkouts.get({ id: session.id })).status).toBe('succeeded')
    const orders = await polar.orders.list({})
    expect(orders.result.items).toHaveLength(1)
    expect(orders.result.items[0]!.metadata).toEqual({ source: 'qr', batch: 7, live: true, utm_source: 'poster' })
  })

  it("lets the link's trial override the product's", async () => {
    const withLinkTrial = await readSession(org, (await visit('link', links.trial.client_secret)).sessionSecret)
    expect(withLinkTrial).toMatchObject({ product_id: p.pro.id, trial_interval: 'month', trial_interval_count: 2, active_trial_interval: 'month', active_trial_interval_count: 2, trial_end: '2026-08-01T12:00:00.000Z' })
    const productTrial = await readSession(org, (await visit('redirect', links.main.client_secret, `product_id=${p.pro.id}`)).sessionSecret)
    expect(productTrial).toMatchObject({ product_id: p.pro.id, trial_interval: null, trial_interval_count: null, active_trial_interval: 'day', active_trial_interval_count: 7, trial_end: '2026-06-08T12:00:00.000Z' })
    // a one-time product never has a trial
    const oneTime = await readSession(org, (await visit('link', links.main.client_secret)).sessionSecret)
    expect(oneTime).toMatchObject({ active_trial_interval: null, active_trial_interval_count: null, trial_end: null })
  })

  describe('malformed query strings still open a checkout', () => {
    const manyPairs = Array.from({ length: 2000 }, (_, i) => `k${i}=${i}`).join('&')
    const cases: [string, string, Record<string, unknown>, string?][] = [
      ['bad percent-encoding alone', '%E0%A4%A', {}],
      ['bad percent-encoding drops only its pair', 'customer_email=%E0%A4%A&customer_name=Ada', { customer_email: null, customer_name: 'Ada' }],
      ['a lone percent sign', 'customer_name=100%&locale=fr', { customer_name: null, locale: 'fr' }],
      ['an invalid escape', 'customer_name=%ZZ&x=%G1', { customer_name: null }],
      ['an encoded surrogate half', 'customer_name=%ED%A0%80', { customer_name: null }],
      ['an overlong encoding', 'customer_name=%C0%80', { customer_name: null }],
      ['repeated keys: the first value counts', 'customer_email=first%40example.com&customer_email=second%40example.com&utm_campaign=a&utm_campaign=b', { customer_email: 'first@example.com', metadata: { campaign: 'link', utm_source: 'newsletter', utm_campaign: 'a' } }],
      ['repeated unknown keys: the first value is forwarded', 'x=1&x=2', {}, 'x=1'],
      ['a=b=c', 'a=b=c', {}, 'a=b%3Dc'],
      ['lone ampersands', '&&&', {}],
      ['empty keys', '=&==&=x', {}],
      ['a second question mark', '?customer_name=Ada', {}, '%3Fcustomer_name=Ada'],
      ['plus means space', 'customer_name=Ada+Lovelace', { customer_name: 'Ada Lovelace' }],
      ['NUL bytes are dropped, not stored', 'customer_name=a%00b&utm_campaign=x%00&custom_field_data.company=Ac%00me&customer_email=buyer%40example.com&x%00=1', { customer_name: null, customer_email: 'buyer@example.com' }],
      ['unicode, percent-encoded', 'customer_name=J%C3%BCrgen%20M%C3%BCller%20%F0%9F%98%80&custom_field_data.company=%E6%A0%AA%E5%BC%8F%E4%BC%9A%E7%A4%BE', { customer_name: 'Jürgen Müller 😀', custom_field_data: { company: '株式会社' } }],
      ['a very long value', `customer_name=${'x'.repeat(100_000)}&customer_email=buyer%40example.com`, { customer_name: null, customer_email: 'buyer@example.com' }],
      ['a very long unknown value', `note=${'y'.repeat(20_000)}`, {}, `note=${'y'.repeat(20_000)}`],
      ['many parameters', `${manyPairs}&customer_name=Last`, { customer_name: 'Last' }, manyPairs],
      ['markup in values', 'customer_name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&locale=%22%3E%3Cimg', { customer_name: '<script>alert(1)</script>', locale: 'en' }],
    ]
    test.each(cases)('%s', async (_name, query, want, forward = '') => {
      for (const route of ['link', 'redirect'] as const) {
        const res = await visit(route, links.main.client_secret, query)
        const session = await readSession(org, res.sessionSecret)
        expect(session).toMatchObject({ status: 'open', product_id: p.basic.id, checkout_link_id: links.main.id, ...want })
        expect(res.forward).toBe(forward)
      }
    })
  })

  describe('a link that is not available', () => {
    const expectNotAvailablePage = (res: { statusCode: number; headers: Record<string, unknown>; body: string }, lang = 'en') => {
      expect(res.statusCode).toBe(404)
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
      expect(res.headers['content-security-policy']).toContain("default-src 'none'")
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'")
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers.location).toBeUndefined()
      expect(res.body).toMatch(/^<!doctype html>/i)
      expect(res.body).toContain(`<html lang="${lang}"`)
      // localized: the English title only on an English page
      expect(res.body.includes('This link is not available')).toBe(lang === 'en')
      expect(() => JSON.parse(res.body)).toThrow()
      expect(res.body).not.toMatch(/ResourceNotFound|Error|stack|at .*\.ts|node_modules/)
    }

    it('unknown client_secret: a 404 page on the link URL, 404 JSON on /redirect', async () => {
      for (const secret of ['polar_cl_doesnotexist0000000000000000000000000', 'nope', 'polar_c_' + 'a'.repeat(43)]) {
        expectNotAvailablePage(await app.inject({ method: 'GET', url: `/buy/${secret}` }))
        expectNotAvailablePage(await app.inject({ method: 'GET', url: `/buy/${secret}?customer_email=a%40b.co&locale=fr` }), 'fr')
        expectNotAvailablePage(await app.inject({ method: 'GET', url: `/buy/${secret}`, headers: { 'accept-language': 'de-CH, de;q=0.9' } }), 'de')
        // a malformed query string does not turn the page into an error
        expectNotAvailablePage(await app.inject({ method: 'GET', url: `/buy/${secret}?locale=%E0%A4%A&%%=&a=b=c&customer_name=%00` }))
        const api = await app.inject({ method: 'GET', url: `/v1/checkout-links/${secret}/redirect` })
        expect({ status: api.statusCode, type: api.headers['content-type'], body: api.json() }).toEqual({ status: 404, type: 'application/json; charset=utf-8', body: notFound })
      }
      // nothing the visitor sent is reflected unescaped
      const evil = await app.inject({ method: 'GET', url: '/buy/%3Cscript%3Ealert(1)%3C%2Fscript%3E?locale=%3Cscript%3E' })
      expectNotAvailablePage(evil)
      expect(evil.body).not.toContain('<script>')
    })

    // Secrets far longer than real ones still reach the routes (and get their usual answers).
    it('an over-long unknown client_secret gets the same answers', async () => {
      const secret = `polar_cl_${'x'.repeat(250)}`
      expectNotAvailablePage(await app.inject({ method: 'GET', url: `/buy/${secret}` }))
      const api = await app.inject({ method: 'GET', url: `/v1/checkout-links/${secret}/redirect` })
      expect({ status: api.statusCode, body: api.json() }).toEqual({ status: 404, body: notFound })
    })

    it('HEAD (link checkers, unfurlers) answers without opening a session', async () => {
      const shop = await createOrg(ctx, 'Head Shop')
      const product = await post<Product>(shop, '/v1/products/', { name: 'Checked', prices: fixed(100) })
      const link = await post<Link>(shop, '/v1/checkout-links/', { payment_processor: 'stripe', products: [product.id] })
      const head = await app.inject({ method: 'HEAD', url: `/buy/${link.client_secret}` })
      expect(head.statusCode).toBe(200)
      expect((await app.inject({ method: 'HEAD', url: '/buy/polar_cl_unknown' })).statusCode).toBe(404)
      const sessions = await app.inject({ method: 'GET', url: '/v1/checkouts/', headers: shop.headers })
      expect(sessions.json().pagination.total_count).toBe(0)
    })

    it('a deleted link: the same answers, and no session is opened', async () => {
      const shop = await createOrg(ctx, 'Closing Shop')
      const product = await post<Product>(shop, '/v1/products/', { name: 'Last one', prices: fixed(100) })
      const link = await post<Link>(shop, '/v1/checkout-links/', { payment_processor: 'stripe', products: [product.id] })
      expect((await app.inject({ method: 'DELETE', url: `/v1/checkout-links/${link.id}`, headers: shop.headers })).statusCode).toBe(204)
      expectNotAvailablePage(await app.inject({ method: 'GET', url: `/buy/${link.client_secret}` }))
      const api = await app.inject({ method: 'GET', url: `/v1/checkout-links/${link.client_secret}/redirect?product_id=${product.id}` })
      expect({ status: api.statusCode, body: api.json() }).toEqual({ status: 404, body: notFound })
      const sessions = await app.inject({ method: 'GET', url: '/v1/checkouts/', headers: shop.headers })
      expect(sessions.json().pagination.total_count).toBe(0)
    })
  })

  describe('property: fuzzed query strings never break a live link', () => {
    const KNOWN = ['product_id', 'customer_email', 'customer_name', 'discount_code', 'amount', 'locale', 'reference_id', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term', 'custom_field_data.company', 'custom_field_data.seats', 'custom_field_data.source', 'custom_field_data.terms', 'custom_field_data.birthday', 'custom_field_data.nope', 'custom_field_data.']
    const BROKEN = ['%', '%%', '%E0%A4%A', '%ZZ', '%00', '%FF', '%C0%80', '%ED%A0%80', '%F0%9F', '%2', '%u00e9', '%0A%0D', '%3C%2Fscript%3E', '&', '=', '+', '%2B', '%26', '%3D']
    // What may appear raw in a request target (RFC 3986 pchar, `?`, `/`, and `%`).
    const RAW = 'abcXYZ019-._~!$\'()*,;:@/?%+='
    const rawString = fc.array(fc.constantFrom(...RAW.split('')), { maxLength: 24 }).map((cs) => cs.join(''))
    const encoded = (s: fc.Arbitrary<string>) => s.map((v) => encodeURIComponent(v))
    // encodeURIComponent throws on a lone surrogate, which a browser never sends
    const wellFormed = (v: string) => v.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    const value = fc.oneof(
      { weight: 3, arbitrary: encoded(fc.string({ maxLength: 40 })) },
      { weight: 2, arbitrary: encoded(fc.string({ unit: 'grapheme', maxLength: 20 })) },
      { weight: 2, arbitrary: encoded(fc.string({ unit: 'binary', maxLength: 20 }).map(wellFormed)) },
      { weight: 2, arbitrary: rawString },
      { weight: 3, arbitrary: fc.array(fc.oneof(fc.constantFrom(...BROKEN), rawString), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('')) },
      { weight: 2, arbitrary: fc.constantFrom('SAVE20', 'save20', 'USEDUP', 'OLD', '2500', '-1', '1e9', 'fr', 'pt-br', 'xx', 'true', 'hn', '1990-02-30', 'buyer%40example.com') },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 5 }).map((n) => 'x'.repeat(n * 1000 + 400)) },
      { weight: 1, arbitrary: fc.nat({ max: 3000 }).map((n) => '%F0%9F%98%80'.repeat(n % 200)) },
      { weight: 1, arbitrary: fc.constant('') },
    )
    const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KNOWN) }, { weight: 2, arbitrary: rawString }, { weight: 1, arbitrary: encoded(fc.string({ maxLength: 12 })) }, { weight: 1, arbitrary: fc.constantFrom(...BROKEN) })
    const pair = fc.oneof({ weight: 6, arbitrary: fc.tuple(key, value).map(([k, v]) => `${k}=${v}`) }, { weight: 1, arbitrary: key }, { weight: 1, arbitrary: fc.tuple(key, value, value).map(([k, v, w]) => `${k}=${v}=${w}`) })
    const query = fc.oneof(
      { weight: 8, arbitrary: fc.array(pair, { maxLength: 12 }).map((pairs) => pairs.join('&')) },
      { weight: 1, arbitrary: fc.array(pair, { maxLength: 6 }).map((pairs) => pairs.join('&&')) },
      { weight: 1, arbitrary: rawString },
    )

    it('1,000 visits: zero 5xx, always a 307 to a checkout', async () => {
      const product = p.pro.id // a link product, so product_id sometimes selects it
      const withProduct = fc.tuple(query, fc.boolean()).map(([q, sel]) => (sel ? `product_id=${product}&${q}` : q))
      await fc.assert(
        fc.asyncProperty(withProduct, fc.constantFrom<Route>('link', 'link', 'link', 'redirect'), async (q, route) => {
          const res = await app.inject({ method: 'GET', url: `${routes[route](links.main.client_secret)}?${q}` })
          expect(res.statusCode, res.body.slice(0, 300)).toBe(307)
          expect(res.headers.location as string).toMatch(CHECKOUT_URL)
        }),
        { numRuns: 1000 },
      )
    }, 120_000)
  })
})
