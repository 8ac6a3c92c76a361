import { randomBytes } from 'node:crypto'
import fastifyFormbody from '@fastify/formbody'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { findLinkForVisit } from '../checkout-links/service'
import { LinkNotAvailable, visitLink } from '../checkouts/visit'
import type { Deps } from '../deps'
import { ApiError, ExpiredCheckoutError, NotOpenCheckout, PaymentError, RequestValidationError, TooManyRequests, UnsupportedMediaType } from '../http/errors'
import { matchAcceptLanguage, matchLocale, type Locale } from '../lib/locales'
import { formErrors, parseCheckoutForm } from './form'
import { pageHeaders } from './html'
import { t } from './i18n/index'
import { pageQuery, renderCheckoutPage, renderConfirmation, renderMessage, renderProcessing, type FormState, type PageContext } from './render'
import { SCRIPT } from './script'
import { loadPageState, submitCheckoutForm } from './service'

type Query = Record<string, string | string[] | undefined>
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)

/** `embedOrigin`: the session's allowed embedding origin; the page is embedded only when it also asks (`?embed=true`). */
function pageContext(req: FastifyRequest, sessionLocale?: string | null, embedOrigin?: string | null): PageContext {
  const q = req.query as Query
  const locale: Locale = matchLocale(first(q.locale)) ?? matchLocale(sessionLocale) ?? matchAcceptLanguage(req.headers['accept-language']) ?? 'en'
  const theme = first(q.theme)
  return {
    locale,
    theme: theme === 'light' || theme === 'dark' ? theme : undefined,
    nonce: randomBytes(16).toString('base64'),
    fragment: req.headers['x-kassa-fragment'] === '1',
    ...(embedOrigin && first(q.embed) === 'true' ? { embedOrigin } : {}),
  }
}

function send(reply: FastifyReply, status: number, ctx: PageContext, body: string, opts: { secret?: boolean } = {}) {
  return reply.status(status).headers(pageHeaders({ nonce: ctx.nonce, secretInUrl: opts.secret, personal: opts.secret, frameAncestor: ctx.embedOrigin })).send(body)
}

export function sendNotAvailable(reply: FastifyReply, ctx: PageContext, organizationName?: string) {
  return send(reply, 404, ctx, renderMessage(ctx, t(ctx.locale, 'not_available_title'), t(ctx.locale, 'not_available_text'), undefined, organizationName))
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

  async function showState(req: FastifyRequest, reply: FastifyReply, clientSecret: string, form?: FormState, status = 200) {
    const state = await loadPageState(deps, clientSecret)
    if (state.kind === 'missing') return sendNotAvailable(reply, pageContext(req))
    const { checkout } = state
    const ctx = pageContext(req, checkout.locale, state.embedOrigin)
    switch (state.kind) {
      case 'succeeded':
        return send(reply, 200, ctx, renderConfirmation(checkout, ctx, { orderId: state.orderId, trialEnd: state.trialEnd }), { secret: true })
      case 'confirmed':
        return send(reply, 200, ctx, renderProcessing(checkout, ctx, SCRIPT), { secret: true })
      case 'expired':
      case 'failed': {
        const expired = state.kind === 'expired'
        const [title, text] = expired ? [t(ctx.locale, 'expired_title'), t(ctx.locale, 'expired_text')] : [t(ctx.locale, 'payment_failed'), '']
        const again = state.restart ? { href: state.restart, label: t(ctx.locale, expired ? 'start_again' : 'try_again') } : undefined
        return send(reply, expired ? 410 : 200, ctx, renderMessage(ctx, title, text, again, checkout.organization.name), { secret: true })
      }
      case 'open': {
        const action = `/checkout/${encodeURIComponent(clientSecret)}${pageQuery(ctx)}`
        return send(reply, status, ctx, renderCheckoutPage(checkout, ctx, form ?? { errors: {}, values: {} }, state.now, { script: SCRIPT, action }), { secret: true })
      }
    }
  }

  app.get('/checkout/:client_secret', { schema: { hide: true } }, async (req, reply) => showState(req, reply, (req.params as { client_secret: string }).client_secret))

  app.get('/checkout/:client_secret/confirmation', { schema: { hide: true } }, async (req, reply) =>
    showState(req, reply, (req.params as { client_secret: string }).client_secret),
  )

  // The no-JavaScript path: the form is parsed into the client API's input and goes where the JSON goes.
  app.post('/checkout/:client_secret', { schema: { hide: true } }, async (req, reply) => {
    const { client_secret } = req.params as { client_secret: string }
    // A browser's form post is urlencoded; anything else (a JSON body) is not this route's input.
    if (req.body !== undefined && !String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) throw new UnsupportedMediaType('Unsupported content type: send application/x-www-form-urlencoded.')
    const body = (req.body ?? {}) as Record<string, string | string[]>
    const state = await loadPageState(deps, client_secret)
    if (state.kind === 'missing') return sendNotAvailable(reply, pageContext(req))
    const back = (ctx: PageContext) => `/checkout/${encodeURIComponent(client_secret)}${pageQuery(ctx)}`
    const ctx = pageContext(req, first(body.locale) ?? state.checkout.locale, state.embedOrigin)
    if (state.kind !== 'open') return reply.redirect(back(ctx), 303)
    const form = parseCheckoutForm(body, state.checkout, ctx.locale, state.now)
    const fix = t(ctx.locale, 'fix_errors')
    if (!form.ok) return showState(req, reply, client_secret, { errors: form.errors, values: form.values, formError: fix }, 422)
    try {
      await submitCheckoutForm(deps, client_secret, form, { ip: req.ip })
      return reply.redirect(back(ctx), 303)
    } catch (err) {
      const values = form.values
      if (err instanceof RequestValidationError) {
        return showState(req, reply, client_secret, { errors: formErrors(err.issues, state.checkout, ctx.locale), values, formError: fix }, 422)
      }
      if (err instanceof PaymentError) return showState(req, reply, client_secret, { errors: {}, values, formError: t(ctx.locale, 'card_declined') }, 402)
      if (err instanceof TooManyRequests) {
        reply.header('retry-after', String(err.retryAfterSeconds))
        return showState(req, reply, client_secret, { errors: { discount_code: t(ctx.locale, 'too_many_attempts') }, values }, 429)
      }
      if (err instanceof ExpiredCheckoutError || err instanceof NotOpenCheckout) return reply.redirect(back(ctx), 303)
      if (err instanceof ApiError && err.status < 500) return showState(req, reply, client_secret, { errors: {}, values, formError: t(ctx.locale, 'something_wrong') }, err.status)
      throw err
    }
  })
}
