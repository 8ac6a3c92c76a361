import { createPolar } from 'polar-sdk-1/2026-10'
import { describe, expect, it } from 'vitest'
import { SETTLE_JOB, checkoutJobHandlers, expireCheckouts } from '../src/checkouts/jobs'
import { runDueJobs } from '../src/jobs/worker'
import { CHARGE_RENEWAL_JOB, CYCLE_JOB, renewalJobHandlers, replacePaymentMethod, scheduleRenewals } from '../src/renewals/service'
import { WEBHOOK_JOB_KINDS, webhookJobHandlers, webhookRetry } from '../src/webhooks/jobs'
import { EMITTED_EVENT_TYPES } from '../src/webhooks/schemas'
import { FixedClock, createOrg, createTestApp, listen } from './helpers'
import { sourceFor, typeCheck, type Sample } from './sdk-types-compile'
import { webhookReceiver } from './receiver'

/*
 * Issue 18: every response kind Kassa serves, and every webhook payload it sends, recorded from a whole
 * purchase and type-checked against SDK 1.x's models. 1.x does not validate at run time, so a field its
 * models declare required and Kassa leaves out would reach an integrator as `undefined`: here it fails.
 */

const { received, url: hookUrl } = await webhookReceiver()
const receiverUrl = hookUrl()

/** `checkout.created` → `webhooks.WebhookCheckoutCreatedPayload`. */
const payloadType = (type: string) =>
  type === 'customer.state_changed' ? 'CustomerStateChangedPayload' : `webhooks.Webhook${type.split(/[._]/).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}Payload`

/** Kassa's own events: no 1.x type to check them against. */
const KASSA_ONLY = (type: string) => type.startsWith('checkout_link.')

