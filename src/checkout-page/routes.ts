import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { rawQuery } from '../checkout-links/routes'
import { createCheckoutFromLink, LinkNotAvailable } from '../checkouts/visit'
import { checkoutUrl, getCheckoutBySecretOrThrow, loadContext, selectedProduct, statusAt } from '../checkouts/service'
import type { Deps } from '../deps'
import { ResourceNotFound } from '../http/errors'
import { matchAcceptLanguage, matchLocale } from '../lib/locales'
import { html, pageHeaders, type Raw } from './html'

function page(title: string, lang: string, body: Raw): string {
  return html`<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex,nofollow"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:10vh auto;padding:0 1rem;color:#111}@media(prefers-color-scheme:dark){body{background:#111;color:#eee}}</style></head><body>${body}</body></html>`.html
}

const notAvailable: Record<string, [string, string]> = {
  en: ['This link is not available', 'The checkout link you followed does not exist or is no longer active. Please contact the seller.'],
}

export function sendNotAvailable(reply: FastifyReply, lang: string, organizationName?: string) {
  const [title, text] = notAvailable[lang] ?? notAvailable.en!
  return reply
    .status(404)
    .headers(pageHeaders())
    .send(page(title, lang, html`<main><h1>${title}</h1>${organizationName ? html`<p>${organizationName}</p>` : ''}<p>${text}</p></main>`))
}

/**
 * Pages on the link host and the checkout host: the link visit (307 to a new session) and, until
 * the full hosted page lands, a minimal checkout page.
 */
export const checkoutPageRoutes: FastifyPluginAsync<{ deps: Deps }> = async (app, { deps }) => {
  const linkPath = new URL(deps.config.linkBaseUrl).pathname.replace(/\/+$/, '')

  app.get(`${linkPath}/:client_secret`, { schema: { hide: true } }, async (req, reply) => {
    const { client_secret } = req.params as { client_secret: string }
    const lang = matchLocale(new URLSearchParams(rawQuery(req.url)).get('locale')) ?? matchAcceptLanguage(req.headers['accept-language']) ?? 'en'
    try {
      const { clientSecret, forward } = await createCheckoutFromLink(deps, client_secret, {
        rawQuery: rawQuery(req.url),
        acceptLanguage: req.headers['accept-language'],
        ip: req.ip,
      })
      return reply.header('cache-control', 'no-store').redirect(`${checkoutUrl(deps.config, clientSecret)}${forward ? `?${forward}` : ''}`, 307)
    } catch (err) {
      if (err instanceof LinkNotAvailable) return sendNotAvailable(reply, lang, err.organizationName)
      throw err
    }
  })

  app.get('/checkout/:client_secret', { schema: { hide: true } }, async (req, reply) => {
    const { client_secret } = req.params as { client_secret: string }
    let row
    try {
      row = await getCheckoutBySecretOrThrow(deps, client_secret)
    } catch (err) {
      if (err instanceof ResourceNotFound) return sendNotAvailable(reply, 'en')
      throw err
    }
    const now = deps.clock.now()
    const ctx = await loadContext(deps.db, row)
    const product = selectedProduct(row, ctx)
    const status = statusAt(row, now)
    const lang = row.locale ?? matchAcceptLanguage(req.headers['accept-language']) ?? 'en'
    const total = new Intl.NumberFormat(lang, { style: 'currency', currency: row.currency.toUpperCase() }).format(row.total_amount / 100)
    return reply
      .status(status === 'expired' ? 410 : 200)
      .headers(pageHeaders({ secretInUrl: true, personal: true }))
      .send(page(product?.name ?? 'Checkout', lang, html`<main><h1>${product?.name ?? ''}</h1><p>${total}</p><p>Status: ${status}</p></main>`))
  })
}
