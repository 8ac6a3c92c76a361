import { describe, expect, it } from 'vitest'
import { SETTLE_JOB, checkoutJobHandlers } from '../src/checkouts/jobs'
import { parseQuery } from '../src/http/query'
import { runDueJobs } from '../src/jobs/worker'
import { FixedClock, createOrg, createTestApp, polarClient } from './helpers'

/*
 * Polar's `?metadata[key]=value` filter on the product, customer, order and subscription lists
 * (server/polar/kit/metadata.py: `_get_metadata_query`, `get_metadata_clause`): for every key given, the
 * row's value as text is one of that key's values. Both SDK lines send it (deepObject style); before issue 18
 * Kassa ignored it and answered every row.
 */

describe('the metadata query parser', () => {
  it('folds metadata[key] (encoded or not, repeated) into one object and leaves other keys alone', () => {
    expect(parseQuery('metadata[tier]=gold&metadata%5Btier%5D=silver&metadata[n]=5&limit=10&a=1&a=2')).toEqual({
      metadata: { tier: ['gold', 'silver'], n: ['5'] },
      limit: '10',
      a: ['1', '2'],
    })
    expect(parseQuery('')).toEqual({})
    expect(parseQuery('metadata[]=x&metadata[a]b=y')).toEqual({ 'metadata[]': 'x', 'metadata[a]b': 'y' })
  })
})

describe('lists filtered by metadata', async () => {
  // A clock of its own, in the past, so its settlement jobs are never due for another file's worker run.
  const clock = new FixedClock('2021-03-01T00:00:00Z')
  const ctx = await createTestApp({ clock })
  const org = await createOrg(ctx, 'Metadata Filters')
  const polar = await polarClient(ctx.app, org.token)
  const ids = (page: { result: { items: { id: string }[] } }) => page.result.items.map((i) => i.id).sort()

  const gold = await polar.products.create({ name: 'Gold', prices: [{ amountType: 'fixed', priceAmount: 1000 }], metadata: { tier: 'gold', seats: 5, featured: true } } as never)
  const silver = await polar.products.create({ name: 'Silver', prices: [{ amountType: 'fixed', priceAmount: 500 }], metadata: { tier: 'silver', seats: 2 } } as never)
  const plain = await polar.products.create({ name: 'Plain', prices: [{ amountType: 'fixed', priceAmount: 100 }] } as never)
  const plan = await polar.products.create({ name: 'Plan', recurringInterval: 'month', prices: [{ amountType: 'fixed', priceAmount: 900 }] } as never)

  it('products: one value, several values of a key (or), several keys (and), numbers and booleans as text', async () => {
    expect(ids(await polar.products.list({ metadata: { tier: 'gold' } }))).toEqual([gold.id])
    expect(ids(await polar.products.list({ metadata: { tier: ['gold', 'silver'] } }))).toEqual([gold.id, silver.id].sort())
    expect(ids(await polar.products.list({ metadata: { tier: ['gold', 'silver'], seats: '2' } }))).toEqual([silver.id])
    expect(ids(await polar.products.list({ metadata: { featured: 'true' } }))).toEqual([gold.id])
    expect(ids(await polar.products.list({ metadata: { tier: 'bronze' } }))).toEqual([])
    expect((await polar.products.list({})).result.items.map((p) => p.id)).toEqual(expect.arrayContaining([gold.id, silver.id, plain.id]))
    // benefit_id (1.x sends it): Kassa's products have no benefits, so it matches none instead of being ignored
    expect((await polar.products.list({ benefitId: '0190c7a0-0000-7000-8000-000000000000' } as never)).result).toEqual({ items: [], pagination: { totalCount: 0, maxPage: 0 } })
  })

  it('orders, subscriptions and customers, from a purchase carrying metadata', async () => {
    const buy = async (productId: string, email: string, metadata: Record<string, string>) => {
      const c = await polar.checkouts.create({ products: [productId], customerEmail: email, metadata, customerMetadata: metadata } as never)
      await polar.checkouts.clientConfirm({ clientSecret: c.clientSecret, checkoutConfirmStripe: { confirmationTokenId: 'tok_sandbox_success' } } as never)
      await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
    }
    await buy(gold.id, 'news@example.com', { source: 'newsletter' })
    await buy(plan.id, 'ads@example.com', { source: 'ads' })

    const orders = (await polar.orders.list({ metadata: { source: 'newsletter' } })).result.items
    expect(orders.map((o) => o.product?.id)).toEqual([gold.id])
    expect((await polar.orders.list({ metadata: { source: ['newsletter', 'ads'] } })).result.items).toHaveLength(2)
    const subs = (await polar.subscriptions.list({ metadata: { source: 'ads' } })).result.items
    expect(subs.map((s) => s.product.id)).toEqual([plan.id])
    expect((await polar.subscriptions.list({ metadata: { source: 'newsletter' } })).result.items).toEqual([])
    const customers = (await polar.customers.list({ metadata: { source: 'ads' } })).result.items
    expect(customers.map((c) => c.email)).toEqual(['ads@example.com'])
  })

  it('refuses malformed filters with a 422 in Polar format, never a 500', async () => {
    const get = (q: string) => ctx.app.inject({ method: 'GET', url: `/v1/products/?${q}`, headers: org.headers })
    const long = await get(`metadata[${'k'.repeat(41)}]=x`)
    expect(long.statusCode).toBe(422)
    expect(long.json().detail[0].loc).toEqual(['query', 'metadata', 'k'.repeat(41)])
    const plainValue = await get('metadata=gold')
    expect(plainValue.statusCode).toBe(422)
    expect(plainValue.json().detail[0].loc).toEqual(['query', 'metadata'])
    const tooMany = await get(Array.from({ length: 51 }, (_, i) => `metadata[k${i}]=v`).join('&'))
    expect(tooMany.statusCode).toBe(422)
    // a quote or a JSON path in a key is a key like any other: it matches nothing
    const odd = await get(`metadata[${encodeURIComponent("tier'->>'x")}]=gold`)
    expect(odd.statusCode).toBe(200)
    expect(odd.json().items).toEqual([])
  })
})
