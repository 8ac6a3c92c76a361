import { randomBytes } from 'node:crypto'
import fastifyFormbody from '@fastify/formbody'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { findLinkForVisit, findLiveLinkUrl } from '../checkout-links/service'
import { confirmCheckout } from '../checkouts/confirm'
import { LinkNotAvailable, visitLink } from '../checkouts/visit'
import { loadContext, statusAt } from '../checkouts/context'
import { toCheckoutPublic } from '../checkouts/present'
import { getCheckoutBySecretOrThrow, updateClientCheckout } from '../checkouts/service'
import type { CheckoutPublic } from '../checkouts/schemas'
import type { Deps } from '../deps'
import { ApiError, ExpiredCheckoutError, NotOpenCheckout, PaymentError, RequestValidationError, ResourceNotFound } from '../http/errors'
import { matchAcceptLanguage, matchLocale, type Locale } from '../lib/locales'
import { getOrderByCheckoutId } from '../orders/service'
import { sandboxTokenForCard } from '../payments/processor'
import { getSubscriptionById } from '../subscriptions/service'
import { parseMajorAmount } from './format'
import { pageHeaders } from './html'
import { t } from './i18n/index'
import { amountError, renderCheckoutPage, renderConfirmation, renderMessage, renderProcessing, type FormState, type PageContext } from './render'
import { SCRIPT } from './script'

type Query = Record<string, string | string[] | undefined>
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)

function pageContext(req: FastifyRequest, sessionLocale?: string | null): PageContext {
  const q = req.query as Query
  const locale: Locale = matchLocale(first(q.locale)) ?? matchLocale(sessionLocale) ?? matchAcceptLanguage(req.headers['accept-language']) ?? 'en'
  const theme = first(q.theme)
  return {
    locale,
    theme: theme === 'light' || theme === 'dark' ? theme : undefined,
    nonce: randomBytes(16).toString('base64'),
    fragment: req.headers['x-kassa-fragment'] === '1',
  }
}

function send(reply: FastifyReply, status: number, ctx: PageContext, body: string, opts: { secret?: boolean } = {}) {
  return reply.status(status).headers(pageHeaders({ nonce: ctx.nonce, secretInUrl: opts.secret, personal: opts.secret })).send(body)
}

export function sendNotAvailable(reply: FastifyReply, ctx: PageContext, organizationName?: string) {
  return send(reply, 404, ctx, renderMessage(ctx, t(ctx.locale, 'not_available_title'), t(ctx.locale, 'not_available_text'), undefined, organizationName))
}

/** Field errors from a 422, in the buyer's language, keyed by form field name. */
function formErrors(err: RequestValidationError, c: CheckoutPublic, locale: Locale): FormState['errors'] {
  const out: FormState['errors'] = {}
  for (const issue of err.issues) {
    const loc = issue.loc.slice(1).map(String)
    const name = loc.join('.')
    if (name === 'confirmation_token_id') out.card_number = t(locale, 'card_invalid')
    else if (loc[0] === 'discount_code') out.discount_code = t(locale, /no longer/.test(issue.msg) ? 'discount_gone' : 'discount_invalid')
    else if (loc[0] === 'amount') out.amount = amountError(c, locale)
    else if (issue.type === 'missing') out[name] = t(locale, 'field_required')
    else if (loc[0] === 'customer_email') out[name] = t(locale, 'email_invalid')
    else out[name] = t(locale, 'fix_errors')
  }
  return out
}

