import { createHash, randomBytes } from 'node:crypto'
import { brotliCompressSync, gzipSync, constants as zlibConstants } from 'node:zlib'
import { Negotiator } from '@fastify/accept-negotiator'
import fastifyFormbody from '@fastify/formbody'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { rawQuery, VISIT_COOKIE, visitCookie, visitLink, type FrontDoor, type VisitOutcome } from '../checkouts/visit'
import { readCookie } from '../auth/cookie'
import { CheckoutLinkSecretParams } from '../checkout-links/schemas'
import { ErrorBody } from '../http/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { previewPriceLabel, renderPreview, renderVisitsLimited } from './preview'
import type { Deps } from '../deps'
import { ApiError, ExpiredCheckoutError, NotOpenCheckout, PaymentError, RequestValidationError, ResourceNotFound, TooManyRequests, UnsupportedMediaType, waitText } from '../http/errors'
import { matchAcceptLanguage, matchLocale, type Locale } from '../lib/locales'
import { formErrors, parseCheckoutForm } from './form'
import { pageHeaders } from './html'
import { t } from './i18n/index'
import { pageQuery, renderCheckoutPage, renderConfirmation, renderMessage, renderProcessing, type FormState, type NextAction, type PageContext } from './render'
import { SCRIPT } from './script'
import { CSS } from './styles'
import type { LinkForVisit } from '../checkout-links/service'
import type { CheckoutPublic } from '../checkouts/schemas'
import { loadPageState, submitCheckoutForm } from './service'

type Query = Record<string, string | string[] | undefined>
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)

/**
 * `embedOrigin`: the session's allowed embedding origin; the page is embedded only when it also asks (`?embed=true`).
 * `nonce: false`: a page allowed by hash (the kept preview), which needs no nonce.
 */
function pageContext(req: FastifyRequest, sessionLocale?: string | null, embedOrigin?: string | null, opts: { nonce?: false } = {}): PageContext {
  const q = req.query as Query
  const locale: Locale = matchLocale(first(q.locale)) ?? matchLocale(sessionLocale) ?? matchAcceptLanguage(req.headers['accept-language']) ?? 'en'
  const theme = first(q.theme)
  return {
    locale,
    theme: theme === 'light' || theme === 'dark' ? theme : undefined,
    nonce: opts.nonce === false ? '' : randomBytes(16).toString('base64'),
    fragment: req.headers['x-kassa-fragment'] === '1',
    ...(embedOrigin && first(q.embed) === 'true' ? { embedOrigin } : {}),
  }
}

/** `stripe`: the page loads Stripe.js (a Stripe session's checkout form), and its policy allows it. */
function send(reply: FastifyReply, status: number, ctx: PageContext, body: string, opts: { secret?: boolean; stripe?: boolean } = {}) {
  return reply.status(status).headers(pageHeaders({ nonce: ctx.nonce, secretInUrl: opts.secret, personal: opts.secret, frameAncestor: ctx.embedOrigin, ...(opts.stripe ? { stripe: true } : {}) })).send(body)
}

/**
 * A Stripe session whose buyer has 3-D Secure to finish (the page was reloaded, or the prompt closed, while it waited);
 * `payment_processor` says "stripe" on sandbox sessions too (Polar's literal), so the intent's own fields decide.
 */
function nextAction(c: CheckoutPublic): NextAction | undefined {
  const m = c.payment_processor_metadata
  return m.intent_status === 'requires_action' && m.intent_client_secret && m.publishable_key
    ? { publishableKey: m.publishable_key, clientSecret: m.intent_client_secret }
    : undefined
}

export function sendNotAvailable(reply: FastifyReply, ctx: PageContext, organizationName?: string) {
  return send(reply, 404, ctx, renderMessage(ctx, t(ctx.locale, 'not_available_title'), t(ctx.locale, 'not_available_text'), undefined, organizationName))
}

