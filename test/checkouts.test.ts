import type { Polar } from '@polar-sh/sdk'
import type { LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { EXPIRE_JOB, SETTLE_JOB, checkoutJobHandlers, expireCheckouts, settleCheckout } from '../src/checkouts/jobs'
import { enqueue } from '../src/jobs/queue'
import { runDueJobs } from '../src/jobs/worker'
import { addInterval } from '../src/subscriptions/service'
import { FixedClock, createOrg, createTestApp, polarClient, testDatabaseUrl, tokenWithScopes, type TestContext, type TestOrg } from './helpers'

/*
 * Checkout sessions over the API and the client endpoints, through @polar-sh/sdk (which validates every
 * response) and app.inject() for error bodies. The clock is fixed in the past, so that this file's jobs
 * are never due for another file's worker run and its `runDueJobs` never takes another file's jobs
 * (the database is shared by the files of a worker, and by every worker on PostgreSQL).
 */

const notFound = { status: 404, body: { error: 'ResourceNotFound', detail: 'Not found' } }
// Polar's NotOpenCheckout: `Checkout {id} is not open: {status}` (server/polar/checkout/service.py)
const notOpen = { status: 403, body: { error: 'NotOpenCheckout', detail: expect.stringMatching(/^Checkout [0-9a-f-]{36} is not open: (confirmed|succeeded|failed|expired)$/) } }
const expired = { status: 410, body: { error: 'ExpiredCheckoutError', detail: 'This checkout session has expired.' } }
const declined = { status: 400, body: { error: 'PaymentError', detail: 'Your card was declined.' } }
// Polar's confirm (server/polar/checkout/service.py `confirm`): its own messages for what the session lacks
const missingEmail = { loc: ['body', 'customer_email'], msg: 'Field is required.', type: 'missing', input: null }
const missingToken = { loc: ['body', 'confirmation_token_id'], msg: 'Confirmation token is required.', type: 'missing', input: null }
const res = (r: LightMyRequestResponse) => ({ status: r.statusCode, body: r.json() as unknown })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('checkout sessions', async () => {
  const clock = new FixedClock('2025-01-01T00:00:00Z')
  const ctx = await createTestApp({ clock })
  const { app } = ctx
  const db = ctx.deps.db

  async function setup(name = 'Test Org'): Promise<{ org: TestOrg; polar: Polar }> {
    const org = await createOrg(ctx, name)
    return { org, polar: await polarClient(app, org.token) }
  }

  const clientPatch = (secret: string, payload: object) => app.inject({ method: 'PATCH', url: `/v1/checkouts/client/${secret}`, payload })
  const clientConfirm = (secret: string, payload: object) => app.inject({ method: 'POST', url: `/v1/checkouts/client/${secret}/confirm`, payload })
  const rowOf = (id: string) => db.selectFrom('checkouts').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

  /**
   * Runs settlement until the session leaves `confirmed`. Another file's worker run may have claimed the
   * job (it is due for any later clock), so this waits for that run to finish rather than failing.
   */
  async function settle(polar: Polar, id: string) {
    for (let i = 0; i < 200; i++) {
      await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
      const checkout = await polar.checkouts.get({ id })
      if (checkout.status !== 'confirmed') return checkout
      await sleep(25)
    }
    throw new Error(`checkout ${id} was not settled`)
  }

  const fixedProduct = (polar: Polar, priceAmount: number, extra: Partial<Parameters<Polar['products']['create']>[0]> = {}) =>
    polar.products.create({ name: 'Sticker Pack', prices: [{ amountType: 'fixed', priceAmount }], ...extra } as Parameters<Polar['products']['create']>[0])

  // ---- purchases end to end -----------------------------------------------------------------------

  it('a fixed price, with a preset discount, custom fields and metadata, ends in a paid order and a customer', async () => {
    const { polar } = await setup()
    const company = await polar.customFields.create({ type: 'text', slug: 'company', name: 'Company', properties: {} })
    const employees = await polar.customFields.create({ type: 'number', slug: 'employees', name: 'Employees', properties: { ge: 1 } })
    const product = await fixedProduct(polar, 999, {
      attachedCustomFields: [
        { customFieldId: company.id, required: true },
        { customFieldId: employees.id, required: false },
      ],
    })
    const discount = await polar.discounts.create({ name: 'Twenty', type: 'percentage', basisPoints: 2000, duration: 'once' })

    clock.advance(1000)
    const created = await polar.checkouts.create({ products: [product.id], discountId: discount.id, metadata: { reference_id: 'ref-1', campaign: 'spring', seats: 3, gift: true }, customerName: 'Ada', customerMetadata: { plan: 'gold' } })
    expect(created).toMatchObject({
      status: 'open',
      productId: product.id,
      productPriceId: product.prices[0]!.id,
      discountId: discount.id,
      amount: 999,
      discountAmount: 200, // 20% of 999 = 199.8, half up
      netAmount: 799,
      taxAmount: 0,
      totalAmount: 799,
      currency: 'usd',
      isDiscountApplicable: true,
      isFreeProductPrice: false,
      isPaymentRequired: true,
      isPaymentFormRequired: true,
      customerId: null,
      customerName: 'Ada',
      customerEmail: null,
      metadata: { reference_id: 'ref-1', campaign: 'spring', seats: 3, gift: true },
      customerMetadata: { plan: 'gold' },
    })
    expect(created.attachedCustomFields?.map((f) => [f.customField.slug, f.required])).toEqual([['company', true], ['employees', false]])

    const updated = await polar.checkouts.clientUpdate({
      clientSecret: created.clientSecret,
      checkoutUpdatePublic: { customerEmail: 'Ada@Example.com', customFieldData: { company: 'Acme', employees: 12 } },
    })
    expect(updated).toMatchObject({ customerEmail: 'Ada@Example.com', customFieldData: { company: 'Acme', employees: 12 }, totalAmount: 799, status: 'open' })
    // a bad value for a field is a 422 on that field
    expect(res(await clientPatch(created.clientSecret, { custom_field_data: { employees: 0 } }))).toEqual({
      status: 422,
      body: { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'custom_field_data', 'employees'], msg: 'Input should be greater than or equal to 1', type: 'greater_than_equal', input: 0, ctx: { ge: 1 } }] },
    })

    const confirmed = await polar.checkouts.clientConfirm({ clientSecret: created.clientSecret, checkoutConfirmStripe: { confirmationTokenId: 'tok_sandbox_success' } })
    expect(confirmed).toMatchObject({ status: 'confirmed', totalAmount: 799, customerSessionToken: null })
    expect((await polar.checkouts.clientGet({ clientSecret: created.clientSecret })).status).toBe('confirmed')
    expect((await polar.orders.list({})).result.items).toEqual([])

    clock.advance(1000)
    const settled = await settle(polar, created.id)
    expect(settled.status).toBe('succeeded')
    expect(settled.customerId).toEqual(expect.any(String))

    const customers = (await polar.customers.list({})).result.items
    expect(customers).toHaveLength(1)
    // a new customer gets the session's customer_metadata
    expect(customers[0]).toMatchObject({ id: settled.customerId, email: 'Ada@Example.com', name: 'Ada', metadata: { plan: 'gold' } })

    const orders = (await polar.orders.list({})).result.items
    expect(orders).toHaveLength(1)
    expect(orders[0]).toMatchObject({
      status: 'paid',
      paid: true,
      billingReason: 'purchase',
      subtotalAmount: 999,
      discountAmount: 200,
      netAmount: 799,
      taxAmount: 0,
      totalAmount: 799,
      currency: 'usd',
      customerId: settled.customerId,
      productId: product.id,
      discountId: discount.id,
      subscriptionId: null,
      checkoutId: created.id,
      metadata: { reference_id: 'ref-1', campaign: 'spring', seats: 3, gift: true },
      customFieldData: { company: 'Acme', employees: 12 },
    })
    expect((await polar.subscriptions.list({})).result.items).toEqual([])
    expect((await polar.discounts.get({ id: discount.id })).redemptionsCount).toBe(1)
  })

  it('pay what you want: the amount is chosen via clientUpdate, within the price\'s bounds', async () => {
    const { polar } = await setup()
    const product = await polar.products.create({ name: 'Tip jar', prices: [{ amountType: 'custom', minimumAmount: 500, maximumAmount: 10_000, presetAmount: 2000 }] })
    const created = await polar.checkouts.create({ products: [product.id], metadata: { source: 'pwyw' } })
    expect(created).toMatchObject({ amount: 2000, totalAmount: 2000 })

    for (const amount of [499, 10_001]) {
      expect(res(await clientPatch(created.clientSecret, { amount }))).toEqual({
        status: 422,
        body: { error: 'PolarRequestValidationError', detail: [amount === 499
          ? { loc: ['body', 'amount'], msg: 'Amount is below minimum.', type: 'greater_than_equal', input: amount, ctx: { ge: 500 } }
          : { loc: ['body', 'amount'], msg: 'Amount is above maximum.', type: 'less_than_equal', input: amount, ctx: { le: 10_000 } }] },
      })
    }
    expect((await polar.checkouts.clientGet({ clientSecret: created.clientSecret })).amount).toBe(2000)

    const chosen = await polar.checkouts.clientUpdate({ clientSecret: created.clientSecret, checkoutUpdatePublic: { amount: 3500 } })
    expect(chosen).toMatchObject({ amount: 3500, discountAmount: 0, netAmount: 3500, totalAmount: 3500 })
    // a later change leaves the chosen amount alone
    const withEmail = await polar.checkouts.clientUpdate({ clientSecret: created.clientSecret, checkoutUpdatePublic: { customerEmail: 'tipper@example.com' } })
    expect(withEmail.amount).toBe(3500)

    // below the minimum at confirm too
    expect(res(await clientConfirm(created.clientSecret, { amount: 100, confirmation_token_id: 'tok_sandbox_success' })).status).toBe(422)
    const confirmed = await polar.checkouts.clientConfirm({ clientSecret: created.clientSecret, checkoutConfirmStripe: { confirmationTokenId: 'tok_sandbox_success' } })
    expect(confirmed).toMatchObject({ status: 'confirmed', amount: 3500 })
    const settled = await settle(polar, created.id)
    expect(settled.status).toBe('succeeded')
    const [order] = (await polar.orders.list({})).result.items
    expect(order).toMatchObject({ subtotalAmount: 3500, discountAmount: 0, netAmount: 3500, taxAmount: 0, totalAmount: 3500, metadata: { source: 'pwyw' }, customFieldData: {} })
    expect((await polar.customers.list({})).result.items.map((c) => c.email)).toEqual(['tipper@example.com'])
  })

  it('pay what you want from 0: choosing 0 sticks, and nothing is due', async () => {
    const { polar } = await setup()
    const product = await polar.products.create({ name: 'Free or tip', prices: [{ amountType: 'custom', minimumAmount: 0, presetAmount: 1000 }] })
    const created = await polar.checkouts.create({ products: [product.id] })
    expect(created.amount).toBe(1000)
    expect((await polar.checkouts.clientUpdate({ clientSecret: created.clientSecret, checkoutUpdatePublic: { amount: 0 } })).amount).toBe(0)
    const later = await polar.checkouts.clientUpdate({ clientSecret: created.clientSecret, checkoutUpdatePublic: { customerEmail: 'zero@example.com', locale: 'fr' } })
    expect(later).toMatchObject({ amount: 0, totalAmount: 0, isPaymentRequired: false, locale: 'fr' })
    const confirmed = await polar.checkouts.clientConfirm({ clientSecret: created.clientSecret, checkoutConfirmStripe: {} })
    expect(confirmed).toMatchObject({ status: 'confirmed', totalAmount: 0 })
    await settle(polar, created.id)
    expect((await polar.orders.list({})).result.items[0]).toMatchObject({ subtotalAmount: 0, totalAmount: 0 })
  })

  it('a free product ($0) needs no token', async () => {
    const { polar } = await setup()
    const product = await fixedProduct(polar, 0, { name: 'Free guide' })
    const created = await polar.checkouts.create({ products: [product.id], customerEmail: 'free@example.com', metadata: { k: 'v' } })
    expect(created).toMatchObject({ amount: 0, totalAmount: 0, isFreeProductPrice: true, isPaymentRequired: false, isPaymentSetupRequired: false, isPaymentFormRequired: false })
    const confirmed = await polar.checkouts.clientConfirm({ clientSecret: created.clientSecret, checkoutConfirmStripe: {} })
    expect(confirmed.status).toBe('confirmed')
    const settled = await settle(polar, created.id)
    expect(settled).toMatchObject({ status: 'succeeded', customerId: expect.any(String) })
    expect((await polar.orders.list({})).result.items).toMatchObject([
      { subtotalAmount: 0, discountAmount: 0, netAmount: 0, taxAmount: 0, totalAmount: 0, metadata: { k: 'v' }, customerId: settled.customerId, billingReason: 'purchase' },
    ])
    expect((await polar.customers.list({})).result.items).toMatchObject([{ id: settled.customerId, email: 'free@example.com' }])
  })

  it('a monthly subscription with a 7-day trial: trialing, and the trial\'s order is $0', async () => {
    const { polar } = await setup()
    const product = await polar.products.create({
      name: 'Pro monthly',
      recurringInterval: 'month',
      trialInterval: 'day',
      trialIntervalCount: 7,
      prices: [{ amountType: 'fixed', priceAmount: 1500 }],
    })
    clock.advance(1000)
    const created = await polar.checkouts.create({ products: [product.id], customerEmail: 'trial@example.com', metadata: { plan: 'pro' } })
    const now = clock.now()
    expect(created).toMatchObject({
      amount: 1500,
      totalAmount: 1500,
      activeTrialInterval: 'day',
      activeTrialIntervalCount: 7,
      trialEnd: new Date(now.getTime() + 7 * 86_400_000),
      isPaymentRequired: false,
      isPaymentSetupRequired: true,
      isPaymentFormRequired: true,
    })
    // a card is still needed, to charge when the trial ends
    expect(res(await clientConfirm(created.clientSecret, {}))).toEqual({ status: 422, body: { error: 'PolarRequestValidationError', detail: [missingToken] } })

    const confirmed = await polar.checkouts.clientConfirm({ clientSecret: created.clientSecret, checkoutConfirmStripe: { confirmationTokenId: 'tok_sandbox_success' } })
    expect(confirmed.status).toBe('confirmed')
    clock.advance(1000)
    const settledAt = clock.now()
    const settled = await settle(polar, created.id)
    expect(settled.status).toBe('succeeded')

    const subs = (await polar.subscriptions.list({})).result.items
    expect(subs).toHaveLength(1)
    const trialEnd = new Date(settledAt.getTime() + 7 * 86_400_000)
    expect(subs[0]).toMatchObject({
      status: 'trialing',
      amount: 1500,
      currency: 'usd',
      recurringInterval: 'month',
      trialStart: settledAt,
      trialEnd,
      currentPeriodStart: settledAt,
      currentPeriodEnd: trialEnd,
      customerId: settled.customerId,
      productId: product.id,
      checkoutId: created.id,
      metadata: { plan: 'pro' },
    })
    const orders = (await polar.orders.list({})).result.items
    expect(orders).toMatchObject([
      { subtotalAmount: 0, discountAmount: 0, netAmount: 0, taxAmount: 0, totalAmount: 0, billingReason: 'subscription_create', subscriptionId: subs[0]!.id, metadata: { plan: 'pro' } },
    ])
    expect((await polar.customers.list({})).result.items.map((c) => c.email)).toEqual(['trial@example.com'])
  })

  it('a monthly subscription without trial (or with the trial declined): active and charged', async () => {
    const { polar } = await setup()
    const plain = await polar.products.create({ name: 'Basic monthly', recurringInterval: 'month', prices: [{ amountType: 'fixed', priceAmount: 900 }] })
    const withTrial = await polar.products.create({ name: 'Pro monthly', recurringInterval: 'month', trialInterval: 'week', trialIntervalCount: 1, prices: [{ amountType: 'fixed', priceAmount: 2900 }] })

    clock.advance(1000)
    const a = await polar.checkouts.create({ products: [plain.id], customerEmail: 'sub@example.com', metadata: { n: 1 } })
    expect(a).toMatchObject({ activeTrialInterval: null, trialEnd: null, isPaymentRequired: true })
    await polar.checkouts.clientConfirm({ clientSecret: a.clientSecret, checkoutConfirmStripe: { confirmationTokenId: 'tok_sandbox_success' } })
    const settledAt = clock.now()
    const sa = await settle(polar, a.id)

    const b = await polar.checkouts.create({ products: [withTrial.id], customerEmail: 'SUB@example.com' })
    const skipped = await polar.checkouts.clientUpdate({ clientSecret: b.clientSecret, checkoutUpdatePublic: { allowTrial: false } })
    expect(skipped).toMatchObject({ allowTrial: false, activeTrialInterval: null, isPaymentRequired: true })
    await polar.checkouts.clientConfirm({ clientSecret: b.clientSecret, checkoutConfirmStripe: { confirmationTokenId: 'tok_sandbox_success' } })
    const sb = await settle(polar, b.id)
    // one customer per email, whatever its case
    expect(sb.customerId).toBe(sa.customerId)

    const subs = (await polar.subscriptions.list({})).result.items
    const subA = subs.find((s) => s.checkoutId === a.id)!
    expect(subA).toMatchObject({ status: 'active', amount: 900, trialStart: null, trialEnd: null, currentPeriodStart: settledAt, currentPeriodEnd: addInterval(settledAt, 'month', 1), metadata: { n: 1 } })
    expect(subs.find((s) => s.checkoutId === b.id)).toMatchObject({ status: 'active', amount: 2900, trialEnd: null })
    const orders = (await polar.orders.list({})).result.items
    expect(orders.map((o) => [o.checkoutId, o.totalAmount, o.billingReason]).sort()).toEqual(
      [[a.id, 900, 'subscription_create'], [b.id, 2900, 'subscription_create']].sort(),
    )
    expect((await polar.customers.list({})).result.items).toHaveLength(1)
  })

  it('a required custom field missing at confirm is a 422 on that field', async () => {
    const { polar } = await setup()
    const field = await polar.customFields.create({ type: 'text', slug: 'vat_number', name: 'VAT', properties: {} })
    const terms = await polar.customFields.create({ type: 'checkbox', slug: 'terms', name: 'Terms', properties: {} })
    const product = await fixedProduct(polar, 1000, {
      attachedCustomFields: [
        { customFieldId: field.id, required: true },
        { customFieldId: terms.id, required: true },
      ],
    })
    const created = await polar.checkouts.create({ products: [product.id], customerEmail: 'a@example.com', customFieldData: { terms: true } })
    expect(res(await clientConfirm(created.clientSecret, { confirmation_token_id: 'tok_sandbox_success' }))).toEqual({
      status: 422,
      body: { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'custom_field_data', 'vat_number'], msg: 'Field required', type: 'missing', input: { terms: true } }] },
    })
    // a required checkbox must be ticked
    expect(res(await clientConfirm(created.clientSecret, { confirmation_token_id: 'tok_sandbox_success', custom_field_data: { vat_number: 'GB1', terms: false } }))).toEqual({
      status: 422,
      // Polar's required checkbox is a Literal[True] in the confirm model (custom_field/data.py)
      body: { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'custom_field_data', 'terms'], msg: 'Input should be True', type: 'literal_error', input: false, ctx: { expected: 'True' } }] },
    })
    expect((await polar.checkouts.clientGet({ clientSecret: created.clientSecret })).status).toBe('open')
    // given at confirm, it is accepted and carried onto the order
    const ok = await clientConfirm(created.clientSecret, { confirmation_token_id: 'tok_sandbox_success', custom_field_data: { vat_number: 'GB123', terms: true } })
    expect(ok.statusCode).toBe(200)
    await settle(polar, created.id)
    expect((await polar.orders.list({})).result.items[0]?.customFieldData).toEqual({ vat_number: 'GB123', terms: true })
  })

  it('confirm without email or token answers 422 on each missing field', async () => {
    const { polar } = await setup()
    const product = await fixedProduct(polar, 1000)
    const created = await polar.checkouts.create({ products: [product.id] })
    expect(res(await clientConfirm(created.clientSecret, {}))).toEqual({ status: 422, body: { error: 'PolarRequestValidationError', detail: [missingEmail, missingToken] } })
    expect(res(await clientConfirm(created.clientSecret, { confirmation_token_id: 'tok_sandbox_success' }))).toEqual({ status: 422, body: { error: 'PolarRequestValidationError', detail: [missingEmail] } })
    expect(res(await clientConfirm(created.clientSecret, { customer_email: 'a@example.com' }))).toEqual({ status: 422, body: { error: 'PolarRequestValidationError', detail: [missingToken] } })
    // a malformed email is refused by the schema
    const bad = await clientConfirm(created.clientSecret, { customer_email: 'not-an-email', confirmation_token_id: 'tok_sandbox_success' })
    expect(bad.statusCode).toBe(422)
    expect(bad.json().detail[0].loc).toEqual(['body', 'customer_email'])
    // nothing was written by the failed attempts
    expect(await polar.checkouts.clientGet({ clientSecret: created.clientSecret })).toMatchObject({ status: 'open', customerEmail: null })
    expect(res(await clientConfirm('polar_c_doesnotexist', { confirmation_token_id: 'tok_sandbox_success' }))).toEqual(notFound)
    expect(res(await app.inject({ method: 'GET', url: '/v1/checkouts/client/polar_c_doesnotexist' }))).toEqual(notFound)
    expect(res(await clientPatch('polar_c_doesnotexist', {}))).toEqual(notFound)
  })

  // ---- payments --------------------------------------------------------------------------------------

  it('a declined card is a 400 PaymentError and the session stays open for another try', async () => {
    const { polar } = await setup()
    const product = await fixedProduct(polar, 1200)
    const created = await polar.checkouts.create({ products: [product.id], customerEmail: 'retry@example.com' })
    expect(res(await clientConfirm(created.clientSecret, { confirmation_token_id: 'tok_sandbox_decline' }))).toEqual(declined)
    expect((await polar.checkouts.clientGet({ clientSecret: created.clientSecret })).status).toBe('open')
    expect(res(await clientConfirm(created.clientSecret, { confirmation_token_id: 'tok_sandbox_decline' }))).toEqual(declined)

    const confirmed = await polar.checkouts.clientConfirm({ clientSecret: created.clientSecret, checkoutConfirmStripe: { confirmationTokenId: 'tok_sandbox_success' } })
    expect(confirmed.status).toBe('confirmed')
    expect((await settle(polar, created.id)).status).toBe('succeeded')
    expect((await polar.orders.list({})).result.items).toHaveLength(1)
  })

  it('a capture that fails at settlement ends `failed`: no order, and the discount redemption is given back', async () => {
    const { polar } = await setup()
    const product = await fixedProduct(polar, 1000)
    const discount = await polar.discounts.create({ name: 'Five', type: 'fixed', amount: 500, currency: 'usd', duration: 'once', code: 'FIVE', maxRedemptions: 1 })
    const created = await polar.checkouts.create({ products: [product.id], customerEmail: 'fail@example.com' })
    await polar.checkouts.clientUpdate({ clientSecret: created.clientSecret, checkoutUpdatePublic: { discountCode: 'five' } })

    const confirmed = await polar.checkouts.clientConfirm({ clientSecret: created.clientSecret, checkoutConfirmStripe: { confirmationTokenId: 'tok_sandbox_fail_capture' } })
    expect(confirmed).toMatchObject({ status: 'confirmed', totalAmount: 500 })
    expect((await polar.discounts.get({ id: discount.id })).redemptionsCount).toBe(1)

    const settled = await settle(polar, created.id)
    expect(settled).toMatchObject({ status: 'failed', customerId: null })
    expect((await rowOf(created.id)).payment_error).toBe('The payment could not be settled.')
    expect((await polar.orders.list({})).result.items).toEqual([])
    expect((await polar.customers.list({})).result.items).toEqual([])
    expect((await polar.discounts.get({ id: discount.id })).redemptionsCount).toBe(0)
    expect(await db.selectFrom('discount_redemptions').select('checkout_id').where('checkout_id', '=', created.id).execute()).toEqual([])
    // a failed session is closed; the discount is free for the next buyer
    expect(res(await clientConfirm(created.clientSecret, { confirmation_token_id: 'tok_sandbox_success' }))).toEqual(notOpen)
    const next = await polar.checkouts.create({ products: [product.id] })
    expect((await polar.checkouts.clientUpdate({ clientSecret: next.clientSecret, checkoutUpdatePublic: { discountCode: 'FIVE' } })).totalAmount).toBe(500)
  })

  it('confirm is idempotent: a second confirm is 403 NotOpenCheckout, and settling twice makes one order', async () => {
    const { org, polar } = await setup()
    const product = await fixedProduct(polar, 1200)
    const created = await polar.checkouts.create({ products: [product.id], customerEmail: 'twice@example.com' })
    expect((await clientConfirm(created.clientSecret, { confirmation_token_id: 'tok_sandbox_success' })).statusCode).toBe(200)
    expect(res(await clientConfirm(created.clientSecret, { confirmation_token_id: 'tok_sandbox_success' }))).toEqual(notOpen)
    // and no more changes
    expect(res(await clientPatch(created.clientSecret, { customer_name: 'Late' }))).toEqual(notOpen)
    expect(res(await app.inject({ method: 'PATCH', url: `/v1/checkouts/${created.id}`, headers: org.headers, payload: { metadata: { a: 1 } } }))).toEqual(notOpen)

    await settle(polar, created.id)
    expect(await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })).toBe(0)
    // the job again (a crash after its commit), and a duplicate enqueue: still one order
    await settleCheckout(ctx.deps, created.id, 'tok_sandbox_success')
    await enqueue(db, { kind: SETTLE_JOB, payload: { checkout_id: created.id, token: 'tok_sandbox_success' }, dedupeKey: `${SETTLE_JOB}:${created.id}` }, clock.now())
    await runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
    expect((await polar.orders.list({})).result.items).toHaveLength(1)
    expect((await polar.checkouts.get({ id: created.id })).status).toBe('succeeded')
    expect(res(await clientConfirm(created.clientSecret, { confirmation_token_id: 'tok_sandbox_success' }))).toEqual(notOpen)
  })

  it('two concurrent confirms of one session: exactly one succeeds', async () => {
    const { polar } = await setup()
    const product = await fixedProduct(polar, 1200)
    const created = await polar.checkouts.create({ products: [product.id], customerEmail: 'race@example.com' })
    const results = await Promise.all([0, 1].map(() => clientConfirm(created.clientSecret, { confirmation_token_id: 'tok_sandbox_success' })))
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 403])
    expect(res(results.find((r) => r.statusCode === 403)!)).toEqual(notOpen)
    await settle(polar, created.id)
    expect((await polar.orders.list({})).result.items).toHaveLength(1)
  })

  it(`10 concurrent confirms on a code with max_redemptions 3: exactly 3 get it (${testDatabaseUrl ? 'postgres' : 'pglite'})`, async () => {
    const { polar } = await setup()
    const product = await fixedProduct(polar, 1000)
    const discount = await polar.discounts.create({ name: 'Three only', type: 'percentage', basisPoints: 5000, duration: 'once', code: 'FIRST3', maxRedemptions: 3 })
    const sessions = []
    for (let i = 0; i < 10; i++) {
      const c = await polar.checkouts.create({ products: [product.id], customerEmail: `buyer${i}@example.com` })
      const withCode = await polar.checkouts.clientUpdate({ clientSecret: c.clientSecret, checkoutUpdatePublic: { discountCode: 'first3' } })
      expect(withCode).toMatchObject({ discountId: discount.id, totalAmount: 500 })
      sessions.push(c)
    }
    const results = await Promise.all(sessions.map((s) => clientConfirm(s.clientSecret, { confirmation_token_id: 'tok_sandbox_success' })))
    const ok = results.filter((r) => r.statusCode === 200)
    expect(ok).toHaveLength(3)
    for (const r of ok) expect(r.json()).toMatchObject({ status: 'confirmed', discount_id: discount.id, discount_amount: 500, total_amount: 500 })
    for (const r of results.filter((r) => r.statusCode !== 200)) {
      expect(res(r)).toEqual({
        status: 422,
        body: { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'discount_id'], msg: 'Discount is no longer redeemable.', type: 'value_error', input: discount.id }] },
      })
    }
    expect((await polar.discounts.get({ id: discount.id })).redemptionsCount).toBe(3)

    // the others lost the discount and show the full price; they can pay it
    const losers = sessions.filter((_, i) => results[i]!.statusCode !== 200)
    for (const s of losers) {
      expect(await polar.checkouts.clientGet({ clientSecret: s.clientSecret })).toMatchObject({ status: 'open', discountId: null, discountAmount: 0, totalAmount: 1000 })
      expect((await clientConfirm(s.clientSecret, { confirmation_token_id: 'tok_sandbox_success' })).statusCode).toBe(200)
    }
    for (const s of sessions) await settle(polar, s.id)
    const orders = (await polar.orders.list({ limit: 100 })).result.items
    expect(orders).toHaveLength(10)
    expect(orders.filter((o) => o.discountId === discount.id).map((o) => o.totalAmount)).toEqual([500, 500, 500])
    expect(orders.filter((o) => o.discountId === null).map((o) => o.totalAmount)).toEqual(Array(7).fill(1000))
    expect((await polar.discounts.get({ id: discount.id })).redemptionsCount).toBe(3)
  })

  // ---- discounts on the session ----------------------------------------------------------------------

  it('discount codes via clientUpdate: case-insensitive, checked, removable, and only where allowed', async () => {
    const { org, polar } = await setup()
    const product = await fixedProduct(polar, 2000)
    const other = await fixedProduct(polar, 2000, { name: 'Other product' })
    await polar.discounts.create({ name: 'Spring', type: 'percentage', basisPoints: 2500, duration: 'once', code: 'Spring25' })
    await polar.discounts.create({ name: 'Ended', type: 'percentage', basisPoints: 1000, duration: 'once', code: 'ENDED', startsAt: new Date('2024-01-01T00:00:00Z'), endsAt: new Date('2024-12-31T00:00:00Z') })
    await polar.discounts.create({ name: 'Later', type: 'percentage', basisPoints: 1000, duration: 'once', code: 'LATER', startsAt: new Date('2025-06-01T00:00:00Z') })
    await polar.discounts.create({ name: 'Other only', type: 'percentage', basisPoints: 1000, duration: 'once', code: 'OTHERONLY', products: [other.id] })
    await polar.discounts.create({ name: 'Euro', type: 'fixed', amount: 500, currency: 'eur', duration: 'once', code: 'EURO5' })
    const usedUp = await polar.discounts.create({ name: 'Used', type: 'percentage', basisPoints: 1000, duration: 'once', code: 'USEDUP', maxRedemptions: 1 })
    await db.updateTable('discounts').set({ redemptions_count: 1 }).where('id', '=', usedUp.id).execute()
    // another organization's code is unknown here
    const { polar: polarB } = await setup('Other Org')
    await polarB.discounts.create({ name: 'B', type: 'percentage', basisPoints: 1000, duration: 'once', code: 'BCODE' })

    const created = await polar.checkouts.create({ products: [product.id] })
    const applied = await polar.checkouts.clientUpdate({ clientSecret: created.clientSecret, checkoutUpdatePublic: { discountCode: ' spring25 ' } })
    expect(applied).toMatchObject({ discountAmount: 500, netAmount: 1500, totalAmount: 1500, isDiscountApplicable: true, discount: { code: 'Spring25' } })

    // each wrong code on a session of its own: one session may try only a handful (see the limits' test)
    for (const code of ['NOPE', 'ENDED', 'LATER', 'OTHERONLY', 'EURO5', 'USEDUP', 'BCODE']) {
      const fresh = await polar.checkouts.create({ products: [product.id] })
      expect({ code, ...res(await clientPatch(fresh.clientSecret, { discount_code: code })) }).toEqual({
        code,
        status: 422,
        // Polar's _get_validated_discount: the input echoed is discount_id, null when a code was sent
        body: { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'discount_code'], msg: 'Discount does not exist.', type: 'value_error', input: null }] },
      })
    }
    // a refused code leaves the applied one in place
    expect((await clientPatch(created.clientSecret, { discount_code: 'NOPE' })).statusCode).toBe(422)
    expect((await polar.checkouts.clientGet({ clientSecret: created.clientSecret })).totalAmount).toBe(1500)

    const removed = await polar.checkouts.clientUpdate({ clientSecret: created.clientSecret, checkoutUpdatePublic: { discountCode: null } })
    expect(removed).toMatchObject({ discountId: null, discount: null, discountAmount: 0, totalAmount: 2000 })

    // a code that ends between being applied and the payment is refused at confirm, and removed
    await polar.discounts.create({ name: 'Flash', type: 'percentage', basisPoints: 5000, duration: 'once', code: 'FLASH', endsAt: new Date(clock.now().getTime() + 5000) })
    const flash = await polar.checkouts.clientUpdate({ clientSecret: created.clientSecret, checkoutUpdatePublic: { discountCode: 'flash', customerEmail: 'f@example.com' } })
    expect(flash.totalAmount).toBe(1000)
    clock.advance(5000)
    expect((await polar.checkouts.clientGet({ clientSecret: created.clientSecret })).totalAmount).toBe(1000) // still inside the window (ends_at included)
    clock.advance(1)
    // reads show today's total at once: the ended discount no longer counts, before any change
    expect(await polar.checkouts.clientGet({ clientSecret: created.clientSecret })).toMatchObject({ isDiscountApplicable: false, discountAmount: 0, totalAmount: 2000 })
    expect(res(await clientConfirm(created.clientSecret, { confirmation_token_id: 'tok_sandbox_success' }))).toEqual({
      status: 422,
      body: { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'discount_id'], msg: 'Discount is no longer redeemable.', type: 'value_error', input: flash.discountId }] },
    })
    expect(await polar.checkouts.clientGet({ clientSecret: created.clientSecret })).toMatchObject({ status: 'open', discountId: null, totalAmount: 2000 })

    const closed = await polar.checkouts.create({ products: [product.id], allowDiscountCodes: false })
    // Polar's _update_checkout looks a code up only when allow_discount_codes is true: otherwise it is ignored
    expect(await polar.checkouts.clientUpdate({ clientSecret: closed.clientSecret, checkoutUpdatePublic: { discountCode: 'SPRING25' } })).toMatchObject({ discountId: null, totalAmount: 2000 })
    const paid = await clientConfirm(closed.clientSecret, { discount_code: 'SPRING25', customer_email: 'x@example.com', confirmation_token_id: 'tok_sandbox_success' })
    expect(paid.json()).toMatchObject({ status: 'confirmed', discount_id: null, total_amount: 2000 })
    void org
  })

  // ---- expiry ----------------------------------------------------------------------------------------

  describe('expiry', async () => {
    // A clock of its own, earlier than the main one: the expiry job run here only reaches this block's sessions.
    const expClock = new FixedClock('2024-06-01T00:00:00Z')
    const exp: TestContext = await createTestApp({ clock: expClock, config: { checkoutTtlSeconds: 60 } })

    it('CHECKOUT_TTL_SECONDS sets expires_at (the default is a day)', async () => {
      const org = await createOrg(ctx)
      const polar = await polarClient(app, org.token)
      const product = await fixedProduct(polar, 100)
      const c = await polar.checkouts.create({ products: [product.id] })
      expect(c.expiresAt.getTime() - c.createdAt.getTime()).toBe(86_400_000)

      const orgE = await createOrg(exp)
      const polarE = await polarClient(exp.app, orgE.token)
      const p = await fixedProduct(polarE, 100)
      const e = await polarE.checkouts.create({ products: [p.id] })
      expect(e.createdAt).toEqual(expClock.now())
      expect(e.expiresAt).toEqual(new Date(expClock.now().getTime() + 60_000))
    })

    it('past expires_at the session reads expired before the job runs, refuses changes with 410, and the job marks it', async () => {
      const org = await createOrg(exp)
      const polar = await polarClient(exp.app, org.token)
      const product = await fixedProduct(polar, 100)
      const c = await polar.checkouts.create({ products: [product.id], customerEmail: 'late@example.com' })
      const patchC = (payload: object) => exp.app.inject({ method: 'PATCH', url: `/v1/checkouts/client/${c.clientSecret}`, payload })
      const confirmC = (payload: object) => exp.app.inject({ method: 'POST', url: `/v1/checkouts/client/${c.clientSecret}/confirm`, payload })

      expClock.advance(59_999)
      expect((await patchC({ customer_name: 'Still here' })).statusCode).toBe(200)
      expect((await polar.checkouts.get({ id: c.id })).status).toBe('open')

      expClock.advance(1) // exactly expires_at
      const later = await polar.checkouts.create({ products: [product.id] }) // opened now: open for another minute
      expect((await polar.checkouts.get({ id: c.id })).status).toBe('expired')
      // Polar's get_by_client_secret raises ExpiredCheckoutError (410) for an expired session, on every client route
      expect(res(await exp.app.inject({ method: 'GET', url: `/v1/checkouts/client/${c.clientSecret}` }))).toEqual(expired)
      await expect(polar.checkouts.clientGet({ clientSecret: c.clientSecret })).rejects.toMatchObject({ statusCode: 410 })
      expect((await polar.checkouts.list({ status: 'expired' })).result.items.map((x) => x.id)).toEqual([c.id])
      expect((await polar.checkouts.list({ status: 'open' })).result.items.map((x) => x.id)).toEqual([later.id])
      expect((await rowOf(c.id)).status).toBe('open') // the job has not run yet

      expect(res(await patchC({ customer_name: 'Too late' }))).toEqual(expired)
      expect(res(await confirmC({ confirmation_token_id: 'tok_sandbox_success' }))).toEqual(expired)
      // the merchant's update answers as Polar's `update` does for a session that is not open
      expect(res(await exp.app.inject({ method: 'PATCH', url: `/v1/checkouts/${c.id}`, headers: org.headers, payload: { metadata: { a: 1 } } }))).toEqual({ status: 403, body: { error: 'NotOpenCheckout', detail: `Checkout ${c.id} is not open: expired` } })

      await enqueue(exp.deps.db, { kind: EXPIRE_JOB, payload: {} }, expClock.now())
      expect(await runDueJobs(exp.deps, checkoutJobHandlers, { kinds: [EXPIRE_JOB] })).toBeGreaterThanOrEqual(1)
      expect((await rowOf(c.id)).status).toBe('expired')
      expect((await rowOf(later.id)).status).toBe('open')
      expect((await polar.checkouts.get({ id: c.id })).status).toBe('expired')
      expect(res(await confirmC({ confirmation_token_id: 'tok_sandbox_success' }))).toEqual(expired)

      expClock.advance(60_000)
      expect(await expireCheckouts(exp.deps)).toBeGreaterThanOrEqual(1)
      expect((await rowOf(later.id)).status).toBe('expired')
      expect(await expireCheckouts(exp.deps)).toBe(0)
    })

    it('expires every overdue session, however many, in batches', async () => {
      const org = await createOrg(exp)
      const polar = await polarClient(exp.app, org.token)
      const product = await fixedProduct(polar, 100)
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push((await polar.checkouts.create({ products: [product.id] })).id)
      expClock.advance(61_000)
      expect(await expireCheckouts(exp.deps, 2)).toBeGreaterThanOrEqual(5)
      for (const id of ids) expect((await rowOf(id)).status).toBe('expired')
    })

    it('a confirmed session does not expire', async () => {
      const org = await createOrg(exp)
      const polar = await polarClient(exp.app, org.token)
      const product = await fixedProduct(polar, 100)
      const c = await polar.checkouts.create({ products: [product.id], customerEmail: 'quick@example.com' })
      await polar.checkouts.clientConfirm({ clientSecret: c.clientSecret, checkoutConfirmStripe: { confirmationTokenId: 'tok_sandbox_success' } })
      expClock.advance(120_000)
      await expireCheckouts(exp.deps)
      // (a settlement run elsewhere may have settled it meanwhile: its job is due for any later clock)
      expect(['confirmed', 'succeeded']).toContain((await polar.checkouts.get({ id: c.id })).status)
      expect(['confirmed', 'succeeded']).toContain((await rowOf(c.id)).status)
    })
  })

  // ---- the merchant API ------------------------------------------------------------------------------

  it('API create: products, discount, amount, customer fields, metadata and success_url', async () => {
    const { org, polar } = await setup()
    const a = await fixedProduct(polar, 1500, { name: 'Alpha' })
    const b = await polar.products.create({ name: 'Beta', prices: [{ amountType: 'custom', minimumAmount: 100, presetAmount: 700 }] })
    const discount = await polar.discounts.create({ name: 'Ten', type: 'percentage', basisPoints: 1000, duration: 'once' })

    const created = await polar.checkouts.create({
      products: [a.id, b.id],
      discountId: discount.id,
      customerEmail: 'ada@example.com',
      customerName: 'Ada Lovelace',
      customerBillingName: 'Ada Ltd',
      customerBillingAddress: { country: 'GB', line1: '1 Main St', city: 'London', postalCode: 'N1' },
      customerTaxId: 'GB123',
      externalCustomerId: 'user_42',
      customerMetadata: { plan: 'gold' },
      metadata: { order_ref: 'x-1', qty: 2 },
      successUrl: 'https://example.com/thanks?checkout_id={CHECKOUT_ID}',
      returnUrl: 'https://example.com/back',
      locale: 'de',
      allowDiscountCodes: false,
      requireBillingAddress: true,
    })
    expect(created).toMatchObject({
      status: 'open',
      organizationId: org.organizationId,
      productId: a.id,
      productPriceId: a.prices[0]!.id,
      amount: 1500,
      discountId: discount.id,
      discountAmount: 150,
      totalAmount: 1350,
      customerEmail: 'ada@example.com',
      customerName: 'Ada Lovelace',
      customerBillingName: 'Ada Ltd',
      customerBillingAddress: { country: 'GB', line1: '1 Main St', city: 'London', postalCode: 'N1' },
      customerTaxId: 'GB123',
      externalCustomerId: 'user_42',
      customerMetadata: { plan: 'gold' },
      metadata: { order_ref: 'x-1', qty: 2 },
      successUrl: `https://example.com/thanks?checkout_id=${created.id}`,
      returnUrl: 'https://example.com/back',
      locale: 'de',
      allowDiscountCodes: false,
      requireBillingAddress: true,
      url: `http://kassa.test/checkout/${created.clientSecret}`,
      modifiedAt: null,
      createdAt: clock.now(),
    })
    expect(created.clientSecret).toMatch(/^polar_c_[A-Za-z0-9_-]{32,}$/)
    expect(created.products.map((p) => p.id)).toEqual([a.id, b.id])
    expect(Object.keys(created.prices ?? {}).sort()).toEqual([a.id, b.id].sort())
    expect(await polar.checkouts.get({ id: created.id })).toEqual(created)

    // the buyer switches to the pay-what-you-want product: its preset applies
    const switched = await polar.checkouts.clientUpdate({ clientSecret: created.clientSecret, checkoutUpdatePublic: { productId: b.id } })
    expect(switched).toMatchObject({ productId: b.id, amount: 700, discountAmount: 70, totalAmount: 630 })

    // the deprecated product_id form, an amount, and the default success URL
    const single = await app.inject({ method: 'POST', url: '/v1/checkouts/', headers: org.headers, payload: { product_id: b.id, amount: 2500 } })
    expect(single.statusCode).toBe(201)
    const s = await polar.checkouts.get({ id: single.json().id })
    expect(s).toMatchObject({ productId: b.id, amount: 2500, totalAmount: 2500, successUrl: `http://kassa.test/checkout/${s.clientSecret}/confirmation`, metadata: {} })
    expect(s.products.map((p) => p.id)).toEqual([b.id])
    // and by price
    const byPrice = await app.inject({ method: 'POST', url: '/v1/checkouts/', headers: org.headers, payload: { product_price_id: a.prices[0]!.id } })
    expect(byPrice.json()).toMatchObject({ product_id: a.id, total_amount: 1500 })
  })

  it('API create: validation errors', async () => {
    const { org, polar } = await setup()
    const { polar: polarB } = await setup('Other Org')
    const product = await fixedProduct(polar, 1000)
    const foreign = await fixedProduct(polarB, 1000)
    const archived = await fixedProduct(polar, 1000, { name: 'Old' })
    await polar.products.update({ id: archived.id, productUpdate: { isArchived: true } })
    const foreignDiscount = await polarB.discounts.create({ name: 'B', type: 'percentage', basisPoints: 1000, duration: 'once' })
    const pwyw = await polar.products.create({ name: 'Tip', prices: [{ amountType: 'custom', minimumAmount: 500 }] })
    const post = (payload: object) => app.inject({ method: 'POST', url: '/v1/checkouts/', headers: org.headers, payload })
    const err = (loc: (string | number)[], msg: string, input?: unknown, type = 'value_error') => ({
      status: 422,
      body: { error: 'PolarRequestValidationError', detail: [{ loc: ['body', ...loc], msg, type, ...(input !== undefined ? { input } : {}) }] },
    })

    expect(res(await post({ products: [foreign.id] }))).toEqual(err(['products', 0], 'Product does not exist.', foreign.id))
    expect(res(await post({ products: [product.id, foreign.id] }))).toEqual(err(['products', 1], 'Product does not exist.', foreign.id))
    expect(res(await post({ products: [archived.id] }))).toEqual(err(['products', 0], 'Product is archived.', archived.id))
    expect(res(await post({ products: [product.id, product.id] }))).toEqual(err(['products', 1], 'A product can only be listed once.', product.id))
    expect(res(await post({}))).toEqual({ status: 422, body: { error: 'RequestValidationError', detail: [{ loc: ['body', 'products'], msg: 'Field required', type: 'missing' }] } })
    expect(res(await post({ products: [product.id], discount_id: foreignDiscount.id }))).toEqual(err(['discount_id'], 'Discount does not exist.', foreignDiscount.id))
    expect(res(await post({ products: [pwyw.id], amount: 499 }))).toEqual({ status: 422, body: { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'amount'], msg: 'Amount is below minimum.', type: 'greater_than_equal', input: 499, ctx: { ge: 500 } }] } })

    for (const url of ['javascript:alert(1)', 'data:text/html,hi', '//evil.example/x', 'ftp://example.com']) {
      for (const key of ['success_url', 'return_url']) {
        const r = await post({ products: [product.id], [key]: url })
        expect(r.statusCode).toBe(422)
        expect(r.json().detail.map((d: { loc: unknown }) => d.loc)).toEqual([['body', key]])
      }
    }
    expect((await post({ products: ['not-a-uuid'] })).statusCode).toBe(422)
    expect((await post({ products: [product.id], metadata: { ['k'.repeat(41)]: 'v' } })).statusCode).toBe(422)
    // server-owned fields are ignored
    const owned = await post({ products: [product.id], status: 'succeeded', client_secret: 'polar_c_mine', id: '00000000-0000-4000-8000-000000000000', total_amount: 1 })
    expect(owned.statusCode).toBe(201)
    expect(owned.json()).toMatchObject({ status: 'open', total_amount: 1000 })
    expect(owned.json().client_secret).not.toBe('polar_c_mine')
    // nothing else was created
    expect((await polar.checkouts.list({})).result.pagination.totalCount).toBe(1)
  })

  it('API update: only the keys sent change; buyer and merchant fields, product and discount', async () => {
    const { org, polar } = await setup()
    const a = await fixedProduct(polar, 1000, { name: 'Alpha' })
    const b = await fixedProduct(polar, 3000, { name: 'Beta' })
    const discount = await polar.discounts.create({ name: 'Half', type: 'percentage', basisPoints: 5000, duration: 'once' })
    const created = await polar.checkouts.create({ products: [a.id, b.id], metadata: { keep: 'me' }, customerName: 'Ada' })

    clock.advance(1000)
    const updated = await polar.checkouts.update({
      id: created.id,
      checkoutUpdate: { productId: b.id, discountId: discount.id, customerEmail: 'ada@example.com', successUrl: 'https://example.com/{CHECKOUT_ID}/done', allowDiscountCodes: false },
    })
    expect(updated).toMatchObject({
      productId: b.id,
      amount: 3000,
      discountId: discount.id,
      discountAmount: 1500,
      totalAmount: 1500,
      customerEmail: 'ada@example.com',
      customerName: 'Ada',
      metadata: { keep: 'me' },
      successUrl: `https://example.com/${created.id}/done`,
      allowDiscountCodes: false,
      modifiedAt: clock.now(),
    })
    const again = await polar.checkouts.update({ id: created.id, checkoutUpdate: { metadata: { replaced: true }, discountId: null } })
    expect(again).toMatchObject({ metadata: { replaced: true }, discountId: null, totalAmount: 3000, customerEmail: 'ada@example.com' })
    expect(await polar.checkouts.get({ id: created.id })).toEqual(again)

    const patch = (payload: object) => app.inject({ method: 'PATCH', url: `/v1/checkouts/${created.id}`, headers: org.headers, payload })
    const other = await fixedProduct(polar, 500, { name: 'Not in the session' })
    expect(res(await patch({ product_id: other.id }))).toEqual({
      status: 422,
      body: { error: 'PolarRequestValidationError', detail: [{ loc: ['body', 'product_id'], msg: 'Product is not available in this checkout.', type: 'value_error', input: other.id }] },
    })
    expect((await patch({ success_url: 'javascript:alert(1)' })).statusCode).toBe(422)
    expect(res(await app.inject({ method: 'PATCH', url: '/v1/checkouts/00000000-0000-4000-8000-000000000000', headers: org.headers, payload: {} }))).toEqual(notFound)
    expect(res(await app.inject({ method: 'GET', url: '/v1/checkouts/00000000-0000-4000-8000-000000000000', headers: org.headers }))).toEqual(notFound)
  })

  it('list: filters by product, status, customer, email query and checkout link', async () => {
    const { org, polar } = await setup()
    const a = await fixedProduct(polar, 1000, { name: 'Alpha' })
    const b = await fixedProduct(polar, 2000, { name: 'Beta' })
    const ids: Record<string, string> = {}
    const make = async (key: string, product: string, email: string | null) => {
      clock.advance(1000)
      const c = await polar.checkouts.create({ products: [product], customerEmail: email })
      ids[key] = c.id
      return c
    }
    await make('a1', a.id, 'alice@example.com')
    const a2 = await make('a2', a.id, 'bob@example.org')
    await make('b1', b.id, null)
    const b2 = await make('b2', b.id, 'Alice.Smith@Example.com')
    await polar.checkouts.clientConfirm({ clientSecret: a2.clientSecret, checkoutConfirmStripe: { confirmationTokenId: 'tok_sandbox_success' } })
    const bob = await settle(polar, a2.id)
    await polar.checkouts.clientConfirm({ clientSecret: b2.clientSecret, checkoutConfirmStripe: { confirmationTokenId: 'tok_sandbox_fail_capture' } })
    expect((await settle(polar, b2.id)).status).toBe('failed')

    // a session from a checkout link
    const link = await polar.checkoutLinks.create({ paymentProcessor: 'stripe', products: [a.id] })
    clock.advance(1000)
    const visit = await app.inject({ method: 'GET', url: `/buy/${link.clientSecret}` })
    expect(visit.statusCode).toBe(307)

    const list = async (q: Parameters<Polar['checkouts']['list']>[0]) => (await polar.checkouts.list(q)).result
    const idsOf = async (q: Parameters<Polar['checkouts']['list']>[0]) => (await list(q)).items.map((c) => c.id)

    const all = await list({})
    expect(all.pagination).toEqual({ totalCount: 5, maxPage: 1 })
    const linked = all.items[0]! // newest first
    // checkout_link_id is Kassa's own field (the SDK drops it)
    expect((await app.inject({ method: 'GET', url: `/v1/checkouts/${linked.id}`, headers: org.headers })).json()).toMatchObject({ checkout_link_id: link.id, product_id: a.id })
    expect((await app.inject({ method: 'GET', url: `/v1/checkouts/${ids.a1}`, headers: org.headers })).json()).toMatchObject({ checkout_link_id: null })
    expect(all.items.map((c) => c.id).slice(1)).toEqual([ids.b2, ids.b1, ids.a2, ids.a1])
    expect(await idsOf({ sorting: ['created_at'] })).toEqual([ids.a1, ids.a2, ids.b1, ids.b2, linked.id])

    expect(await idsOf({ productId: b.id })).toEqual([ids.b2, ids.b1])
    expect(await idsOf({ productId: [a.id] })).toEqual([linked.id, ids.a2, ids.a1])
    expect(await idsOf({ status: 'open' })).toEqual([linked.id, ids.b1, ids.a1])
    expect(await idsOf({ status: 'succeeded' })).toEqual([ids.a2])
    expect(await idsOf({ status: 'failed' })).toEqual([ids.b2])
    expect(await idsOf({ status: ['failed', 'succeeded'] })).toEqual([ids.b2, ids.a2])
    expect(await idsOf({ customerId: bob.customerId! })).toEqual([ids.a2])
    expect(await idsOf({ query: 'alice' })).toEqual([ids.b2, ids.a1])
    expect(await idsOf({ query: 'EXAMPLE.ORG' })).toEqual([ids.a2])
    expect(await idsOf({ query: '%' })).toEqual([])
    expect(await idsOf({ productId: a.id, status: 'open' })).toEqual([linked.id, ids.a1])
    const page2 = await list({ limit: 2, page: 2 })
    expect(page2.pagination).toEqual({ totalCount: 5, maxPage: 3 })
    expect(page2.items.map((c) => c.id)).toEqual([ids.b1, ids.a2])

    // checkout_link_id is Kassa's own filter (the SDK does not know it)
    const byLink = await app.inject({ method: 'GET', url: `/v1/checkouts/?checkout_link_id=${link.id}`, headers: org.headers })
    expect(byLink.json().items.map((c: { id: string }) => c.id)).toEqual([linked.id])
    const noLink = await app.inject({ method: 'GET', url: '/v1/checkouts/?checkout_link_id=00000000-0000-4000-8000-000000000000', headers: org.headers })
    expect(noLink.json()).toEqual({ items: [], pagination: { total_count: 0, max_page: 0 } })
    expect((await app.inject({ method: 'GET', url: '/v1/checkouts/?status=bogus', headers: org.headers })).statusCode).toBe(422)
  })

  // ---- tenancy and auth ------------------------------------------------------------------------------

  it('another organization sees none of it: checkouts, orders, subscriptions, customers', async () => {
    const { org: orgA, polar: polarA } = await setup('Org A')
    const { org: orgB, polar: polarB } = await setup('Org B')
    const product = await polarA.products.create({ name: 'A monthly', recurringInterval: 'month', prices: [{ amountType: 'fixed', priceAmount: 500 }] })
    const c = await polarA.checkouts.create({ products: [product.id], customerEmail: 'a-buyer@example.com' })
    await polarA.checkouts.clientConfirm({ clientSecret: c.clientSecret, checkoutConfirmStripe: { confirmationTokenId: 'tok_sandbox_success' } })
    await settle(polarA, c.id)
    const open = await polarA.checkouts.create({ products: [product.id] })
    const [orderA] = (await polarA.orders.list({})).result.items
    const [subA] = (await polarA.subscriptions.list({})).result.items
    const [customerA] = (await polarA.customers.list({})).result.items
    expect([orderA, subA, customerA].every(Boolean)).toBe(true)

    for (const id of [c.id, open.id]) {
      expect(res(await app.inject({ method: 'GET', url: `/v1/checkouts/${id}`, headers: orgB.headers }))).toEqual(notFound)
      expect(res(await app.inject({ method: 'PATCH', url: `/v1/checkouts/${id}`, headers: orgB.headers, payload: { metadata: { x: 1 } } }))).toEqual(notFound)
    }
    expect((await polarA.checkouts.get({ id: open.id })).metadata).toEqual({})
    // B cannot sell A's product either
    expect((await app.inject({ method: 'POST', url: '/v1/checkouts/', headers: orgB.headers, payload: { products: [product.id] } })).statusCode).toBe(422)

    expect((await polarB.checkouts.list({})).result).toEqual({ items: [], pagination: { totalCount: 0, maxPage: 0 } })
    expect((await polarB.checkouts.list({ organizationId: orgA.organizationId })).result.items).toEqual([])
    expect((await polarB.checkouts.list({ customerId: customerA!.id })).result.items).toEqual([])
    expect((await polarB.orders.list({})).result.items).toEqual([])
    expect((await polarB.subscriptions.list({})).result.items).toEqual([])
    expect((await polarB.customers.list({})).result.items).toEqual([])
    expect((await polarB.customers.list({ email: 'a-buyer@example.com' })).result.items).toEqual([])
    expect(res(await app.inject({ method: 'GET', url: `/v1/orders/${orderA!.id}`, headers: orgB.headers }))).toEqual(notFound)
    expect(res(await app.inject({ method: 'GET', url: `/v1/subscriptions/${subA!.id}`, headers: orgB.headers }))).toEqual(notFound)
    expect(res(await app.inject({ method: 'GET', url: `/v1/customers/${customerA!.id}`, headers: orgB.headers }))).toEqual(notFound)
    // while A sees its own
    expect((await polarA.checkouts.list({})).result.pagination.totalCount).toBe(2)
    expect((await polarA.orders.list({})).result.items).toHaveLength(1)
  })

  it('401 without a valid token, 403 without the checkouts scope', async () => {
    const { org, polar } = await setup()
    const product = await fixedProduct(polar, 1000)
    const c = await polar.checkouts.create({ products: [product.id] })
    const routes = [
      { method: 'GET', url: '/v1/checkouts/', scope: 'read' },
      { method: 'GET', url: `/v1/checkouts/${c.id}`, scope: 'read' },
      { method: 'POST', url: '/v1/checkouts/', payload: { products: [product.id] }, scope: 'write' },
      { method: 'PATCH', url: `/v1/checkouts/${c.id}`, payload: { metadata: { a: 1 } }, scope: 'write' },
    ] as const
    const unauthorized = { status: 401, body: { error: 'Unauthorized', detail: 'Unauthorized' } }
    const notPermitted = { status: 403, body: { error: 'NotPermitted', detail: 'You do not have the required scope for this operation.' } }
    const readOnly = await tokenWithScopes(ctx, org.organizationId, ['checkouts:read'])
    const otherScopes = await tokenWithScopes(ctx, org.organizationId, ['products:write', 'orders:read', 'checkout_links:write'])
    const writer = await tokenWithScopes(ctx, org.organizationId, ['checkouts:write'])
    for (const r of routes) {
      const call = (headers: Record<string, string>) => app.inject({ method: r.method, url: r.url, headers, ...('payload' in r ? { payload: r.payload } : {}) })
      expect({ r: r.url, ...res(await call({})) }).toEqual({ r: r.url, ...unauthorized })
      expect({ r: r.url, ...res(await call({ authorization: 'Bearer polar_oat_nope' })) }).toEqual({ r: r.url, ...unauthorized })
      expect({ r: r.url, ...res(await call(otherScopes)) }).toEqual({ r: r.url, ...notPermitted })
      const asReader = await call(readOnly)
      if (r.scope === 'read') expect(asReader.statusCode).toBe(200)
      else expect({ r: r.url, ...res(asReader) }).toEqual({ r: r.url, ...notPermitted })
      expect((await call(writer)).statusCode).toBeLessThan(300) // write grants read
    }
    // the client endpoints need no token: the client secret is the credential
    expect((await app.inject({ method: 'GET', url: `/v1/checkouts/client/${c.clientSecret}` })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: `/v1/checkouts/client/${c.clientSecret}` })).headers['cache-control']).toBe('no-store')
  })
})
