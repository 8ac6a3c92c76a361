import { describe, expect, it } from 'vitest'
import { getCustomerById, upsertCustomerForCheckout } from '../src/customers/service'
import type { Row } from '../src/db/types'
import { DiscountCreate } from '../src/discounts/schemas'
import { createDiscount } from '../src/discounts/service'
import { newId, newSecret } from '../src/lib/ids'
import { createOrderForCheckout, getOrderByCheckoutId, getOrderById } from '../src/orders/service'
import type { AuthContext } from '../src/organizations/service'
import { ProductCreate, type Product } from '../src/products/schemas'
import { createProduct, updateProduct } from '../src/products/service'
import { addInterval } from '../src/lib/time'
import { createSubscriptionForCheckout, getSubscriptionById } from '../src/subscriptions/service'
import { FixedClock, createOrg, createTestApp, polarClient, sdkLine, tokenWithScopes, type TestOrg } from './helpers'

describe('orders, subscriptions and customers', async () => {
  const clock = new FixedClock('2026-03-01T12:00:00Z')
  const ctx = await createTestApp({ clock })
  const { app } = ctx
  const db = ctx.deps.db

  const authOf = (org: TestOrg): AuthContext => ({ organizationId: org.organizationId, tokenId: 'x', scopes: new Set() })
  const notFound = { status: 404, body: { error: 'ResourceNotFound', detail: 'Not found' } }

  const seedProduct = (org: TestOrg, input: Record<string, unknown> = {}) =>
    createProduct(ctx.deps, authOf(org), ProductCreate.parse({ name: 'Sticker Pack', prices: [{ amount_type: 'fixed', price_amount: 1200 }], ...input }))

  const seedDiscount = (org: TestOrg, input: Record<string, unknown> = {}) =>
    createDiscount(ctx.deps, authOf(org), DiscountCreate.parse({ name: 'Ten off', type: 'percentage', basis_points: 1000, duration: 'once', ...input }))

  /** A checkout row as the checkouts domain will write it, already paid for. */
  async function insertCheckout(org: TestOrg, product: Product, overrides: Partial<Row<'checkouts'>> = {}): Promise<Row<'checkouts'>> {
    const price = product.prices[0]!
    const amount = overrides.amount ?? (price.amount_type === 'fixed' ? price.price_amount : 500)
    const discountAmount = overrides.discount_amount ?? 0
    const { metadata, custom_field_data, customer_billing_address, customer_metadata, payment_processor_metadata: _ppm, ...rest } = overrides
    return db
      .insertInto('checkouts')
      .values({
        id: newId(),
        organization_id: org.organizationId,
        client_secret: newSecret('polar_c_'),
        status: 'succeeded',
        expires_at: addInterval(clock.now(), 'day', 1),
        product_ids: [product.id],
        product_id: product.id,
        product_price_id: price.id,
        currency: price.price_currency,
        amount,
        discount_amount: discountAmount,
        net_amount: amount - discountAmount,
        tax_amount: 0,
        total_amount: amount - discountAmount,
        allow_discount_codes: true,
        require_billing_address: false,
        customer_email: 'buyer@example.com',
        customer_name: 'Ada Buyer',
        created_at: clock.now(),
        ...rest,
        metadata: JSON.stringify(metadata ?? {}),
        custom_field_data: JSON.stringify(custom_field_data ?? {}),
        customer_metadata: JSON.stringify(customer_metadata ?? {}),
        customer_billing_address: customer_billing_address ? JSON.stringify(customer_billing_address) : null,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
  }

  /** What the checkout settlement does, in one transaction: customer, subscription if recurring, order. */
  async function settle(org: TestOrg, checkout: Row<'checkouts'>, product: Product, opts: { trialEnd?: Date | null } = {}) {
    clock.advance(1000)
    const now = clock.now()
    return db.transaction().execute(async (tx) => {
      const { customer, created } = await upsertCustomerForCheckout(tx, {
        organizationId: org.organizationId,
        email: checkout.customer_email!,
        name: checkout.customer_name,
        billingAddress: checkout.customer_billing_address,
        taxId: checkout.customer_tax_id,
        externalId: checkout.external_customer_id,
        metadata: checkout.customer_metadata,
        now,
      })
      const subscription = product.is_recurring
        ? (await createSubscriptionForCheckout(tx, { organizationId: org.organizationId, customerId: customer.id, checkout, product, trialEnd: opts.trialEnd ?? null, now })).subscription
        : null
      const { order } = await createOrderForCheckout(tx, {
        organizationId: org.organizationId,
        customerId: customer.id,
        subscriptionId: subscription?.id ?? null,
        checkout,
        product,
        now,
      })
      return { customer, customerCreated: created, subscription, order }
    })
  }

  async function buy(org: TestOrg, product: Product, overrides: Partial<Row<'checkouts'>> = {}, opts: { trialEnd?: Date | null } = {}) {
    const checkout = await insertCheckout(org, product, overrides)
    return { checkout, ...(await settle(org, checkout, product, opts)) }
  }

  it('a one-time purchase makes a paid order and a customer that the SDK parses, with metadata and custom fields carried over', async () => {
    const org = await createOrg(ctx)
    const product = await seedProduct(org, { name: 'Sticker Pack', metadata: { sku: 'ST-1' } })
    const discount = await seedDiscount(org, { code: 'TEN', metadata: { campaign: 'spring' } })
    const metadata = { reference_id: 'ref-42', utm_source: 'newsletter', seats: 3, gift: true }
    const customFieldData = { company: 'Acme', employees: 12, terms: true, birthday: '2000-01-01T00:00:00Z', nickname: null }
    const { checkout, order, customer } = await buy(org, product, {
      discount_id: discount.id,
      amount: 1200,
      discount_amount: 120,
      customer_email: 'Ada@Example.com',
      customer_billing_name: 'Ada Lovelace Ltd',
      customer_billing_address: { line1: '1 Main St', city: 'London', postal_code: 'N1', country: 'GB' },
      customer_tax_id: 'GB123456789',
      external_customer_id: 'user_1',
      customer_metadata: { plan: 'gold' },
      metadata,
      custom_field_data: customFieldData,
    })

    const polar = await polarClient(app, org.token)
    const got = await polar.orders.get({ id: order.id })
    expect(got).toMatchObject({
      id: order.id,
      status: 'paid',
      paid: true,
      subtotalAmount: 1200,
      discountAmount: 120,
      netAmount: 1080,
      taxAmount: 0,
      totalAmount: 1080,
      appliedBalanceAmount: 0,
      dueAmount: 1080,
      refundedAmount: 0,
      refundableAmount: 1080,
      currency: 'usd',
      billingReason: 'purchase',
      billingName: 'Ada Lovelace Ltd',
      billingAddress: { line1: '1 Main St', city: 'London', postalCode: 'N1', country: 'GB' },
      invoiceNumber: null,
      isInvoiceGenerated: false,
      customerId: customer.id,
      productId: product.id,
      discountId: discount.id,
      subscriptionId: null,
      checkoutId: checkout.id,
      metadata,
      platformFeeAmount: 0,
      subscription: null,
      description: 'Sticker Pack',
    })
    expect(got.customFieldData).toMatchObject({ company: 'Acme', employees: 12, terms: true, nickname: null })
    expect(got.product).toMatchObject({ id: product.id, name: 'Sticker Pack', isRecurring: false, metadata: { sku: 'ST-1' } })
    expect(got.discount).toMatchObject({ id: discount.id, code: 'TEN', type: 'percentage', basisPoints: 1000 })
    expect(got.customer).toMatchObject({ id: customer.id, email: 'Ada@Example.com', name: 'Ada Buyer', type: 'individual', externalId: 'user_1', taxId: ['GB123456789', null] })
    expect(got.items).toEqual([
      {
        id: expect.any(String), createdAt: got.createdAt, modifiedAt: null, label: 'Sticker Pack', amount: 1200, taxAmount: 0, proration: false, productPriceId: product.prices[0]!.id,
        // 0.49's model has no item period and strips it; 1.x hands every field through (null: a one-time item)
        ...(sdkLine === '1.x' ? { startTimestamp: null, endTimestamp: null } : {}),
      },
    ])
    // the line's id is stable across reads
    expect((await polar.orders.get({ id: order.id })).items[0]!.id).toBe(got.items[0]!.id)

    const listed = await polar.orders.list({})
    expect(listed.result.items.map((o) => o.id)).toEqual([order.id])
    expect(listed.result.pagination).toEqual({ totalCount: 1, maxPage: 1 })

    const c = await polar.customers.get({ id: customer.id })
    expect(c).toMatchObject({ id: customer.id, email: 'Ada@Example.com', name: 'Ada Buyer', metadata: { plan: 'gold' }, emailVerified: false, type: 'individual', deletedAt: null, organizationId: org.organizationId })
    expect(c.billingAddress).toMatchObject({ country: 'GB', city: 'London' })
    expect((await polar.customers.list({})).result.items.map((i) => i.id)).toEqual([customer.id])

    // the getters the webhooks will use answer the same shapes
    expect(await getOrderById(db, org.organizationId, order.id)).toEqual(order)
    expect(await getOrderByCheckoutId(db, org.organizationId, checkout.id)).toEqual(order)
    expect(await getCustomerById(db, org.organizationId, customer.id)).toEqual(customer)
  })

  it('a recurring purchase makes an active subscription and a subscription_create order; a trial makes it trialing', async () => {
    const org = await createOrg(ctx)
    const monthly = await seedProduct(org, { name: 'Pro Monthly', recurring_interval: 'month', prices: [{ amount_type: 'fixed', price_amount: 2900 }] })
    const yearly = await seedProduct(org, { name: 'Pro Yearly', recurring_interval: 'year', trial_interval: 'day', trial_interval_count: 14, prices: [{ amount_type: 'fixed', price_amount: 29000 }] })
    const polar = await polarClient(app, org.token)

    const a = await buy(org, monthly, { metadata: { utm_campaign: 'launch' }, custom_field_data: { company: 'Acme' } })
    const sub = await polar.subscriptions.get({ id: a.subscription!.id })
    const start = new Date(a.order.created_at)
    expect(sub).toMatchObject({
      id: a.subscription!.id,
      status: 'active',
      amount: 2900,
      currency: 'usd',
      recurringInterval: 'month',
      recurringIntervalCount: 1,
      currentPeriodStart: start,
      currentPeriodEnd: addInterval(start, 'month', 1),
      trialStart: null,
      trialEnd: null,
      startedAt: start,
      cancelAtPeriodEnd: false,
      canceledAt: null,
      endedAt: null,
      customerId: a.customer.id,
      productId: monthly.id,
      checkoutId: a.checkout.id,
      discountId: null,
      discount: null,
      metadata: { utm_campaign: 'launch' },
      customFieldData: { company: 'Acme' },
      meters: [],
      pendingUpdate: null,
    })
    expect(sub.customer).toMatchObject({ id: a.customer.id, email: 'buyer@example.com' })
    expect(sub.product).toMatchObject({ id: monthly.id, name: 'Pro Monthly', isRecurring: true })
    expect(sub.product.prices).toHaveLength(1)
    expect(sub.prices).toEqual([expect.objectContaining({ id: monthly.prices[0]!.id, amountType: 'fixed', priceAmount: 2900 })])

    const order = await polar.orders.get({ id: a.order.id })
    expect(order).toMatchObject({ billingReason: 'subscription_create', subscriptionId: sub.id, metadata: { utm_campaign: 'launch' } })
    expect(order.subscription).toMatchObject({ id: sub.id, status: 'active', recurringInterval: 'month' })

    const trialEnd = addInterval(clock.now(), 'day', 14)
    const b = await buy(org, yearly, { customer_email: 'trial@example.com' }, { trialEnd })
    const trialing = await polar.subscriptions.get({ id: b.subscription!.id })
    expect(trialing).toMatchObject({ status: 'trialing', trialEnd, currentPeriodEnd: trialEnd, recurringInterval: 'year', amount: 29000 })
    expect(trialing.trialStart).toEqual(new Date(b.order.created_at))

    expect(await getSubscriptionById(db, org.organizationId, sub.id)).toEqual(a.subscription)

    // the archived price stays on the subscription
    await updateProduct(ctx.deps, authOf(org), monthly.id, { prices: [{ amount_type: 'fixed', price_amount: 3900, price_currency: 'usd' }] })
    const after = await polar.subscriptions.get({ id: sub.id })
    expect(after.prices.map((p) => p.id)).toEqual([monthly.prices[0]!.id])
    expect(after.prices[0]!.isArchived).toBe(true)
  })

  it('adds intervals in UTC, clamping to the end of shorter months', () => {
    expect(addInterval(new Date('2026-01-31T10:00:00Z'), 'month', 1).toISOString()).toBe('2026-02-28T10:00:00.000Z')
    expect(addInterval(new Date('2024-02-29T00:00:00Z'), 'year', 1).toISOString()).toBe('2025-02-28T00:00:00.000Z')
    expect(addInterval(new Date('2026-12-15T00:00:00Z'), 'month', 3).toISOString()).toBe('2027-03-15T00:00:00.000Z')
    expect(addInterval(new Date('2026-03-01T00:00:00Z'), 'week', 2).toISOString()).toBe('2026-03-15T00:00:00.000Z')
    expect(addInterval(new Date('2026-03-01T00:00:00Z'), 'day', 30).toISOString()).toBe('2026-03-31T00:00:00.000Z')
  })

  it('one customer per email, whatever its case; a missing name is filled in, an existing one kept', async () => {
    const org = await createOrg(ctx)
    const product = await seedProduct(org)
    const first = await buy(org, product, { customer_email: 'Same@Example.com', customer_name: null })
    expect(first.customerCreated).toBe(true)
    expect(first.customer.name).toBeNull()
    const second = await buy(org, product, { customer_email: 'same@EXAMPLE.com', customer_name: 'Named Later' })
    expect(second.customerCreated).toBe(false)
    expect(second.customer.id).toBe(first.customer.id)
    expect(second.customer).toMatchObject({ email: 'Same@Example.com', name: 'Named Later' })
    const third = await buy(org, product, { customer_email: ' SAME@example.COM ', customer_name: 'Another Name' })
    expect(third.customer).toMatchObject({ id: first.customer.id, name: 'Named Later' })

    // another organization gets its own customer for the same address
    const other = await createOrg(ctx)
    const otherProduct = await seedProduct(other)
    const elsewhere = await buy(other, otherProduct, { customer_email: 'same@example.com' })
    expect(elsewhere.customer.id).not.toBe(first.customer.id)

    const polar = await polarClient(app, org.token)
    const customers = await polar.customers.list({})
    expect(customers.result.items.map((c) => c.id)).toEqual([first.customer.id])
    const orders = await polar.orders.list({ customerId: first.customer.id })
    expect(orders.result.pagination.totalCount).toBe(3)
  })

  it('settling one checkout twice makes one order and one subscription', async () => {
    const org = await createOrg(ctx)
    const product = await seedProduct(org, { recurring_interval: 'month' })
    const checkout = await insertCheckout(org, product)
    const one = await settle(org, checkout, product)
    const two = await settle(org, checkout, product)
    expect(two.order.id).toBe(one.order.id)
    expect(two.subscription!.id).toBe(one.subscription!.id)
    expect(two.order).toEqual(one.order)

    const again = await db.transaction().execute((tx) =>
      createOrderForCheckout(tx, { organizationId: org.organizationId, customerId: one.customer.id, subscriptionId: one.subscription!.id, checkout, product, now: clock.now() }),
    )
    expect(again).toEqual({ order: one.order, created: false })

    const count = await db.selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('n')).where('checkout_id', '=', checkout.id).executeTakeFirstOrThrow()
    expect(Number(count.n)).toBe(1)
    const subs = await db.selectFrom('subscriptions').select((eb) => eb.fn.countAll<number>().as('n')).where('checkout_id', '=', checkout.id).executeTakeFirstOrThrow()
    expect(Number(subs.n)).toBe(1)
  })

  it('concurrent settlements for one email end on one customer, without an error', async () => {
    const org = await createOrg(ctx)
    const now = clock.now()
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        db.transaction().execute((tx) =>
          upsertCustomerForCheckout(tx, { organizationId: org.organizationId, email: i % 2 ? 'race@example.com' : 'RACE@example.com', name: `Racer ${i}`, now }),
        ),
      ),
    )
    const ids = new Set(results.map((r) => r.customer.id))
    expect(ids.size).toBe(1)
    expect(results.filter((r) => r.created)).toHaveLength(1)
    const rows = await db.selectFrom('customers').select('id').where('organization_id', '=', org.organizationId).execute()
    expect(rows).toHaveLength(1)
  })

  it('concurrent settlements of one checkout make one order', async () => {
    const org = await createOrg(ctx)
    const product = await seedProduct(org, { recurring_interval: 'week' })
    const checkout = await insertCheckout(org, product)
    const results = await Promise.all(Array.from({ length: 5 }, () => settle(org, checkout, product)))
    expect(new Set(results.map((r) => r.order.id)).size).toBe(1)
    expect(new Set(results.map((r) => r.subscription!.id)).size).toBe(1)
    const rows = await db.selectFrom('orders').select('id').where('organization_id', '=', org.organizationId).execute()
    expect(rows).toHaveLength(1)
  })

  it('lists orders with filters, sorting and pagination', async () => {
    const org = await createOrg(ctx)
    const stickers = await seedProduct(org, { name: 'Alpha Stickers' })
    const plan = await seedProduct(org, { name: 'Beta Plan', recurring_interval: 'month', prices: [{ amount_type: 'fixed', price_amount: 900 }] })
    const discount = await seedDiscount(org)
    const bought: Awaited<ReturnType<typeof buy>>[] = []
    for (let i = 0; i < 7; i++) {
      const recurring = i % 3 === 0
      bought.push(
        await buy(org, recurring ? plan : stickers, {
          customer_email: `buyer${i % 2}@example.com`,
          external_customer_id: i % 2 ? 'ext-odd' : null,
          amount: 100 * (i + 1),
          ...(i === 4 ? { discount_id: discount.id, discount_amount: 50 } : {}),
        }),
      )
    }
    const polar = await polarClient(app, org.token)
    const ids = (r: { result: { items: { id: string }[] } }) => r.result.items.map((o) => o.id)

    // default: newest first
    const all = await polar.orders.list({ limit: 100 })
    expect(ids(all)).toEqual(bought.map((b) => b.order.id).reverse())

    const page1 = await polar.orders.list({ limit: 3, sorting: ['created_at'] })
    expect(page1.result.pagination).toEqual({ totalCount: 7, maxPage: 3 })
    expect(ids(page1)).toEqual(bought.slice(0, 3).map((b) => b.order.id))
    const page3 = await polar.orders.list({ limit: 3, page: 3, sorting: ['created_at'] })
    expect(ids(page3)).toEqual([bought[6]!.order.id])

    expect(ids(await polar.orders.list({ productId: plan.id, sorting: ['created_at'] }))).toEqual([0, 3, 6].map((i) => bought[i]!.order.id))
    expect(ids(await polar.orders.list({ productBillingType: 'recurring', sorting: ['created_at'] }))).toEqual([0, 3, 6].map((i) => bought[i]!.order.id))
    expect((await polar.orders.list({ productBillingType: 'one_time' })).result.pagination.totalCount).toBe(4)
    expect(ids(await polar.orders.list({ discountId: discount.id }))).toEqual([bought[4]!.order.id])
    expect(ids(await polar.orders.list({ checkoutId: bought[2]!.checkout.id }))).toEqual([bought[2]!.order.id])
    expect(ids(await polar.orders.list({ subscriptionId: bought[3]!.subscription!.id }))).toEqual([bought[3]!.order.id])
    expect((await polar.orders.list({ customerId: bought[1]!.customer.id })).result.pagination.totalCount).toBe(3)
    expect((await polar.orders.list({ customerId: [bought[0]!.customer.id, bought[1]!.customer.id] })).result.pagination.totalCount).toBe(7)
    expect((await polar.orders.list({ externalCustomerId: 'ext-odd' })).result.pagination.totalCount).toBe(3)
    expect((await polar.orders.list({ organizationId: org.organizationId })).result.pagination.totalCount).toBe(7)
    expect((await polar.orders.list({ organizationId: newId() })).result.items).toEqual([])

    const byAmount = await polar.orders.list({ sorting: ['-net_amount'], limit: 2 })
    expect(byAmount.result.items.map((o) => o.netAmount)).toEqual([700, 600])
    const byProduct = await polar.orders.list({ sorting: ['-product', 'created_at'], limit: 1 })
    expect(byProduct.result.items[0]!.product!.name).toBe('Beta Plan')
    const byCustomer = await polar.orders.list({ sorting: ['customer', 'created_at'], limit: 100 })
    expect(byCustomer.result.items.map((o) => o.customer.email)).toEqual([...Array(4).fill('buyer0@example.com'), ...Array(3).fill('buyer1@example.com')])

    // `query` (Kassa only) searches the customer's email
    const q = await app.inject({ method: 'GET', url: '/v1/orders/?query=BUYER1', headers: org.headers })
    expect(q.json().pagination.total_count).toBe(3)
    const q2 = await app.inject({ method: 'GET', url: '/v1/orders/?query=%25', headers: org.headers })
    expect(q2.json().pagination.total_count).toBe(0)

    // Polar's status, created_after and created_before filters (Kassa's bounds are inclusive), and metadata[key]=value.
    const list = async (qs: string) => (await app.inject({ method: 'GET', url: `/v1/orders/?limit=100&sorting=created_at&${qs}`, headers: org.headers })).json().items.map((o: { id: string }) => o.id)
    await db.updateTable('orders').set({ status: 'partially_refunded' }).where('id', '=', bought[1]!.order.id).execute()
    expect(await list('status=partially_refunded')).toEqual([bought[1]!.order.id])
    expect(await list('status=paid&status=partially_refunded')).toHaveLength(7)
    expect(await list('status=refunded')).toEqual([])
    const at = (i: number) => encodeURIComponent(bought[i]!.order.created_at)
    expect(await list(`created_after=${at(5)}`)).toEqual([5, 6].map((i) => bought[i]!.order.id))
    expect(await list(`created_before=${at(1)}`)).toEqual([0, 1].map((i) => bought[i]!.order.id))
    expect(await list(`created_after=${at(2)}&created_before=${at(3)}`)).toEqual([2, 3].map((i) => bought[i]!.order.id))
    await db.updateTable('orders').set({ metadata: JSON.stringify({ source: 'ads' }) }).where('id', '=', bought[4]!.order.id).execute()
    expect(await list('metadata[source]=ads')).toEqual([bought[4]!.order.id])
    expect(await list('metadata[source]=none')).toEqual([])

    const bad = await app.inject({ method: 'GET', url: '/v1/orders/?sorting=nope', headers: org.headers })
    expect(bad.statusCode).toBe(422)
    expect(bad.json().detail[0].loc).toEqual(['query', 'sorting', 0])
  })

  it('lists subscriptions with status, active and other filters', async () => {
    const org = await createOrg(ctx)
    const monthly = await seedProduct(org, { name: 'Monthly', recurring_interval: 'month', prices: [{ amount_type: 'fixed', price_amount: 1000 }] })
    const yearly = await seedProduct(org, { name: 'Yearly', recurring_interval: 'year', prices: [{ amount_type: 'fixed', price_amount: 6000 }] })
    const discount = await seedDiscount(org)
    const a = await buy(org, monthly, { customer_email: 'a@example.com' })
    const b = await buy(org, yearly, { customer_email: 'b@example.com', discount_id: discount.id, discount_amount: 600 }, { trialEnd: addInterval(clock.now(), 'day', 7) })
    const c = await buy(org, monthly, { customer_email: 'c@example.com', external_customer_id: 'ext-c' })
    await db.updateTable('subscriptions').set({ status: 'canceled' }).where('id', '=', c.subscription!.id).execute()
    const one = await buy(org, await seedProduct(org, { name: 'One-time' }), { customer_email: 'd@example.com' })
    expect(one.subscription).toBeNull()

    const polar = await polarClient(app, org.token)
    const ids = (r: { result: { items: { id: string }[] } }) => r.result.items.map((s) => s.id)
    const [sa, sb, sc] = [a, b, c].map((x) => x.subscription!.id) as [string, string, string]

    // default sorting: newest start first
    expect(ids(await polar.subscriptions.list({}))).toEqual([sc, sb, sa])
    expect(ids(await polar.subscriptions.list({ status: 'trialing' }))).toEqual([sb])
    expect(ids(await polar.subscriptions.list({ status: ['active', 'canceled'], sorting: ['started_at'] }))).toEqual([sa, sc])
    expect(ids(await polar.subscriptions.list({ active: true, sorting: ['started_at'] }))).toEqual([sa, sb])
    expect(ids(await polar.subscriptions.list({ active: false }))).toEqual([sc])
    expect(ids(await polar.subscriptions.list({ active: true, status: 'canceled' }))).toEqual([])
    expect(ids(await polar.subscriptions.list({ productId: yearly.id }))).toEqual([sb])
    expect(ids(await polar.subscriptions.list({ customerId: a.customer.id }))).toEqual([sa])
    expect(ids(await polar.subscriptions.list({ externalCustomerId: 'ext-c' }))).toEqual([sc])
    expect(ids(await polar.subscriptions.list({ discountId: discount.id }))).toEqual([sb])
    expect(ids(await polar.subscriptions.list({ cancelAtPeriodEnd: true }))).toEqual([])
    expect(ids(await polar.subscriptions.list({ cancelAtPeriodEnd: false })).sort()).toEqual([sa, sb, sc].sort())
    expect(ids(await polar.subscriptions.list({ customerCancellationReason: 'too_expensive' }))).toEqual([])
    // amount per month: yearly 5400/12 = 450 < 1000
    expect(ids(await polar.subscriptions.list({ sorting: ['amount', 'started_at'] }))).toEqual([sb, sa, sc])
    expect(ids(await polar.subscriptions.list({ sorting: ['customer'] }))).toEqual([sa, sb, sc])
    expect(ids(await polar.subscriptions.list({ sorting: ['-status'] }))).toEqual([sc, sa, sb])

    const paged = await polar.subscriptions.list({ limit: 2, page: 2, sorting: ['started_at'] })
    expect(paged.result.pagination).toEqual({ totalCount: 3, maxPage: 2 })
    expect(ids(paged)).toEqual([sc])

    const sub = await polar.subscriptions.get({ id: sb })
    expect(sub.discount).toMatchObject({ id: discount.id, type: 'percentage' })
    expect(sub.amount).toBe(5400)
  })

  it('lists customers by email, query and active, with sorting', async () => {
    const org = await createOrg(ctx)
    const plan = await seedProduct(org, { recurring_interval: 'month' })
    const once = await seedProduct(org, { name: 'Once' })
    const zed = await buy(org, once, { customer_email: 'zed@example.com', customer_name: 'Zed Zulu' })
    const amy = await buy(org, plan, { customer_email: 'Amy@Example.com', customer_name: 'Amy Alpha', external_customer_id: 'crm-amy' })
    const bob = await buy(org, once, { customer_email: 'bob@sample.org', customer_name: 'Bob Bravo' })
    const polar = await polarClient(app, org.token)
    const ids = (r: { result: { items: { id: string }[] } }) => r.result.items.map((c) => c.id)

    expect(ids(await polar.customers.list({}))).toEqual([bob, amy, zed].map((x) => x.customer.id))
    expect(ids(await polar.customers.list({ sorting: ['email'] }))).toEqual([amy, bob, zed].map((x) => x.customer.id))
    expect(ids(await polar.customers.list({ sorting: ['-name'] }))).toEqual([zed, bob, amy].map((x) => x.customer.id))
    expect(ids(await polar.customers.list({ email: 'amy@example.com' }))).toEqual([amy.customer.id])
    expect(ids(await polar.customers.list({ email: 'amy@' }))).toEqual([])
    expect(ids(await polar.customers.list({ query: 'example.com', sorting: ['email'] }))).toEqual([amy.customer.id, zed.customer.id])
    expect(ids(await polar.customers.list({ query: 'bravo' }))).toEqual([bob.customer.id])
    expect(ids(await polar.customers.list({ query: 'crm-' }))).toEqual([amy.customer.id])
    expect(ids(await polar.customers.list({ active: true }))).toEqual([amy.customer.id])
    expect(ids(await polar.customers.list({ active: false, sorting: ['email'] }))).toEqual([bob.customer.id, zed.customer.id])
    const page = await polar.customers.list({ limit: 2, page: 2, sorting: ['created_at'] })
    expect(page.result.pagination).toEqual({ totalCount: 3, maxPage: 2 })
    expect(ids(page)).toEqual([bob.customer.id])

    // a soft-deleted customer disappears from the customer API but stays on its orders
    await db.updateTable('customers').set({ deleted_at: clock.now() }).where('id', '=', zed.customer.id).execute()
    expect((await app.inject({ method: 'GET', url: `/v1/customers/${zed.customer.id}`, headers: org.headers })).statusCode).toBe(404)
    expect(ids(await polar.customers.list({}))).toHaveLength(2)
    const order = await polar.orders.get({ id: zed.order.id })
    expect(order.customer.deletedAt).not.toBeNull()
  })

  it('isolates tenants: another organization gets 404 and sees nothing', async () => {
    const a = await createOrg(ctx)
    const b = await createOrg(ctx)
    const product = await seedProduct(a, { recurring_interval: 'month' })
    const { order, subscription, customer } = await buy(a, product)
    for (const url of [`/v1/orders/${order.id}`, `/v1/subscriptions/${subscription!.id}`, `/v1/customers/${customer.id}`]) {
      const res = await app.inject({ method: 'GET', url, headers: b.headers })
      expect({ status: res.statusCode, body: res.json() }).toEqual(notFound)
      expect((await app.inject({ method: 'GET', url, headers: a.headers })).statusCode).toBe(200)
    }
    for (const url of ['/v1/orders/', '/v1/subscriptions/', '/v1/customers/']) {
      const res = await app.inject({ method: 'GET', url, headers: b.headers })
      expect(res.json()).toEqual({ items: [], pagination: { total_count: 0, max_page: 0 } })
    }
    // naming the other organization, or its ids, in filters reveals nothing
    const filtered = await app.inject({ method: 'GET', url: `/v1/orders/?organization_id=${a.organizationId}&customer_id=${customer.id}`, headers: b.headers })
    expect(filtered.json().items).toEqual([])
    expect(await getOrderById(db, b.organizationId, order.id)).toBeUndefined()
    expect(await getSubscriptionById(db, b.organizationId, subscription!.id)).toBeUndefined()
    expect(await getCustomerById(db, b.organizationId, customer.id)).toBeUndefined()
  })

  it('answers 404 for unknown ids and 422 for malformed ones', async () => {
    const org = await createOrg(ctx)
    for (const path of ['orders', 'subscriptions', 'customers']) {
      const missing = await app.inject({ method: 'GET', url: `/v1/${path}/${newId()}`, headers: org.headers })
      expect({ status: missing.statusCode, body: missing.json() }).toEqual(notFound)
      const malformed = await app.inject({ method: 'GET', url: `/v1/${path}/not-a-uuid`, headers: org.headers })
      expect(malformed.statusCode).toBe(422)
      expect(malformed.json().detail[0].loc).toEqual(['path', 'id'])
    }
  })

  it('requires a token (401) with the domain read scope (403)', async () => {
    const org = await createOrg(ctx)
    const product = await seedProduct(org, { recurring_interval: 'month' })
    const { order, subscription, customer } = await buy(org, product)
    const routes = [
      { scope: 'orders:read', urls: ['/v1/orders/', `/v1/orders/${order.id}`] },
      { scope: 'subscriptions:read', urls: ['/v1/subscriptions/', `/v1/subscriptions/${subscription!.id}`] },
      { scope: 'customers:read', urls: ['/v1/customers/', `/v1/customers/${customer.id}`] },
    ]
    const productsOnly = await tokenWithScopes(ctx, org.organizationId, ['products:read'])
    for (const { scope, urls } of routes) {
      const granted = await tokenWithScopes(ctx, org.organizationId, [scope])
      for (const url of urls) {
        const none = await app.inject({ method: 'GET', url })
        expect({ status: none.statusCode, body: none.json() }).toEqual({ status: 401, body: { error: 'Unauthorized', detail: 'Unauthorized' } })
        const bad = await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer polar_oat_nope' } })
        expect(bad.statusCode).toBe(401)
        const denied = await app.inject({ method: 'GET', url, headers: productsOnly })
        expect({ status: denied.statusCode, body: denied.json() }).toEqual({
          status: 403,
          body: { error: 'NotPermitted', detail: 'You do not have the required scope for this operation.' },
        })
        expect((await app.inject({ method: 'GET', url, headers: granted })).statusCode).toBe(200)
      }
    }
    // customers:write grants customers:read
    const writer = await tokenWithScopes(ctx, org.organizationId, ['customers:write'])
    expect((await app.inject({ method: 'GET', url: '/v1/customers/', headers: writer })).statusCode).toBe(200)
  })

  it('documents every route in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
    for (const path of ['/v1/orders', '/v1/orders/{id}', '/v1/subscriptions', '/v1/subscriptions/{id}', '/v1/customers', '/v1/customers/{id}']) {
      expect(doc.paths[path]?.get?.responses?.['200'], path).toBeDefined()
    }
  })
})