/**
 * The answer to a link visit, on the link URL and on the API's redirect alike: a 307 to the session (with
 * the `kassa_visit` cookie when it is new), the preview for link previewers, 503 to a prefetch, 429 when
 * this client opened too many sessions here.
 *
 * Why 503 to a prefetch: browsers use a prefetched answer for the navigation only when it is a 2xx, and
 * never one marked `no-store`; a 503 `no-store` is dropped, so the real navigation (if it ever comes)
 * asks again and opens the session then. A 204 or 200 would be used as the answer to the navigation (a
 * blank page), and a 307 would be followed by the prefetcher to the session page, defeating the point.
 */
function answerVisit(
  req: FastifyRequest,
  reply: FastifyReply,
  outcome: VisitOutcome,
  opts: { cookiePath: string; secret: string; status?: 303 | 307; locale?: string; api?: boolean },
) {
  // Only the answers that are pages need a context (the 307 and the prefetch's 503 are not).
  const page = (nonce?: false) => {
    const ctx = pageContext(req, undefined, undefined, { nonce })
    if (opts.locale) ctx.locale = matchLocale(opts.locale) ?? ctx.locale
    return ctx
  }
  switch (outcome.kind) {
    case 'session': {
      if (!outcome.reused) reply.header('set-cookie', visitCookie(req.server.deps.config, opts.cookiePath, outcome.clientSecret))
      return reply.header('cache-control', 'no-store').redirect(outcome.location, opts.status ?? 307)
    }
    case 'missing':
      if (opts.api) throw new ResourceNotFound()
      return sendNotAvailable(reply, page(), outcome.organizationName)
    case 'prefetch':
      return reply.status(503).headers({ 'cache-control': 'no-store', vary: 'Sec-Purpose, Purpose' }).header('content-type', 'text/plain; charset=utf-8').send('Prefetch declined: a checkout session opens when the link is visited.')
    case 'limited': {
      if (opts.api) throw new TooManyRequests(outcome.retryAfterSeconds, `Too many checkout sessions opened from this link. Try again in ${waitText(outcome.retryAfterSeconds)}.`)
      reply.header('retry-after', String(outcome.retryAfterSeconds))
      const ctx = page()
      return send(reply, 429, ctx, renderVisitsLimited(ctx, outcome.retryAfterSeconds, outcome.organizationName), { secret: true })
    }
    case 'preview':
      return sendPreview(req, reply, page(false), outcome, opts.secret)
  }
}

/** Only the encodings the app compresses with, as `@fastify/compress` would choose them; no header: identity. */
type Encoding = 'br' | 'gzip' | 'identity'
/** Accept-Encoding values are few in practice; a flood of odd ones empties the memo rather than growing it. */
class BoundedMemo<V> extends Map<string, V> {
  override set(key: string, value: V) {
    if (this.size >= 64) this.clear()
    return super.set(key, value)
  }
}
const encodings = new Negotiator<Encoding>({ supportedValues: ['br', 'gzip', 'identity'], cache: new BoundedMemo<string>() })

/**
 * The preview page's headers, the same for every previewer of every link: its one style is allowed by hash
 * (the page is kept and served as it is, so a nonce would be the same for all), it runs no script, and
 * shared caches may keep it for five minutes, per language and user agent (a browser must never get a
 * previewer's page from a cache).
 */
const PREVIEW_HEADERS = {
  ...pageHeaders({ styleHash: createHash('sha256').update(CSS).digest('base64') }),
  'cache-control': 'public, max-age=300',
  vary: 'User-Agent, Accept-Language, Sec-Purpose, Purpose, Cookie, Accept-Encoding',
  'referrer-policy': 'no-referrer',
}

/** One preview page, rendered once; each encoding is compressed the first time a previewer asks for it. */
class PreviewPage {
  private readonly bodies: Partial<Record<Encoding, Buffer>> = {}
  constructor(private readonly page: string) {}
  body(encoding: Encoding): Buffer {
    return (this.bodies[encoding] ??=
      encoding === 'br' ? brotliCompressSync(this.page, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 5 } })
      : encoding === 'gzip' ? gzipSync(this.page)
      : Buffer.from(this.page))
  }
}

