import type { FastifyInstance } from 'fastify'
import { RequestValidationError } from './errors'

/** Bodies on the routes anyone can call without a token (the buyer's client endpoints, the page's form, login). */
export const ANONYMOUS_BODY_LIMIT = 64 * 1024
/** Every other route (the API with a token, the dashboard). */
export const BODY_LIMIT = 1024 * 1024
/** Deeper JSON is refused before it is parsed: no real API body nests beyond a handful of levels. */
export const MAX_JSON_DEPTH = 64

const ANONYMOUS_PREFIXES = ['/v1/checkouts/client/', '/checkout/', '/v1/auth/login']

export const isAnonymousRoute = (url: string): boolean => ANONYMOUS_PREFIXES.some((p) => url.startsWith(p))

/**
 * The deepest nesting of `[`/`{` outside strings, stopping as soon as it passes `max`: one pass over
 * the text, no recursion, so a body nested 50,000 deep costs what its length costs.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}

/** The 422 Polar (FastAPI) gives a body it cannot decode; Kassa's malformed-JSON answer too. */
export const jsonInvalid = (error: string) =>
  new RequestValidationError([{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error } }], 'schema')

/**
 * How bodies are read, for every route: the anonymous routes take at most 64 KB, the others 1 MB (an
 * over-long body is a 413, see error-handler.ts); JSON nested beyond MAX_JSON_DEPTH is refused as
 * undecodable before JSON.parse; an empty JSON body is no body (FastAPI does the same, so a `DELETE` sent
 * with `Content-Type: application/json` and nothing else works), and a route that needs a body then says
 * `Field required`.
 */
export function registerBodyParsing(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (route.bodyLimit === undefined && isAnonymousRoute(route.url ?? route.path)) route.bodyLimit = ANONYMOUS_BODY_LIMIT
  })
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string
    if (text.trim() === '') return done(null, undefined)
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) return done(jsonInvalid(`Nesting is deeper than ${MAX_JSON_DEPTH} levels`), undefined)
    return parseJson(request, text, done)
  })
}
