import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import Stripe from 'stripe'

/**
 * A local stand-in for the part of Stripe's API Kassa uses, spoken as the official library sends it
 * (form-encoded, Bearer key, Idempotency-Key on every POST). Objects are the library's own types.
 */
export interface FakeRequest { method: string; path: string; body: Record<string, unknown>; idempotencyKey: string | undefined; stripeVersion: string | undefined }
export type FailMode = 'drop-after-processing' | 'status-500'
type EventOf<T extends Stripe.Event['type']> = Extract<Stripe.Event, { type: T }>
export type StripeErrorBody = { error: Omit<Stripe.StripeRawError, 'headers' | 'statusCode' | 'requestId' | 'detail' | 'exception'> }

export interface FakeStripe {
  url: string
  requests: FakeRequest[]
  intents: Map<string, Stripe.PaymentIntent>
  setupIntents: Map<string, Stripe.SetupIntent>
  customers: Map<string, Stripe.Customer>
  charges: Map<string, Stripe.Charge>
  refunds: Map<string, Stripe.Refund>
  /** The events Stripe would have sent for what happened (not delivered anywhere). */
  events: Stripe.Event[]
  failNext(method: string, path: string, mode: FailMode): void
  completeNextAction(intentId: string, outcome: 'succeed' | 'fail'): Stripe.PaymentIntent | Stripe.SetupIntent
  /** A card saved on a customer, as if set up in Stripe (e.g. `pm_card_chargeDeclined` to make renewals fail). */
  savedCard(customerId: string, testPaymentMethod: string, livemode?: boolean): Stripe.PaymentMethod
  event<T extends Stripe.Event['type']>(type: T, object: EventOf<T>['data']['object'], opts?: { livemode?: boolean }): EventOf<T>
  webhook(secret: string, event: Stripe.Event): { payload: string; header: string }
  close(): Promise<void>
}

const API_VERSION = '2026-11-18.endive'
const id = (prefix: string, n = 24) => `${prefix}_${randomBytes(n).toString('base64url').replace(/[-_]/g, '').slice(0, n)}`
const now = () => Math.floor(Date.now() / 1000)

class ApiError extends Error {
  constructor(readonly status: number, readonly body: StripeErrorBody, readonly save = false) { super(body.error.message) }
}
const invalid = (message: string, param?: string, code?: string) =>
  new ApiError(400, { error: { type: 'invalid_request_error', message, ...(param ? { param } : {}), ...(code ? { code, doc_url: `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}` } : {}) } })
const missing = (kind: string, value: string, param: string) => new ApiError(404, { error: { type: 'invalid_request_error', code: 'resource_missing', param, message: `No such ${kind}: '${value}'`, doc_url: 'https://stripe.com/docs/error-codes/resource-missing' } })
/** The object with this id made with a key of the same mode, or Stripe's 404 (a test key never sees live objects). */
function own<T extends { livemode: boolean }>(objects: Map<string, T>, id: string, livemode: boolean, kind: string, param: string): T {
  const found = objects.get(id)
  if (!found || found.livemode !== livemode) throw missing(kind, id, param)
  return found
}

