import type { FastifyInstance } from 'fastify'
import { ApiError, RequestValidationError } from './errors'

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

/**
 * The 422 Polar (FastAPI) gives a body it cannot decode, `loc` naming the character where decoding
 * stopped (Node's parser says "at position N"; 0 when it does not).
 */
export const jsonInvalid = (error: string, length?: number) => {
  const at = /at position (\d+)/.exec(error)?.[1]
  const pos = at !== undefined ? Number(at) : /end of JSON input/.test(error) && length !== undefined ? length : 0
  return new RequestValidationError([{ type: 'json_invalid', loc: ['body', pos], msg: 'JSON decode error', input: {}, ctx: { error } }], 'schema')
}

/**
 * FastAPI's answer when decoding fails for another reason than bad JSON (Python's decoder gives up on
 * deep nesting with a RecursionError): a 400 "There was an error parsing the body". Kassa stops at
 * MAX_JSON_DEPTH, far sooner than Python's ~1000 levels, and answers the same.
 */
export class BodyParseError extends ApiError {
  constructor() {
    super(400, 'BadRequest', 'There was an error parsing the body')
  }
}

/**
 * How bodies are read, for every route: the anonymous routes take at most 64 KB, the others 1 MB (an
 * over-long body is a 413, see error-handler.ts); JSON nested beyond MAX_JSON_DEPTH is refused (400,
 * as FastAPI) before JSON.parse; an empty JSON body is no body (FastAPI does the same, so a `DELETE` sent
 * with `Content-Type: application/json` and nothing else works), and a route that needs a body then says
 * `Field required`.
 */
export function registerBodyParsing(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (route.bodyLimit === undefined && isAnonymousRoute(route.url ?? route.path)) route.bodyLimit = ANONYMOUS_BODY_LIMIT
    // Request bodies are read as sent, as Polar's server does: a compressed body would make the limit
    // count inflated bytes (a 194 KB gzip of 200 MB kept a request busy for seconds).
    ;(route as { decompress?: false }).decompress = false
  })
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string
    if (text.trim() === '') return done(null, undefined)
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) return done(new BodyParseError(), undefined)
    return parseJson(request, text, (err, value) => {
      if (!err) return done(null, value)
      // Fastify's parser drops the decoder's message; only on this failure path, ask the decoder again
      // where it stopped (a body it decodes carries a forbidden `__proto__`/`constructor` key instead).
      let reason = 'Object contains forbidden prototype property'
      try {
        JSON.parse(text)
      } catch (e) {
        reason = (e as Error).message
      }
      return done(jsonInvalid(reason, text.length), undefined)
    })
  })
}
