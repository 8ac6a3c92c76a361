import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { settleCheckout } from '../src/checkouts/jobs'
import { createOrg, createTestApp } from './helpers'

/**
 * Random JSON bodies at every create/update route found in the OpenAPI document: whatever
 * arrives, the answer is never a 5xx. Bodies are built from each route's own property names
 * so the fuzzer gets past the first "Field required" and into the rules behind it.
 */
describe('fuzzed bodies on every create/update route', async () => {
  const ctx = await createTestApp()
  const { app } = ctx
  const org = await createOrg(ctx)
  const doc = (await app.inject('/openapi.json')).json()

  // One live resource per collection, for the PATCH routes' {id}.
  const seed = async (url: string, payload: object) => {
    const r = await app.inject({ method: 'POST', url, headers: org.headers, payload })
    expect(r.statusCode, r.body).toBe(201)
    return r.json().id as string
  }
  const field = await seed('/v1/custom-fields/', { type: 'text', slug: 'fuzz', name: 'Fuzz', properties: {} })
  const product = await seed('/v1/products/', { name: 'Fuzz product', prices: [{ amount_type: 'fixed', price_amount: 100 }] })
  const ids: Record<string, string> = { '/v1/custom-fields': field, '/v1/products': product }
  const discountPath = Object.keys(doc.paths).find((p) => p === '/v1/discounts')
  if (discountPath) ids['/v1/discounts'] = await seed('/v1/discounts/', { name: 'Fuzz', type: 'percentage', basis_points: 1000, duration: 'once' })

  const link = await seed('/v1/checkout-links/', { payment_processor: 'stripe', products: [product] })
  ids['/v1/checkout-links'] = link
  const checkout = await app.inject({ method: 'POST', url: '/v1/checkouts/', headers: org.headers, payload: { products: [product] } })
  ids['/v1/checkouts'] = checkout.json().id
  ids['/v1/webhooks/endpoints'] = await seed('/v1/webhooks/endpoints/', { url: 'https://example.com/hook', format: 'raw', events: ['order.paid'] })
  const oat = await app.inject({ method: 'POST', url: '/v1/organization-access-tokens/', headers: org.headers, payload: { comment: 'fuzz', scopes: ['products:read'] } })
  ids['/v1/organization-access-tokens'] = oat.json().organization_access_token.id
  ids['/v1/organizations'] = org.organizationId // PATCH /v1/organizations/{id}: name and embed_hosts (issue 18)
  // A paid order (refunds) and a subscription (PATCH /v1/subscriptions/{id}), settled directly (not through the shared queue).
  const buy = async (body: object) => {
    const productId = await seed('/v1/products/', body)
    const session = (await app.inject({ method: 'POST', url: '/v1/checkouts/', headers: org.headers, payload: { products: [productId], customer_email: 'fuzz@example.com' } })).json()
    await app.inject({ method: 'POST', url: `/v1/checkouts/client/${session.client_secret}/confirm`, payload: { customer_name: 'Fuzz', customer_billing_address: { country: 'DE' }, confirmation_token_id: 'tok_sandbox_success' } })
    await settleCheckout(ctx.deps, session.id, 'tok_sandbox_success')
    return session.id as string
  }
  const paidCheckout = await buy({ name: 'Fuzz big', prices: [{ amount_type: 'fixed', price_amount: 1_000_000 }] })
  const paidOrder = (await app.inject({ url: `/v1/orders/?checkout_id=${paidCheckout}`, headers: org.headers })).json().items[0].id as string
  const subCheckout = await buy({ name: 'Fuzz plan', recurring_interval: 'month', prices: [{ amount_type: 'fixed', price_amount: 500 }] })
  ids['/v1/subscriptions'] = (await ctx.deps.db.selectFrom('subscriptions').select('id').where('checkout_id', '=', subCheckout).executeTakeFirstOrThrow()).id
  // The client routes take the session's client secret; each confirm that succeeds closes a session,
  // so the confirm route gets a fresh one per run (see below).
  const secrets: Record<string, () => Promise<string>> = {
    '/v1/checkouts/client/{client_secret}': async () => checkout.json().client_secret,
    '/v1/checkouts/client/{client_secret}/confirm': async () =>
      (await app.inject({ method: 'POST', url: '/v1/checkouts/', headers: org.headers, payload: { products: [product] } })).json().client_secret,
  }

  const known = [product, field, paidOrder, ...Object.values(ids)]
  const scalar = fc.oneof(
    fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -1e308, '', ' ', 'usd', 'month', 'fixed', 'custom', 'percentage', 'once', 'repeating', 'text', 'select', '\u0000', 'é'.repeat(300), ...known),
    fc.integer(),
    fc.double(),
    fc.string(),
    fc.uuid(),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  )
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 45 }), tie('v'), { maxKeys: 6 })),
  })).v

  function propertyNames(schema: any, acc = new Set<string>()): Set<string> {
    if (!schema || typeof schema !== 'object') return acc
    for (const k of Object.keys(schema.properties ?? {})) {
      acc.add(k)
      propertyNames(schema.properties[k], acc)
    }
    for (const key of ['anyOf', 'oneOf', 'allOf']) for (const s of schema[key] ?? []) propertyNames(s, acc)
    if (schema.items) propertyNames(schema.items, acc)
    return acc
  }

  // Valid bodies per collection: mutating one of them reaches the rules behind schema validation.
  const examples: Record<string, object> = {
    '/v1/products': { name: 'Example', recurring_interval: 'month', prices: [{ amount_type: 'custom', minimum_amount: 100, preset_amount: 200 }], attached_custom_fields: [{ custom_field_id: field, required: true }], metadata: { a: 1 } },
    '/v1/custom-fields': { type: 'select', slug: 'example', name: 'Example', properties: { options: [{ value: 'a', label: 'A' }] } },
    '/v1/discounts': { name: 'Example', type: 'fixed', amount: 100, currency: 'usd', duration: 'repeating', duration_in_months: 3, code: 'EXAMPLE', products: [product] },
    'PATCH /v1/custom-fields': { type: 'text', name: 'Renamed', properties: { min_length: 1 } },
    '/v1/checkout-links': { payment_processor: 'stripe', products: [product], success_url: 'https://example.com/?id={CHECKOUT_ID}', metadata: { a: 'b' } },
    'PATCH /v1/checkout-links': { label: 'Renamed', allow_discount_codes: false },
    '/v1/webhooks/endpoints': { url: 'https://example.com/hook', format: 'raw', events: ['order.paid'] },
    'PATCH /v1/webhooks/endpoints': { url: 'https://example.com/other', events: ['checkout.created'] },
    '/v1/checkouts': { products: [product], customer_email: 'buyer@example.com', metadata: { ref: 'x' } },
    'PATCH /v1/checkouts': { customer_name: 'Ada', metadata: { ref: 'y' } },
    'PATCH /v1/checkouts/client/{client_secret}': { customer_email: 'buyer@example.com', customer_name: 'Ada' },
    'POST /v1/checkouts/client/{client_secret}/confirm': { customer_email: 'buyer@example.com', confirmation_token_id: 'tok_sandbox_success' },
    'PATCH /v1/discounts': { name: 'Renamed', code: 'RENAMED' },
    '/v1/organization-access-tokens': { comment: 'Example', scopes: ['products:read', 'orders:read'], expires_in: 'P30D' },
    'PATCH /v1/organization-access-tokens': { comment: 'Renamed', scopes: ['products:write'] },
    '/v1/refunds': { order_id: paidOrder, reason: 'customer_request', amount: 1, comment: 'fuzz' },
    'PATCH /v1/subscriptions': { cancel_at_period_end: false },
  }

  const routes: { method: 'POST' | 'PATCH'; path: string; url: string; example: object; keys: string[]; sessionOnly: boolean }[] = []
  for (const [path, ops] of Object.entries<any>(doc.paths)) {
    for (const method of ['post', 'patch'] as const) {
      const op = ops[method]
      if (!op?.requestBody) continue
      const base = path.replace(/\/\{id\}$/, '')
      if (path.includes('{id}') && !ids[base]) continue
      if (path.includes('{client_secret}') && !secrets[path]) continue
      routes.push({
        method: method.toUpperCase() as 'POST' | 'PATCH',
        path,
        url: path.replace('{id}', ids[base] ?? ''),
        example: examples[`${method.toUpperCase()} ${path}`] ?? examples[`${method.toUpperCase()} ${base}`] ?? examples[base] ?? {},
        keys: [...propertyNames(op.requestBody.content['application/json'].schema)],
        // The dashboard's own /v1/auth routes answer a token with 401 (login: 401, then 429): fuzzed for 5xx only.
        sessionOnly: (op.tags ?? []).includes('dashboard'),
      })
    }
  }

  it('finds the routes', () => {
    expect(routes.length).toBeGreaterThanOrEqual(4)
  })

  for (const route of routes) {
    it(`${route.method} ${route.path}: zero 5xx`, async () => {
      const body = fc.oneof(
        value,
        fc.dictionary(fc.constantFrom(...route.keys), value, { maxKeys: route.keys.length }),
        // nested shapes: a list of objects built from the same keys (prices, options, fields…)
        fc.dictionary(fc.constantFrom(...route.keys), value, { maxKeys: 2 }).map((m) => ({ ...route.example, ...m })),
        fc.dictionary(fc.constantFrom(...route.keys), fc.array(fc.dictionary(fc.constantFrom(...route.keys), scalar), { maxLength: 3 }), { maxKeys: route.keys.length }),
      )
      const statuses: Record<number, number> = {}
      await fc.assert(
        fc.asyncProperty(body, async (payload) => {
          const url = secrets[route.path] ? route.url.replace('{client_secret}', await secrets[route.path]!()) : route.url
          const res = await app.inject({ method: route.method, url, headers: { ...org.headers, 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1
          if (res.statusCode >= 500) throw new Error(`${res.statusCode} for ${JSON.stringify(payload)}: ${res.body}`)
        }),
        { numRuns: 300 },
      )
      // the fuzzer must reach past validation too, or it proves little
      if (!route.sessionOnly) expect(statuses[201] ?? statuses[200] ?? 0, JSON.stringify(statuses)).toBeGreaterThan(0)
    })
  }
})