/** The form post (no JavaScript) → the client API's changes, plus what the buyer typed. */
function readForm(body: Record<string, string | string[]>, currency: string, locale: Locale) {
  // PostgreSQL stores no NUL character: a posted one is dropped rather than failing the save.
  const get = (k: string) => {
    const v = body[k]
    return (Array.isArray(v) ? v[0] : v)?.replace(/\u0000/g, '').trim()
  }
  const values: Record<string, string> = {}
  for (const [k, v] of Object.entries(body)) if (!k.startsWith('card_')) values[k] = String(Array.isArray(v) ? v[0] : v)
  const errors: Record<string, string> = {}
  const changes: Record<string, unknown> = {}
  const action = get('action') ?? 'pay'
  if (get('product_id')) changes.product_id = get('product_id')
  if (get('locale')) changes.locale = get('locale')
  const amount = get('amount')
  if (amount !== undefined && amount !== '') {
    const minor = parseMajorAmount(amount, currency)
    if (minor === undefined) errors.amount = 'invalid'
    else changes.amount = minor
  }
  if (action === 'apply_discount') changes.discount_code = get('discount_code') ?? ''
  if (action === 'remove_discount') changes.discount_code = null
  if (get('customer_email') !== undefined) changes.customer_email = get('customer_email') || null
  if (get('customer_name') !== undefined) changes.customer_name = get('customer_name') || null
  const fields: Record<string, string | null> = {}
  for (const [k] of Object.entries(body)) if (k.startsWith('custom_field_data.')) fields[k.slice(18)] = get(k) || null
  changes.custom_field_data = fields
  const country = get('customer_billing_address.country')
  if (country) {
    const a: Record<string, string> = { country }
    for (const k of ['line1', 'line2', 'city', 'postal_code', 'state']) {
      const v = get(`customer_billing_address.${k}`)
      if (v) a[k] = v
    }
    changes.customer_billing_address = a
  }
  if (action === 'pay' && get('card_number') !== undefined) {
    const token = sandboxTokenForCard(get('card_number') ?? '')
    if (!token) errors.card_number = t(locale, 'card_invalid')
    const m = /^(\d{2})\s*\/?\s*(\d{2})$/.exec(get('card_expiry') ?? '')
    const now = new Date()
    if (!m || +m[1]! < 1 || +m[1]! > 12 || new Date(Date.UTC(2000 + +m[2]!, +m[1]!, 1)) <= now) errors.card_expiry = t(locale, 'expiry_invalid')
    if (!/^\d{3,4}$/.test(get('card_cvc') ?? '')) errors.card_cvc = t(locale, 'cvc_invalid')
    if (token) changes.confirmation_token_id = token
  }
  return { action, changes, values, errors }
}

/**
 * The buyer's pages: the link visit (307 to a new session), the hosted checkout (a plain form that
 * works without JavaScript, enhanced by a small script), processing, confirmation and expired states.
 */