/** Parses `a[b][c]=x&e[0]=y` into nested objects, index-keyed objects into arrays (qs style). */
export function parseForm(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = {}
  for (const [key, value] of new URLSearchParams(text)) {
    const parts = [key.replace(/\[.*$/, ''), ...[...key.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? '')]
    let node: Record<string, unknown> = root
    parts.forEach((p, i) => {
      if (i === parts.length - 1) node[p] = value
      else node = (node[p] ??= {}) as Record<string, unknown>
    })
  }
  const arrays = (v: unknown): unknown => {
    if (!v || typeof v !== 'object') return v
    const o = v as Record<string, unknown>
    const keys = Object.keys(o)
    for (const k of keys) o[k] = arrays(o[k])
    return keys.length > 0 && keys.every((k, i) => k === String(i)) ? keys.map((k) => o[k]) : o
  }
  return arrays(root) as Record<string, unknown>
}

type Card = { brand: string; last4: string; behaviour: 'succeed' | 'decline' | 'insufficient' | '3ds' }
const TEST_PAYMENT_METHODS: Record<string, Card> = {
  pm_card_visa: { brand: 'visa', last4: '4242', behaviour: 'succeed' },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444', behaviour: 'succeed' },
  pm_card_amex: { brand: 'amex', last4: '8431', behaviour: 'succeed' },
  pm_card_chargeDeclined: { brand: 'visa', last4: '0002', behaviour: 'decline' },
  pm_card_chargeDeclinedInsufficientFunds: { brand: 'visa', last4: '9995', behaviour: 'insufficient' },
  pm_card_threeDSecure2Required: { brand: 'visa', last4: '3220', behaviour: '3ds' },
}
const CURRENCIES = new Set(['usd', 'eur', 'gbp', 'chf', 'cad', 'aud', 'jpy', 'sek', 'nok', 'dkk', 'pln', 'czk', 'nzd', 'sgd', 'hkd', 'mxn', 'brl', 'inr'])

function billing(): Stripe.PaymentMethod.BillingDetails {
  return { address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email: null, name: null, phone: null, tax_id: null }
}
function cardDetails(c: Card): Stripe.PaymentMethod.Card {
  return {
    brand: c.brand, checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' }, country: 'US', display_brand: c.brand,
    exp_month: 12, exp_year: new Date().getFullYear() + 8, fingerprint: `fp${c.last4}`, funding: 'credit', generated_from: null, last4: c.last4,
    networks: { available: [c.brand], preferred: null }, regulated_status: 'unregulated', three_d_secure_usage: { supported: true }, wallet: null,
  } as Stripe.PaymentMethod.Card
}

export async function startFakeStripe(): Promise<FakeStripe> {
  const requests: FakeRequest[] = []
  const intents = new Map<string, Stripe.PaymentIntent>()
  const setupIntents = new Map<string, Stripe.SetupIntent>()
  const customers = new Map<string, Stripe.Customer>()
  const charges = new Map<string, Stripe.Charge>()
  const refunds = new Map<string, Stripe.Refund>()
  const paymentMethods = new Map<string, Stripe.PaymentMethod>()
  const cardOf = new Map<string, Card>()
  const tokens = new Map<string, { token: Stripe.ConfirmationToken; card: Card; used: boolean }>()
  const events: Stripe.Event[] = []
  const idem = new Map<string, { fingerprint: string; status: number; body: unknown }>()
  const failures: { method: string; path: string; mode: FailMode }[] = []
  const signer = new Stripe('sk_test_fake_signer')

  function event<T extends Stripe.Event['type']>(type: T, object: EventOf<T>['data']['object'], opts: { livemode?: boolean } = {}): EventOf<T> {
    const livemode = opts.livemode ?? ('livemode' in object && typeof object.livemode === 'boolean' ? object.livemode : false)
    return { id: id('evt'), object: 'event', api_version: API_VERSION, created: now(), data: { object }, livemode, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type } as unknown as EventOf<T>
  }
  const emit = <T extends Stripe.Event['type']>(type: T, object: EventOf<T>['data']['object']) => { events.push(event(type, structuredClone(object))) }

  function paymentMethod(card: Card, livemode: boolean, customer: string | null): Stripe.PaymentMethod {
    const pm: Stripe.PaymentMethod = { id: id('pm'), object: 'payment_method', allow_redisplay: 'unspecified', billing_details: billing(), card: cardDetails(card), created: now(), customer, customer_account: null, livemode, metadata: {}, type: 'card' }
    paymentMethods.set(pm.id, pm)
    cardOf.set(pm.id, card)
    return pm
  }

  function charge(pi: Stripe.PaymentIntent, pm: Stripe.PaymentMethod, failure: { code: string; decline_code: string; message: string } | null): Stripe.Charge {
    const ch = {
      id: id('ch'), object: 'charge', amount: pi.amount, amount_captured: failure ? 0 : pi.amount, amount_refunded: 0, application: null, application_fee: null, application_fee_amount: null,
      balance_transaction: failure ? null : id('txn'), billing_details: billing(), calculated_statement_descriptor: 'KASSA', captured: !failure, created: now(), currency: pi.currency,
      customer: typeof pi.customer === 'string' ? pi.customer : (pi.customer?.id ?? null), description: pi.description, disputed: false, failure_balance_transaction: null,
      failure_code: failure?.code ?? null, failure_message: failure?.message ?? null, fraud_details: {}, livemode: pi.livemode, metadata: { ...pi.metadata }, on_behalf_of: null,
      outcome: { advice_code: null, network_advice_code: null, network_decline_code: null, network_status: failure ? 'declined_by_network' : 'approved_by_network', reason: failure?.decline_code ?? null, risk_level: 'normal', risk_score: 20, seller_message: failure ? 'The bank did not return any further details with this decline.' : 'Payment complete.', type: failure ? 'issuer_declined' : 'authorized' },
      paid: !failure, payment_intent: pi.id, payment_method: pm.id, payment_method_details: { type: 'card', card: { ...pm.card, amount_authorized: failure ? null : pi.amount } } as Stripe.Charge.PaymentMethodDetails,
      receipt_email: null, receipt_number: null, receipt_url: `https://pay.stripe.com/receipts/${id('rcpt')}`, refunded: false, review: null, shipping: null, source: null, source_transfer: null,
      statement_descriptor: null, statement_descriptor_suffix: null, status: failure ? 'failed' : 'succeeded', transfer_data: null, transfer_group: null,
    } satisfies Stripe.Charge
    charges.set(ch.id, ch)
    return ch
  }

  function paymentIntent(p: Record<string, unknown>, livemode: boolean): Stripe.PaymentIntent {
    const pid = id('pi')
    const apm = p.automatic_payment_methods as Record<string, string> | undefined
    return {
      id: pid, object: 'payment_intent', allowed_payment_method_types: null, amount: Number(p.amount), amount_capturable: 0, amount_received: 0, application: null, application_fee_amount: null,
      automatic_payment_methods: apm?.enabled === 'true' ? { enabled: true, ...(apm.allow_redirects ? { allow_redirects: apm.allow_redirects as 'always' | 'never' } : {}) } : null,
      canceled_at: null, cancellation_reason: null, capture_method: 'automatic_async', client_secret: `${pid}_secret_${id('s').slice(2)}`, confirmation_method: 'automatic', created: now(),
      currency: String(p.currency).toLowerCase(), customer: (p.customer as string | undefined) ?? null, customer_account: null, description: (p.description as string | undefined) ?? null,
      excluded_payment_method_types: null, last_payment_error: null, latest_charge: null, livemode, managed_payments: null, metadata: (p.metadata as Record<string, string> | undefined) ?? {},
      next_action: null, on_behalf_of: null, payment_method: null, payment_method_configuration_details: null, payment_method_options: { card: { request_three_d_secure: 'automatic' } } as Stripe.PaymentIntent.PaymentMethodOptions,
      payment_method_types: ['card'], payment_record: null, processing: null, receipt_email: (p.receipt_email as string | undefined) ?? null, review: null,
      setup_future_usage: (p.setup_future_usage as Stripe.PaymentIntent.SetupFutureUsage | undefined) ?? null, shipping: null, source: null, statement_descriptor: null, statement_descriptor_suffix: null,
      status: 'requires_payment_method', transfer_group: null,
    } satisfies Stripe.PaymentIntent
  }

  function setupIntent(p: Record<string, unknown>, livemode: boolean): Stripe.SetupIntent {
    const sid = id('seti')
    const apm = p.automatic_payment_methods as Record<string, string> | undefined
    return {
      id: sid, object: 'setup_intent', allowed_payment_method_types: null, application: null, automatic_payment_methods: apm?.enabled === 'true' ? { enabled: true, ...(apm.allow_redirects ? { allow_redirects: apm.allow_redirects as 'always' | 'never' } : {}) } : null, cancellation_reason: null,
      client_secret: `${sid}_secret_${id('s').slice(2)}`, created: now(), customer: (p.customer as string | undefined) ?? null, description: (p.description as string | undefined) ?? null,
      excluded_payment_method_types: null, last_setup_error: null, latest_attempt: null, livemode, mandate: null, metadata: (p.metadata as Record<string, string> | undefined) ?? {}, next_action: null,
      on_behalf_of: null, payment_method: null, payment_method_configuration_details: null, payment_method_options: null, payment_method_types: ['card'], single_use_mandate: null,
      status: 'requires_payment_method', usage: (p.usage as string | undefined) ?? 'off_session',
    } satisfies Stripe.SetupIntent
  }

  const useStripeSdk = (): Stripe.PaymentIntent.NextAction => ({ type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: `https://hooks.stripe.com/3d_secure_2/hosted?merchant=acct_fake&payment_intent=x`, source: id('src') } as Stripe.PaymentIntent.NextAction.UseStripeSdk })
  const DECLINES = {
    decline: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
    insufficient: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  }

  function succeedPi(pi: Stripe.PaymentIntent, pm: Stripe.PaymentMethod) {
    const ch = charge(pi, pm, null)
    Object.assign(pi, { status: 'succeeded', amount_received: pi.amount, latest_charge: ch.id, payment_method: pm.id, next_action: null, last_payment_error: null })
    emit('charge.succeeded', ch)
    emit('payment_intent.succeeded', pi)
  }

  /** The confirm step shared by PaymentIntents and SetupIntents. */
  function confirm(kind: 'pi' | 'si', intent: Stripe.PaymentIntent | Stripe.SetupIntent, p: Record<string, unknown>, livemode: boolean) {
    if (intent.status !== 'requires_payment_method' && intent.status !== 'requires_confirmation') {
      throw invalid(`You cannot confirm this ${kind === 'pi' ? 'PaymentIntent' : 'SetupIntent'} because it has a status of ${intent.status}.`, undefined, kind === 'pi' ? 'payment_intent_unexpected_state' : 'setup_intent_unexpected_state')
    }
    const tokenId = p.confirmation_token as string | undefined
    if (!tokenId) throw invalid('You must provide a confirmation_token (this fake supports no other way to confirm).', 'confirmation_token', 'parameter_missing')
    const t = tokens.get(tokenId)
    if (!t || t.token.livemode !== livemode) throw missing('confirmationtoken', tokenId, 'confirmation_token')
    if (t.used) throw invalid(`ConfirmationToken ${tokenId} has already been used to confirm a PaymentIntent or SetupIntent.`, 'confirmation_token')
    const apm = intent.automatic_payment_methods
    if (apm?.enabled && apm.allow_redirects !== 'never' && !p.return_url && !t.token.return_url) {
      throw invalid("This PaymentIntent is configured to accept payment methods enabled in your Dashboard. Because some of these payment methods might redirect your customer off of your page, you must provide a `return_url`. If you don't want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.", 'return_url')
    }
    t.used = true
    if (kind === 'pi') t.token.payment_intent = intent.id
    else t.token.setup_intent = intent.id
    const customer = typeof intent.customer === 'string' ? intent.customer : (intent.customer?.id ?? null)
    const pm = paymentMethod(t.card, livemode, customer)
    const b = t.card.behaviour
    if (kind === 'pi') {
      const pi = intent as Stripe.PaymentIntent
      if (p.setup_future_usage) pi.setup_future_usage = p.setup_future_usage as Stripe.PaymentIntent.SetupFutureUsage
      if (b === 'succeed') return succeedPi(pi, pm)
      if (b === '3ds') {
        Object.assign(pi, { status: 'requires_action', payment_method: pm.id, next_action: useStripeSdk() })
        emit('payment_intent.requires_action', pi)
        return
      }
      const d = DECLINES[b]
      const ch = charge(pi, pm, d)
      Object.assign(pi, { status: 'requires_payment_method', latest_charge: ch.id, payment_method: null, last_payment_error: { type: 'card_error', ...d, charge: ch.id, doc_url: 'https://stripe.com/docs/error-codes/card-declined', payment_method: pm } })
      emit('charge.failed', ch)
      emit('payment_intent.payment_failed', pi)
      throw new ApiError(402, { error: { type: 'card_error', ...d, charge: ch.id, doc_url: 'https://stripe.com/docs/error-codes/card-declined', payment_intent: structuredClone(pi), payment_method: pm } }, true)
    }
    const si = intent as Stripe.SetupIntent
    if (b === 'succeed') {
      Object.assign(si, { status: 'succeeded', payment_method: pm.id, latest_attempt: id('setatt') })
      emit('setup_intent.succeeded', si)
      return
    }
    if (b === '3ds') {
      Object.assign(si, { status: 'requires_action', payment_method: pm.id, next_action: useStripeSdk() })
      emit('setup_intent.requires_action', si)
      return
    }
    const d = DECLINES[b]
    Object.assign(si, { status: 'requires_payment_method', payment_method: null, last_setup_error: { type: 'card_error', ...d, payment_method: pm } })
    emit('setup_intent.setup_failed', si)
    throw new ApiError(402, { error: { type: 'card_error', ...d, doc_url: 'https://stripe.com/docs/error-codes/card-declined', setup_intent: structuredClone(si), payment_method: pm } }, true)
  }

  function checkParams(p: Record<string, unknown>, allowed: string[]) {
    for (const k of Object.keys(p)) if (!allowed.includes(k)) throw invalid(`Received unknown parameter: ${k}`, k, 'parameter_unknown')
    const md = p.metadata
    if (md !== undefined && (typeof md !== 'object' || Array.isArray(md))) throw invalid('Invalid object', 'metadata', 'parameter_invalid_type')
    for (const [k, v] of Object.entries((md ?? {}) as Record<string, unknown>)) {
      if (k.length > 40) throw invalid('Metadata keys can have up to 40 characters.', `metadata[${k}]`)
      if (typeof v !== 'string' || v.length > 500) throw invalid('Metadata values can have up to 500 characters.', `metadata[${k}]`)
    }
    if (p.expand !== undefined && !Array.isArray(p.expand)) throw invalid('Invalid array', 'expand', 'parameter_invalid_type')
  }
  const cleanMeta = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== ''))
  function needCustomer(p: Record<string, unknown>, livemode: boolean) {
    if (p.customer === undefined) return
    const c = own(customers, String(p.customer), livemode, 'customer', 'customer')
  }
  function expandIntent<T extends Stripe.PaymentIntent | Stripe.SetupIntent>(o: T, expand: unknown): T {
    const out = structuredClone(o) as T & Record<string, unknown>
    for (const field of (Array.isArray(expand) ? expand : []) as string[]) {
      const v = out[field]
      if (typeof v !== 'string') continue
      const found = field === 'payment_method' ? paymentMethods.get(v) : field === 'latest_charge' ? charges.get(v) : field === 'customer' ? customers.get(v) : undefined
      if (!found) throw invalid(`This property cannot be expanded (${field}).`, 'expand')
      out[field] = structuredClone(found)
    }
    return out
  }
  function validateAmount(p: Record<string, unknown>) {
    if (p.amount === undefined) throw invalid('Missing required param: amount.', 'amount', 'parameter_missing')
    if (!/^\d+$/.test(String(p.amount))) throw invalid(`Invalid integer: ${String(p.amount)}`, 'amount', 'parameter_invalid_integer')
    if (p.currency === undefined) throw invalid('Missing required param: currency.', 'currency', 'parameter_missing')
    if (!CURRENCIES.has(String(p.currency).toLowerCase())) throw invalid(`Invalid currency: ${String(p.currency).toLowerCase()}. Stripe currently supports these currencies: ${[...CURRENCIES].join(', ')}`, 'currency')
    const min = String(p.currency).toLowerCase() === 'gbp' ? 30 : 50
    if (Number(p.amount) < min) throw invalid(`Amount must be at least ${min} ${String(p.currency).toLowerCase()} minor units`, 'amount', 'amount_too_small')
  }
  const sfu = (p: Record<string, unknown>) => {
    if (p.setup_future_usage !== undefined && p.setup_future_usage !== 'on_session' && p.setup_future_usage !== 'off_session') throw invalid(`Invalid setup_future_usage: must be one of on_session or off_session`, 'setup_future_usage')
  }
  const PI_PARAMS = ['amount', 'currency', 'customer', 'metadata', 'setup_future_usage', 'automatic_payment_methods', 'return_url', 'expand', 'confirm', 'confirmation_token', 'description', 'receipt_email', 'statement_descriptor_suffix', 'payment_method_types', 'payment_method', 'off_session']

  /** An off-session charge of a saved payment method (renewals): the card behaves as it did; 3-D Secure cannot be done off-session. */
  function chargeSaved(pi: Stripe.PaymentIntent, p: Record<string, unknown>, livemode: boolean) {
    const pm = own(paymentMethods, String(p.payment_method), livemode, 'paymentmethod', 'payment_method')
    if (pi.customer && pm.customer && pm.customer !== pi.customer) throw invalid(`The provided PaymentMethod ${pm.id} was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again.`, 'payment_method')
    const card = cardOf.get(pm.id)!
    if (card.behaviour === 'succeed') return succeedPi(pi, pm)
    const d = card.behaviour === '3ds'
      ? { code: 'authentication_required', decline_code: 'authentication_required', message: 'Your card was declined. This transaction requires authentication.' }
      : DECLINES[card.behaviour]
    const ch = charge(pi, pm, d)
    Object.assign(pi, { status: 'requires_payment_method', latest_charge: ch.id, payment_method: null, last_payment_error: { type: 'card_error', ...d, charge: ch.id, payment_method: pm } })
    emit('charge.failed', ch)
    emit('payment_intent.payment_failed', pi)
    throw new ApiError(402, { error: { type: 'card_error', ...d, charge: ch.id, payment_intent: structuredClone(pi), payment_method: pm } }, true)
  }
  const CONFIRM_PARAMS = ['confirmation_token', 'return_url', 'expand', 'setup_future_usage']

  type Handler = (p: Record<string, unknown>, livemode: boolean, m: string[]) => { status?: number; body: unknown }
  const routes: [string, RegExp, Handler][] = [
    ['POST', /^\/v1\/customers$/, (p, livemode) => {
      checkParams(p, ['email', 'name', 'description', 'phone', 'metadata', 'preferred_locales', 'address', 'expand'])
      const c = {
        id: id('cus', 14), object: 'customer', balance: 0, created: now(), default_source: null, description: (p.description as string | undefined) ?? null, email: (p.email as string | undefined) ?? null,
        invoice_prefix: randomBytes(4).toString('hex').toUpperCase(), invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null }, livemode,
        metadata: cleanMeta((p.metadata ?? {}) as Record<string, string>), name: (p.name as string | undefined) ?? null, next_invoice_sequence: 1, phone: (p.phone as string | undefined) ?? null,
        preferred_locales: (p.preferred_locales as string[] | undefined) ?? [], shipping: null, tax_exempt: 'none', test_clock: null,
      } satisfies Stripe.Customer
      customers.set(c.id, c)
      emit('customer.created', c)
      return { body: c }
    }],
    ['GET', /^\/v1\/customers\/([^/]+)$/, (_p, livemode, [cid]) => {
      const c = own(customers, cid!, livemode, 'customer', 'id')
      return { body: c }
    }],
    ['POST', /^\/v1\/customers\/([^/]+)$/, (p, livemode, [cid]) => {
      checkParams(p, ['email', 'name', 'description', 'phone', 'metadata', 'preferred_locales', 'expand'])
      const c = own(customers, cid!, livemode, 'customer', 'id')
      const { metadata, ...rest } = p as { metadata?: Record<string, string> } & Record<string, unknown>
      delete rest.expand
      Object.assign(c, Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, v === '' ? null : v])))
      if (metadata) c.metadata = cleanMeta({ ...c.metadata, ...metadata })
      emit('customer.updated', c)
      return { body: c }
    }],
    ['POST', /^\/v1\/payment_intents$/, (p, livemode) => {
      checkParams(p, PI_PARAMS)
      validateAmount(p)
      sfu(p)
      needCustomer(p, livemode)
      const pi = paymentIntent(p, livemode)
      intents.set(pi.id, pi)
      emit('payment_intent.created', pi)
      if (p.confirm === 'true' && p.payment_method && !p.confirmation_token) chargeSaved(pi, p, livemode)
      else if (p.confirm === 'true') confirm('pi', pi, p, livemode)
      else if (p.confirmation_token) throw invalid('You passed a confirmation_token without confirm=true.', 'confirmation_token')
      return { body: expandIntent(pi, p.expand) }
    }],
    ['GET', /^\/v1\/payment_intents\/([^/]+)$/, (p, livemode, [pid]) => {
      const pi = own(intents, pid!, livemode, 'payment_intent', 'intent')
      return { body: expandIntent(pi, p.expand) }
    }],
    ['POST', /^\/v1\/payment_intents\/([^/]+)\/confirm$/, (p, livemode, [pid]) => {
      checkParams(p, CONFIRM_PARAMS)
      sfu(p)
      const pi = own(intents, pid!, livemode, 'payment_intent', 'intent')
      confirm('pi', pi, p, livemode)
      return { body: expandIntent(pi, p.expand) }
    }],
    ['POST', /^\/v1\/setup_intents$/, (p, livemode) => {
      checkParams(p, ['customer', 'metadata', 'automatic_payment_methods', 'return_url', 'expand', 'confirm', 'confirmation_token', 'description', 'usage', 'payment_method_types'])
      if (p.usage !== undefined && p.usage !== 'on_session' && p.usage !== 'off_session') throw invalid('Invalid usage: must be one of on_session or off_session', 'usage')
      needCustomer(p, livemode)
      const si = setupIntent(p, livemode)
      setupIntents.set(si.id, si)
      emit('setup_intent.created', si)
      if (p.confirm === 'true') confirm('si', si, p, livemode)
      return { body: expandIntent(si, p.expand) }
    }],
    ['GET', /^\/v1\/setup_intents\/([^/]+)$/, (p, livemode, [sid]) => {
      const si = own(setupIntents, sid!, livemode, 'setup_intent', 'intent')
      return { body: expandIntent(si, p.expand) }
    }],
    ['POST', /^\/v1\/(payment_intents|setup_intents)\/([^/]+)\/cancel$/, (p, livemode, [kind, iid]) => {
      checkParams(p, ['cancellation_reason', 'expand'])
      const intent = kind === 'payment_intents' ? own(intents, iid!, livemode, 'payment_intent', 'intent') : own(setupIntents, iid!, livemode, 'setup_intent', 'intent')
      if (intent.status === 'succeeded' || intent.status === 'canceled' || intent.status === 'processing') {
        throw invalid(`You cannot cancel this ${kind === 'payment_intents' ? 'PaymentIntent' : 'SetupIntent'} because it has a status of ${intent.status}.`, undefined, kind === 'payment_intents' ? 'payment_intent_unexpected_state' : 'setup_intent_unexpected_state')
      }
      Object.assign(intent, { status: 'canceled', next_action: null, cancellation_reason: (p.cancellation_reason as string | undefined) ?? null, ...(kind === 'payment_intents' ? { canceled_at: now() } : {}) })
      if (kind === 'payment_intents') emit('payment_intent.canceled', intent as Stripe.PaymentIntent)
      else emit('setup_intent.canceled', intent as Stripe.SetupIntent)
      return { body: structuredClone(intent) }
    }],
    ['POST', /^\/v1\/setup_intents\/([^/]+)\/confirm$/, (p, livemode, [sid]) => {
      checkParams(p, ['confirmation_token', 'return_url', 'expand'])
      const si = own(setupIntents, sid!, livemode, 'setup_intent', 'intent')
      confirm('si', si, p, livemode)
      return { body: expandIntent(si, p.expand) }
    }],
    ['GET', /^\/v1\/confirmation_tokens\/([^/]+)$/, (_p, livemode, [tid]) => {
      const t = tokens.get(tid!)
      if (!t || t.token.livemode !== livemode) throw missing('confirmationtoken', tid!, 'confirmation_token')
      return { body: t.token }
    }],
    ['POST', /^\/v1\/test_helpers\/confirmation_tokens$/, (p, livemode) => {
      checkParams(p, ['payment_method', 'payment_method_data', 'return_url', 'setup_future_usage', 'shipping', 'expand'])
      let card: Card | undefined
      if (p.payment_method !== undefined) {
        card = TEST_PAYMENT_METHODS[String(p.payment_method)] ?? cardOf.get(String(p.payment_method))
        if (!card) throw missing('PaymentMethod', String(p.payment_method), 'payment_method')
      } else if ((p.payment_method_data as Record<string, unknown> | undefined)?.type === 'card') card = TEST_PAYMENT_METHODS.pm_card_visa
      else throw invalid('You must provide either payment_method or payment_method_data[type].', 'payment_method', 'parameter_missing')
      sfu(p)
      const token = {
        id: id('ctoken'), object: 'confirmation_token', created: now(), expires_at: now() + 12 * 3600, livemode, metadata: null, payment_intent: null, payment_method_options: null,
        payment_method_preview: { allow_redisplay: 'unspecified', billing_details: billing(), card: cardDetails(card!) as Stripe.ConfirmationToken.PaymentMethodPreview.Card, customer: null, customer_account: null, type: 'card' },
        return_url: (p.return_url as string | undefined) ?? null, setup_future_usage: (p.setup_future_usage as Stripe.ConfirmationToken.SetupFutureUsage | undefined) ?? null, setup_intent: null, shipping: null, use_stripe_sdk: true,
      } satisfies Stripe.ConfirmationToken
      tokens.set(token.id, { token, card: card!, used: false })
      return { body: token }
    }],
    ['POST', /^\/v1\/refunds$/, (p, livemode) => {
      checkParams(p, ['payment_intent', 'charge', 'amount', 'reason', 'metadata', 'expand'])
      let ch: Stripe.Charge | undefined
      if (p.payment_intent !== undefined) {
        const pi = own(intents, String(p.payment_intent), livemode, 'payment_intent', 'payment_intent')
        ch = pi.status === 'succeeded' && typeof pi.latest_charge === 'string' ? charges.get(pi.latest_charge) : undefined
        if (!ch) throw invalid(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, 'payment_intent', 'charge_not_refundable')
      } else if (p.charge !== undefined) {
        ch = own(charges, String(p.charge), livemode, 'charge', 'charge')
        if (ch.status !== 'succeeded') throw invalid(`Charge ${ch.id} has not succeeded and cannot be refunded.`, 'charge', 'charge_not_refundable')
      } else throw invalid('One of the following params should be provided for this request: payment_intent or charge.', undefined, 'parameter_missing')
      const left = ch.amount - ch.amount_refunded
      if (left === 0) throw invalid(`Charge ${ch.id} has already been refunded.`, undefined, 'charge_already_refunded')
      if (p.amount !== undefined && !/^[1-9]\d*$/.test(String(p.amount))) throw invalid(`Invalid positive integer`, 'amount', 'parameter_invalid_integer')
      const amount = p.amount === undefined ? left : Number(p.amount)
      if (amount > left) throw invalid(`Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`, 'amount', 'amount_too_large')
      const r = {
        id: id('re'), object: 'refund', amount, application: null, balance_transaction: id('txn'), charge: ch.id, created: now(), currency: ch.currency, customer: typeof ch.customer === 'string' ? ch.customer : null,
        customer_account: null, metadata: cleanMeta((p.metadata ?? {}) as Record<string, string>), payment_intent: ch.payment_intent, payment_method: ch.payment_method,
        reason: (p.reason as Stripe.Refund.Reason | undefined) ?? null, receipt_number: null, source_transfer_reversal: null, status: 'succeeded', transfer_reversal: null,
      } satisfies Stripe.Refund
      refunds.set(r.id, r)
      ch.amount_refunded += amount
      ch.refunded = ch.amount_refunded === ch.amount
      emit('refund.created', r)
      emit('charge.refunded', ch)
      return { body: r }
    }],
    ['GET', /^\/v1\/charges\/([^/]+)$/, (_p, livemode, [cid]) => {
      const ch = own(charges, cid!, livemode, 'charge', 'id')
      return { body: ch }
    }],
  ]

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req', 14), 'stripe-version': API_VERSION, ...headers })
    res.end(JSON.stringify(body, null, 2))
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const url = new URL(req.url ?? '/', 'http://x')
    const method = req.method ?? 'GET'
    const raw = method === 'GET' ? url.search.slice(1) : Buffer.concat(chunks).toString('utf8')
    const body = parseForm(raw)
    const header = (n: string) => { const v = req.headers[n]; return Array.isArray(v) ? v[0] : v }
    const idempotencyKey = header('idempotency-key')
    requests.push({ method, path: url.pathname, body, idempotencyKey, stripeVersion: header('stripe-version') })

    const key = /^Bearer (sk|rk)_(test|live)_\w+$/.exec(header('authorization') ?? '')
    if (!key) {
      return send(res, 401, { error: { type: 'invalid_request_error', message: header('authorization') ? 'Invalid API Key provided.' : "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')." } } satisfies StripeErrorBody)
    }
    const livemode = key[2] === 'live'
    const fi = failures.findIndex((f) => f.method === method && f.path === url.pathname)
    const failure = fi >= 0 ? failures.splice(fi, 1)[0] : undefined
    if (failure?.mode === 'status-500') return send(res, 500, { error: { type: 'api_error', message: 'An unknown error occurred' } } satisfies StripeErrorBody)

    const idemKey = method === 'POST' && idempotencyKey ? `${livemode}:${idempotencyKey}` : undefined
    const fingerprint = `${method} ${url.pathname} ${JSON.stringify(body)}`
    const stored = idemKey ? idem.get(idemKey) : undefined
    let status: number
    let out: unknown
    const extra: Record<string, string> = idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}
    if (stored) {
      if (stored.fingerprint !== fingerprint) {
        status = 400
        out = { error: { type: 'idempotency_error', message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.` } } satisfies StripeErrorBody
      } else {
        status = stored.status
        out = stored.body
        extra['idempotent-replayed'] = 'true'
      }
    } else {
      const route = routes.find(([m, re]) => m === method && re.test(url.pathname))
      try {
        if (!route) throw new ApiError(404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${url.pathname}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.` } })
        const r = route[2](body, livemode, route[1].exec(url.pathname)!.slice(1))
        status = r.status ?? 200
        out = r.body
        if (idemKey) idem.set(idemKey, { fingerprint, status, body: out })
      } catch (e) {
        if (!(e instanceof ApiError)) throw e
        status = e.status
        out = e.body
        if (idemKey && e.save) idem.set(idemKey, { fingerprint, status, body: out })
      }
    }
    if (failure?.mode === 'drop-after-processing') return void req.socket.destroy()
    send(res, status, out, extra)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => send(res, 500, { error: { type: 'api_error', message: `fake-stripe: ${String(e)}` } }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests, intents, setupIntents, customers, charges, refunds, events,
    failNext(method, path, mode) { failures.push({ method: method.toUpperCase(), path, mode }) },
    savedCard(customerId, testPaymentMethod, livemode = false) {
      const card = TEST_PAYMENT_METHODS[testPaymentMethod]
      if (!card) throw new Error(`fake-stripe: no test payment method ${testPaymentMethod}`)
      return paymentMethod(card, livemode, customerId)
    },
    completeNextAction(intentId, outcome) {
      const intent = intents.get(intentId) ?? setupIntents.get(intentId)
      if (!intent || intent.status !== 'requires_action') throw new Error(`fake-stripe: ${intentId} is not an intent awaiting an action`)
      const pm = paymentMethods.get(String(intent.payment_method))!
      const authFailure = { type: 'invalid_request_error' as const, code: 'payment_intent_authentication_failure' as const, message: 'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.', payment_method: pm }
      if (intent.object === 'payment_intent') {
        if (outcome === 'succeed') succeedPi(intent, pm)
        else {
          Object.assign(intent, { status: 'requires_payment_method', payment_method: null, next_action: null, last_payment_error: authFailure })
          emit('payment_intent.payment_failed', intent)
        }
      } else if (outcome === 'succeed') {
        Object.assign(intent, { status: 'succeeded', next_action: null, latest_attempt: id('setatt') })
        emit('setup_intent.succeeded', intent)
      } else {
        Object.assign(intent, { status: 'requires_payment_method', payment_method: null, next_action: null, last_setup_error: { ...authFailure, code: 'setup_intent_authentication_failure' } })
        emit('setup_intent.setup_failed', intent)
      }
      return intent
    },
    event,
    webhook(secret, ev) {
      const payload = JSON.stringify(ev, null, 2)
      return { payload, header: signer.webhooks.generateTestHeaderString({ payload, secret }) }
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