describe('responses and webhook payloads against SDK 1.x models', async () => {
  const clock = new FixedClock(new Date())
  const ctx = await createTestApp({ isolated: true, clock, config: { webhooksAllowInsecure: true, webhookRetryBaseMs: 1 } })
  const baseUrl = await listen(ctx.app)
  const settle = () => runDueJobs(ctx.deps, checkoutJobHandlers, { kinds: [SETTLE_JOB] })
  const deliver = () => runDueJobs(ctx.deps, webhookJobHandlers, { kinds: WEBHOOK_JOB_KINDS, retry: { byKind: webhookRetry(ctx.deps.config) }, limit: 1000 })

  const samples: Sample[] = []
  const record = <T>(type: string, label: string, json: T): T => {
    samples.push({ type: `models.${type}`, label, json })
    return json
  }

  it('a whole purchase type-checks against 1.x, and removing a required field fails', async () => {
    const org = await createOrg(ctx, 'Types')
    const polar = createPolar({ accessToken: org.token, baseUrl })
    const endpoint = record('WebhookEndpoint', 'webhooks.createWebhookEndpoint', await polar.webhooks.createWebhookEndpoint({ url: receiverUrl, format: 'raw', events: EMITTED_EVENT_TYPES.filter((t) => !KASSA_ONLY(t)) as never }))

    const field = record('CustomField', 'customFields.create', await polar.customFields.create({ type: 'text', slug: 'company', name: 'Company', properties: {} } as never))
    record('CustomField', 'customFields.update', await polar.customFields.update(field.id, { type: 'text', name: 'Company name' } as never))
    record('CustomField', 'customFields.get', await polar.customFields.get(field.id))
    const product = record('Product', 'products.create (one-time)', await polar.products.create({
      name: 'Sticker Pack',
      prices: [{ amount_type: 'fixed', price_amount: 1200, price_currency: 'usd' }],
      attached_custom_fields: [{ custom_field_id: field.id, required: false }],
    } as never))
    const plan = record('Product', 'products.create (recurring, custom price)', await polar.products.create({
      name: 'Plan',
      recurring_interval: 'month',
      prices: [{ amount_type: 'custom', minimum_amount: 500, preset_amount: 900, price_currency: 'usd' }],
    } as never))
    record('Product', 'products.update', await polar.products.update(product.id, { description: 'Shiny' } as never))
    record('Product', 'products.get', await polar.products.get(product.id))

    const discount = record('Discount', 'discounts.create', await polar.discounts.create({ name: 'Ten', code: 'TEN', type: 'percentage', basis_points: 1000, duration: 'once' } as never))
    record('Discount', 'discounts.create (fixed, repeating)', await polar.discounts.create({ name: 'Five', type: 'fixed', amount: 500, currency: 'usd', duration: 'repeating', duration_in_months: 3 } as never))
    record('Discount', 'discounts.update', await polar.discounts.update(discount.id, { name: 'Ten off' } as never))
    record('Discount', 'discounts.get', await polar.discounts.get(discount.id))

    const link = record('CheckoutLink', 'checkoutLinks.create', await polar.checkoutLinks.create({ payment_processor: 'stripe', products: [product.id, plan.id], allow_discount_codes: true } as never))
    record('CheckoutLink', 'checkoutLinks.update', await polar.checkoutLinks.update(link.id, { label: 'Newsletter' } as never))
    record('CheckoutLink', 'checkoutLinks.get', await polar.checkoutLinks.get(link.id))

    // A session through a link visit, paid with the sandbox card, with a discount code and a custom field.
    const visit = await ctx.app.inject({ method: 'GET', url: `/buy/${link.client_secret}?customer_email=ada@example.com&discount_code=TEN` })
    expect(visit.statusCode).toBe(307)
    const secret = (visit.headers.location as string).split('/checkout/')[1]!
    record('CheckoutPublic', 'checkouts.clientGet', await polar.checkouts.clientGet(secret))
    record('CheckoutPublic', 'checkouts.clientUpdate', await polar.checkouts.clientUpdate(secret, { custom_field_data: { company: 'Analytical' } } as never))
    record('CheckoutPublicConfirmed', 'checkouts.clientConfirm', await polar.checkouts.clientConfirm(secret, { confirmation_token_id: 'tok_sandbox_success' }))
    await settle()
    const paid = record('CheckoutPublic', 'checkouts.clientGet (succeeded)', await polar.checkouts.clientGet(secret))
    expect(paid.status).toBe('succeeded')

    // A session over the API, for the recurring product: a subscription; the returning customer gets a name (customer.updated).
    const apiSession = record('Checkout', 'checkouts.create', await polar.checkouts.create({ products: [plan.id], customer_email: 'ada@example.com', metadata: { ref: 'x' } } as never))
    record('Checkout', 'checkouts.update', await polar.checkouts.update(apiSession.id, { customer_name: 'Ada' } as never))
    await polar.checkouts.clientConfirm(apiSession.client_secret, { confirmation_token_id: 'tok_sandbox_success' })
    await settle()
    record('Checkout', 'checkouts.get (succeeded)', await polar.checkouts.get(apiSession.id))

    // One left open, then expired: checkout.expired.
    await polar.checkouts.create({ products: [product.id] } as never)
    clock.advance((ctx.deps.config.checkoutTtlSeconds + 1) * 1000)
    await expireCheckouts(ctx.deps)

    const orders = record('ListResourceOrder', 'orders.list', await polar.orders.list())
    expect(orders.items).toHaveLength(2)
    for (const o of orders.items) record('Order', 'orders.get', await polar.orders.get(o.id))
    const subs = record('ListResourceSubscription', 'subscriptions.list', await polar.subscriptions.list())
    expect(subs.items).toHaveLength(1)
    const subId = subs.items[0]!.id
    record('Subscription', 'subscriptions.get', await polar.subscriptions.get(subId))
    // A renewal (subscription.cycled), then one that fails (subscription.past_due).
    const renew = async () => {
      clock.advance(32 * 86_400_000)
      await scheduleRenewals(ctx.deps)
      await runDueJobs(ctx.deps, renewalJobHandlers as never, { kinds: [CYCLE_JOB, CHARGE_RENEWAL_JOB] })
    }
    await renew()
    await replacePaymentMethod(ctx.deps, subId, 'tok_sandbox_fail_renewals')
    await renew()
    const pastDue = record('Subscription', 'subscriptions.get (past_due)', await polar.subscriptions.get(subId))
    expect(pastDue.status).toBe('past_due')
    for (const o of (await polar.orders.list()).items.filter((o) => o.billing_reason === 'subscription_cycle')) record('Order', 'orders.get (renewal)', await polar.orders.get(o.id))
    // Cancel at period end, uncancel, cancel again and revoke: subscription.canceled, .uncanceled, .revoked.
    record('Subscription', 'subscriptions.update (cancel)', await polar.subscriptions.update(subId, { cancel_at_period_end: true, customer_cancellation_reason: 'too_expensive', customer_cancellation_comment: 'Pricey' } as never))
    record('Subscription', 'subscriptions.update (uncancel)', await polar.subscriptions.update(subId, { cancel_at_period_end: false } as never))
    record('Subscription', 'subscriptions.update (cancel again)', await polar.subscriptions.update(subId, { cancel_at_period_end: true } as never))
    record('Subscription', 'subscriptions.revoke', await polar.subscriptions.revoke(subId))
    const revokedTwice = await ctx.app.inject({ method: 'DELETE', url: `/v1/subscriptions/${subId}`, headers: org.headers })
    record('AlreadyCanceledSubscription', 'revoke a revoked subscription (403)', revokedTwice.json())
    const customers = record('ListResourceCustomer', 'customers.list', await polar.customers.list())
    record('Customer', 'customers.get', await polar.customers.get(customers.items[0]!.id))

    record('ListResourceProduct', 'products.list', await polar.products.list())
    record('ListResourceCheckoutLink', 'checkoutLinks.list', await polar.checkoutLinks.list())
    record('ListResourceCheckout', 'checkouts.list', await polar.checkouts.list())
    record('ListResourceDiscount', 'discounts.list', await polar.discounts.list())
    record('ListResourceCustomField', 'customFields.list', await polar.customFields.list())
    record('ListResourceOrganization', 'organizations.list', await polar.organizations.list())
    record('Organization', 'organizations.get', await polar.organizations.get(org.organizationId))
    record('WebhookEndpoint', 'webhooks.getWebhookEndpoint', await polar.webhooks.getWebhookEndpoint(endpoint.id))
    record('WebhookEndpoint', 'webhooks.updateWebhookEndpoint', await polar.webhooks.updateWebhookEndpoint(endpoint.id, { name: 'Main' } as never))
    record('ListResourceWebhookEndpoint', 'webhooks.listWebhookEndpoints', await polar.webhooks.listWebhookEndpoints())

    // A refund through the API (the sandbox refunds at once): refund.created, refund.updated, order.refunded.
    const paidOrder = orders.items.find((o) => o.billing_reason === 'purchase')!
    record('Refund', 'refunds.create', await polar.refunds.create({ order_id: paidOrder.id, amount: 100, reason: 'customer_request', comment: 'Scratched', metadata: { ticket: 'T-1' } } as never))
    record('ListResourceRefund', 'refunds.list', await polar.refunds.list())
    // Deletions send events too; then every event is delivered and recorded as the receiver got it.
    await polar.discounts.delete(discount.id)
    await deliver()
    const deliveries = record('ListResourceWebhookDelivery', 'webhooks.listWebhookDeliveries', await polar.webhooks.listWebhookDeliveries({ limit: 100 }))
    expect(deliveries.items.length).toBeGreaterThan(0)
    record('WebhookEndpoint', 'webhooks.resetWebhookEndpointSecret', await polar.webhooks.resetWebhookEndpointSecret(endpoint.id))

    // Error answers 1.x types. (A 422 whose detail carries `ctx`, such as `{min_length: 1}`, does not fit 1.x's
    // ValidationError, which types ctx as `{[k: string]: never}`; Polar's own FastAPI answers carry it too.)
    const notFound = await ctx.app.inject({ method: 'GET', url: '/v1/products/00000000-0000-0000-0000-000000000000', headers: org.headers })
    record('ResourceNotFound', 'GET unknown product (404)', notFound.json())
    const invalid = await ctx.app.inject({ method: 'POST', url: '/v1/products/', headers: org.headers, payload: { prices: [{ amount_type: 'fixed', price_amount: 100 }] } })
    record('HTTPValidationError', 'POST product without name (422)', invalid.json())

    const referenced = await ctx.app.inject({ method: 'DELETE', url: `/v1/products/${product.id}`, headers: org.headers })
    record('ProductNotDeletable', 'DELETE a product in use (409)', referenced.json())
    const otherOrg = await ctx.app.inject({ method: 'GET', url: '/v1/products/', headers: { ...org.headers, 'polar-organization': '00000000-0000-0000-0000-000000000000' } })
    record('NotPermitted', 'Polar-Organization of another organization (403)', otherOrg.json())
    const limited = await polar.discounts.create({ name: 'Once each', type: 'percentage', basis_points: 500, duration: 'once', max_redemptions_per_customer: 1 } as never)
    const again = await polar.checkouts.create({ products: [product.id], discount_id: limited.id, customer_email: 'ada@example.com' } as never)
    await polar.checkouts.clientConfirm(again.client_secret, { confirmation_token_id: 'tok_sandbox_success' })
    const third = await polar.checkouts.create({ products: [product.id], discount_id: limited.id, customer_email: 'ada@example.com' } as never)
    const refused = await ctx.app.inject({ method: 'POST', url: `/v1/checkouts/client/${third.client_secret}/confirm`, payload: { confirmation_token_id: 'tok_sandbox_success' } })
    record('DiscountRedemptionLimitReached', 'confirm past the per-customer limit (403)', refused.json())

    const kinds = new Set<string>()
    for (const r of received) {
      const body = JSON.parse(r.body) as { type: string }
      kinds.add(body.type)
      samples.push({ type: payloadType(body.type), label: `webhook ${body.type}`, json: body })
    }
    // Every event Kassa emits that 1.x has a type for was sent and recorded.
    expect([...kinds].sort()).toEqual(EMITTED_EVENT_TYPES.filter((t) => !KASSA_ONLY(t)).sort())

    // A mutant: the first recorded product without `is_deletable`, which 1.x requires. It must not compile.
    const mutant = structuredClone(samples.find((s) => s.type === 'models.Product')!)
    delete (mutant.json as Record<string, unknown>).is_deletable
    const diagnostics = typeCheck({ 'recorded.ts': sourceFor(samples), 'mutant.ts': sourceFor([mutant]) })
    expect(diagnostics['recorded.ts'], diagnostics['recorded.ts']!.join('\n')).toEqual([])
    expect(diagnostics['mutant.ts']!.join('\n')).toMatch(/is_deletable/)
  })
})