export const checkoutPageRoutes: FastifyPluginAsync<{ deps: Deps }> = async (app, { deps }) => {
  // Form posts are accepted here only; the API stays JSON-only.
  await app.register(fastifyFormbody, { bodyLimit: 64 * 1024 })
  const linkPath = new URL(deps.config.linkBaseUrl).pathname.replace(/\/+$/, '')

  // HEAD (link checkers, unfurlers) answers without opening a session.
  app.head(`${linkPath}/:client_secret`, { schema: { hide: true } }, async (req, reply) => {
    const { client_secret } = req.params as { client_secret: string }
    const link = await findLinkForVisit(deps.db, client_secret)
    const ctx = pageContext(req)
    return reply.status(link && link.products.length ? 200 : 404).headers(pageHeaders({ nonce: ctx.nonce })).send()
  })

  app.get(`${linkPath}/:client_secret`, { schema: { hide: true }, exposeHeadRoute: false }, async (req, reply) => {
    const { client_secret } = req.params as { client_secret: string }
    try {
      return reply.header('cache-control', 'no-store').redirect(await visitLink(deps, client_secret, req), 307)
    } catch (err) {
      if (err instanceof LinkNotAvailable) return sendNotAvailable(reply, pageContext(req), err.organizationName)
      throw err
    }
  })

  async function load(clientSecret: string) {
    const row = await getCheckoutBySecretOrThrow(deps, clientSecret)
    const now = deps.clock.now()
    return { row, now, checkout: await toCheckoutPublic(deps, row, await loadContext(deps.db, row), now) }
  }

  async function showState(req: FastifyRequest, reply: FastifyReply, clientSecret: string, form?: FormState, status = 200) {
    let loaded
    try {
      loaded = await load(clientSecret)
    } catch (err) {
      if (err instanceof ResourceNotFound) return sendNotAvailable(reply, pageContext(req))
      throw err
    }
    const { row, now, checkout } = loaded
    const ctx = pageContext(req, row.locale)
    const state = statusAt(row, now)
    if (state === 'succeeded') {
      const order = await getOrderByCheckoutId(deps.db, row.organization_id, row.id)
      const sub = order?.subscription_id ? await getSubscriptionById(deps.db, row.organization_id, order.subscription_id) : undefined
      return send(reply, 200, ctx, renderConfirmation(checkout, ctx, { orderId: order?.id ?? null, trialEnd: sub?.trial_end ?? null }), { secret: true })
    }
    if (state === 'confirmed') return send(reply, 200, ctx, renderProcessing(checkout, ctx, SCRIPT), { secret: true })
    if (state === 'expired' || state === 'failed') {
      const link = row.checkout_link_id ? await findLiveLinkUrl(deps, row.organization_id, row.checkout_link_id) : undefined
      const href = link ? `${link}${row.link_query ? `?${row.link_query}` : ''}` : undefined
      const [title, text] = state === 'expired' ? [t(ctx.locale, 'expired_title'), t(ctx.locale, 'expired_text')] : [t(ctx.locale, 'payment_failed'), '']
      return send(reply, state === 'expired' ? 410 : 200, ctx, renderMessage(ctx, title, text, href ? { href, label: t(ctx.locale, state === 'expired' ? 'start_again' : 'try_again') } : undefined, checkout.organization.name), { secret: true })
    }
    const action = `/checkout/${encodeURIComponent(clientSecret)}${ctx.theme ? `?theme=${ctx.theme}` : ''}`
    return send(reply, status, ctx, renderCheckoutPage(checkout, ctx, form ?? { errors: {}, values: {} }, now, { script: SCRIPT, action }), { secret: true })
  }

  app.get('/checkout/:client_secret', { schema: { hide: true } }, async (req, reply) => showState(req, reply, (req.params as { client_secret: string }).client_secret))

  app.get('/checkout/:client_secret/confirmation', { schema: { hide: true } }, async (req, reply) =>
    showState(req, reply, (req.params as { client_secret: string }).client_secret),
  )

  app.post('/checkout/:client_secret', { schema: { hide: true } }, async (req, reply) => {
    const { client_secret } = req.params as { client_secret: string }
    const body = (req.body ?? {}) as Record<string, string | string[]>
    let loaded
    try {
      loaded = await load(client_secret)
    } catch (err) {
      if (err instanceof ResourceNotFound) return sendNotAvailable(reply, pageContext(req))
      throw err
    }
    const ctx = pageContext(req, first(body.locale) ?? loaded.row.locale)
    const back = `/checkout/${encodeURIComponent(client_secret)}${ctx.theme ? `?theme=${ctx.theme}` : ''}`
    const { action, changes, values, errors } = readForm(body, loaded.checkout.currency, ctx.locale)
    if (errors.amount) errors.amount = amountError(loaded.checkout, ctx.locale)
    if (Object.keys(errors).length) return showState(req, reply, client_secret, { errors, values }, 422)
    try {
      if (action === 'pay') await confirmCheckout(deps, client_secret, changes as never)
      else await updateClientCheckout(deps, client_secret, changes as never)
      return reply.redirect(back, 303)
    } catch (err) {
      if (err instanceof RequestValidationError) return showState(req, reply, client_secret, { errors: formErrors(err, loaded.checkout, ctx.locale), values }, 422)
      if (err instanceof PaymentError) return showState(req, reply, client_secret, { errors: {}, values, formError: t(ctx.locale, 'card_declined') }, 402)
      if (err instanceof ExpiredCheckoutError || err instanceof NotOpenCheckout) return reply.redirect(back, 303)
      if (err instanceof ApiError && err.status < 500) return showState(req, reply, client_secret, { errors: {}, values, formError: t(ctx.locale, 'something_wrong') }, err.status)
      throw err
    }
  })
}
