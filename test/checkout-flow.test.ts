import { describe, expect, it } from 'vitest'
import { checkoutJobHandlers, SETTLE_JOB } from '../src/checkouts/jobs'
import { runDueJobs } from '../src/jobs/worker'
import { createOrg, createTestApp, polarClient } from './helpers'

describe('checkout flow smoke', async () => {
  const ctx = await createTestApp()
  const { app } = ctx
  it('link → visit → session → confirm → settle → order', async () => {
    const org = await createOrg(ctx)
    const polar = await polarClient(app, org.token)
    const product = await polar.products.create({ name: 'Sticker Pack', prices: [{ amountType: 'fixed', priceAmount: 1200 }] })
    const discount = await polar.discounts.create({ name: 'Launch', type: 'percentage', basisPoints: 2000, duration: 'once', code: 'LAUNCH20' })
    const link = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [product.id], metadata: { source: 'link' }, successUrl: 'https://example.com/ok?checkout_id={CHECKOUT_ID}' })
    expect(link.url).toBe(`http://kassa.test/buy/${link.clientSecret}`)
    const visit = await app.inject({ method: 'GET', url: `/buy/${link.clientSecret}?customer_email=a@b.co&discount_code=launch20&utm_source=x&foo=bar` })
    expect(visit.statusCode).toBe(307)
    const location = visit.headers.location as string
    console.log(location)
    const secret = location.split('/checkout/')[1]!.split('?')[0]!
    const pub = await polar.checkouts.clientGet({ clientSecret: secret })
    expect(pub.totalAmount).toBe(960)
    expect(pub.customerEmail).toBe('a@b.co')
    const confirmed = await polar.checkouts.clientConfirm({ clientSecret: secret, checkoutConfirmStripe: { confirmationTokenId: 'tok_sandbox_success' } })
    expect(confirmed.status).toBe('confirmed')
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
    const after = await polar.checkouts.get({ id: pub.id })
    expect(after.status).toBe('succeeded')
    expect(after.successUrl).toBe(`https://example.com/ok?checkout_id=${pub.id}`)
    const orders = await polar.orders.list({})
    expect(orders.result.items).toHaveLength(1)
    console.log(JSON.stringify(orders.result.items[0]?.metadata))
  })
})