/**
 * The rendered previews of each link configuration the visit cache holds (its entries are frozen and
 * replaced, never changed, on any change to the link, its products, prices or organization), by language,
 * forced theme and query; they go when the entry does. A link read past the cache is a new object each
 * time, so its page is rendered for that one answer. The query is the previewer's: a few per link.
 */
const previewPages = new WeakMap<LinkForVisit, Map<string, PreviewPage>>()
const PREVIEW_PAGES_PER_LINK = 16

function sendPreview(req: FastifyRequest, reply: FastifyReply, ctx: PageContext, outcome: Extract<VisitOutcome, { kind: 'preview' }>, secret: string) {
  const { link, product } = outcome
  const query = rawQuery(req.url)
  const key = `${ctx.locale} ${ctx.theme ?? ''} ${ctx.fragment ? 'f' : ''} ${query}`
  let pages = previewPages.get(link)
  if (!pages) previewPages.set(link, (pages = new Map()))
  let page = pages.get(key)
  if (!page) {
    const config = req.server.deps.config
    const linkPath = new URL(config.linkBaseUrl).pathname.replace(/\/+$/, '')
    page = new PreviewPage(
      renderPreview(ctx, {
        organizationName: link.organization_name,
        productName: product.product.name,
        description: product.product.description,
        priceLabel: previewPriceLabel(ctx.locale, product.prices[0] as never, product.product),
        url: `${config.linkBaseUrl}/${encodeURIComponent(secret)}`,
        continueAction: `${linkPath}/${encodeURIComponent(secret)}${query ? `?${query}` : ''}`,
      }),
    )
    if (pages.size >= PREVIEW_PAGES_PER_LINK) pages.delete(pages.keys().next().value!)
    pages.set(key, page)
  }
  const encoding = encodings.negotiate(req.headers['accept-encoding'] ?? '') ?? 'identity'
  reply.status(200).headers(PREVIEW_HEADERS)
  // Set here, @fastify/compress leaves the body as it is.
  if (encoding !== 'identity') reply.header('content-encoding', encoding)
  return reply.send(page.body(encoding))
}

/**
 * `GET /v1/checkout-links/{client_secret}/redirect`: the link visit, for API clients (the same visit as
 * `$LINK_BASE_URL/{client_secret}`, with JSON errors). Registered under the links' prefix; it lives here
 * because the visit's answers (preview, 429) are pages.
 */
export const linkRedirectRoutes: FastifyPluginAsyncZod<{ deps: Deps; frontDoor?: FrontDoor }> = async (app, { deps, frontDoor = {} }) => {
  app.get('/:client_secret/redirect', {
    schema: {
      tags: ['checkout-links'],
      summary: 'Redirect to a new Checkout Session',
      description:
        'Opens a checkout session from the link (with the query parameters of the link URL) and answers 307 to its page. ' +
        'Kassa: a browser that comes back with the same query while its session is open gets that session again (the `kassa_visit` cookie); ' +
        'link previewers get a preview page (200), prefetches a 503, and a client over `LINK_VISIT_RATE_LIMIT` new sessions a minute on this link a 429.',
      security: [],
      params: CheckoutLinkSecretParams,
      response: { 307: z.null(), 404: ErrorBody, 429: ErrorBody },
    },
  }, async (req, reply) => {
    const secret = req.params.client_secret
    const outcome = await visitLink({ ...deps, ...frontDoor }, secret, req, { cookie: readCookie(req.headers.cookie, VISIT_COOKIE) })
    return answerVisit(req, reply, outcome, { cookiePath: `/v1/checkout-links/${encodeURIComponent(secret)}/redirect`, secret, api: true })
  })
}

/**
 * The buyer's pages: the link visit (307 to a new session), the hosted checkout (a plain form that
 * works without JavaScript, enhanced by a small script), processing, confirmation and expired states.
 */
export const checkoutPageRoutes: FastifyPluginAsync<{ deps: Deps; frontDoor?: FrontDoor }> = async (app, { deps, frontDoor = {} }) => {
  // Form posts are accepted here only; the API stays JSON-only.
  await app.register(fastifyFormbody, { bodyLimit: 64 * 1024 })
  const linkPath = new URL(deps.config.linkBaseUrl).pathname.replace(/\/+$/, '')

  // HEAD (link checkers, unfurlers) answers without opening a session; it counts as a preview.
  app.head(`${linkPath}/:client_secret`, { schema: { hide: true } }, async (req, reply) => {
    const { client_secret } = req.params as { client_secret: string }
    const outcome = await visitLink({ ...deps, ...frontDoor }, client_secret, req, { as: 'preview' })
    const ctx = pageContext(req)
    return reply.status(outcome.kind === 'missing' ? 404 : 200).headers(pageHeaders({ nonce: ctx.nonce })).send()
  })

  app.get(`${linkPath}/:client_secret`, { schema: { hide: true }, exposeHeadRoute: false }, async (req, reply) => {
    const { client_secret } = req.params as { client_secret: string }
    const outcome = await visitLink({ ...deps, ...frontDoor }, client_secret, req, { cookie: readCookie(req.headers.cookie, VISIT_COOKIE) })
    return answerVisit(req, reply, outcome, { cookiePath: `${linkPath}/${encodeURIComponent(client_secret)}`, secret: client_secret })
  })

  // The preview page's "Continue to checkout": a person the previewer list took for a bot (bots do not POST).
  app.post(`${linkPath}/:client_secret`, { schema: { hide: true } }, async (req, reply) => {
    const { client_secret } = req.params as { client_secret: string }
    const outcome = await visitLink({ ...deps, ...frontDoor }, client_secret, req, { as: 'person', cookie: readCookie(req.headers.cookie, VISIT_COOKIE) })
    // Whatever the body is (a form, or JSON of any shape), only a string `locale` is read from it.
    const posted = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>).locale : undefined
    const locale = typeof posted === 'string' ? posted : Array.isArray(posted) && typeof posted[0] === 'string' ? posted[0] : undefined
    return answerVisit(req, reply, outcome, { cookiePath: `${linkPath}/${encodeURIComponent(client_secret)}`, secret: client_secret, status: 303, locale })
  })

  async function showState(req: FastifyRequest, reply: FastifyReply, clientSecret: string, form?: FormState, status = 200) {
    const state = await loadPageState(deps, clientSecret)
    if (state.kind === 'missing') return sendNotAvailable(reply, pageContext(req))
    const { checkout } = state
    const ctx = pageContext(req, checkout.locale, state.embedOrigin)
    switch (state.kind) {
      case 'succeeded':
        return send(reply, 200, ctx, renderConfirmation(checkout, ctx, { orderId: state.orderId, trialEnd: state.trialEnd }), { secret: true })
      case 'confirmed': {
        const next = nextAction(checkout)
        return send(reply, 200, ctx, renderProcessing(checkout, ctx, SCRIPT, next), { secret: true, stripe: Boolean(next) })
      }
      case 'expired':
      case 'failed': {
        const expired = state.kind === 'expired'
        const [title, text] = expired ? [t(ctx.locale, 'expired_title'), t(ctx.locale, 'expired_text')] : [t(ctx.locale, 'payment_failed'), '']
        const again = state.restart ? { href: state.restart, label: t(ctx.locale, expired ? 'start_again' : 'try_again') } : undefined
        return send(reply, expired ? 410 : 200, ctx, renderMessage(ctx, title, text, again, checkout.organization.name), { secret: true })
      }
      case 'open': {
        const action = `/checkout/${encodeURIComponent(clientSecret)}${pageQuery(ctx)}`
        const page = renderCheckoutPage(checkout, ctx, form ?? { errors: {}, values: {} }, state.now, { script: SCRIPT, action, ...(state.stripe ? { stripe: state.stripe } : {}) })
        return send(reply, status, ctx, page, { secret: true, stripe: Boolean(state.stripe) })
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
