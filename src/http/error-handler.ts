import type { IncomingMessage } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { jsonInvalid } from './body'
import { ApiError, PayloadTooLarge, RequestValidationError, TooManyRequests, UnsupportedMediaType } from './errors'

/** The one place where failures become HTTP answers in Polar's format. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    const known = toApiError(err)
    if (known) {
      if (known.status >= 500) request.log.error({ err }, 'request failed')
      if (known instanceof TooManyRequests) reply.header('retry-after', String(known.retryAfterSeconds))
      // Read (and drop) the rest of an over-long body before answering: a server that answers and closes
      // while the client is still sending resets the connection, and the client never sees the 413.
      if (known instanceof PayloadTooLarge) await drain(request.raw)
      return sendJson(reply, known.status, known.toBody())
    }
    request.log.error({ err }, 'unhandled error')
    return sendJson(reply, 500, { error: 'InternalServerError', detail: `Internal server error (request id ${request.id})` })
  })

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: 'ResourceNotFound', detail: 'Not found' })
  })
}

/**
 * Error bodies are serialized here, not by the route's response schema, so no error can fail to serialize:
 * echoed inputs are bounded first (see `boundedInput`), and should stringifying still throw, a plain body goes.
 */
function sendJson(reply: FastifyReply, status: number, body: Record<string, unknown>) {
  let text: string
  try {
    text = JSON.stringify(Array.isArray(body.detail) ? { ...body, detail: body.detail.map(boundIssue) } : body)
  } catch {
    text = JSON.stringify(status === 422 ? { detail: [{ loc: ['body'], msg: 'Invalid input', type: 'value_error' }] } : { error: 'Error', detail: 'The request failed.' })
  }
  return reply.status(status).type('application/json; charset=utf-8').send(text)
}

const MAX_ECHO_STRING = 1024
const MAX_ECHO_DEPTH = 16
const MAX_ECHO_ITEMS = 1000

function boundIssue(issue: unknown): unknown {
  if (!issue || typeof issue !== 'object') return issue
  const i = issue as Record<string, unknown>
  const out: Record<string, unknown> = { ...i }
  if ('input' in i) out.input = boundedInput(i.input, 0)
  if (i.ctx !== undefined) out.ctx = boundedInput(i.ctx, 0)
  // FastAPI reports a missing body with `"input": null`.
  if (i.type === 'missing' && Array.isArray(i.loc) && i.loc.length === 1 && i.input === undefined) out.input = null
  return out
}

/** An echoed input cut to a readable size: long strings truncated, deep or wide values elided. */
export function boundedInput(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.length > MAX_ECHO_STRING ? `${value.slice(0, MAX_ECHO_STRING)}…` : value
  if (typeof value === 'bigint') return value.toString()
  if (value === null || typeof value !== 'object') return typeof value === 'number' && !Number.isFinite(value) ? null : value
  if (depth >= MAX_ECHO_DEPTH) return Array.isArray(value) ? [] : {}
  if (Array.isArray(value)) return value.slice(0, MAX_ECHO_ITEMS).map((v) => boundedInput(v, depth + 1))
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString()
  const out: Record<string, unknown> = {}
  let n = 0
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue
    if (n++ >= MAX_ECHO_ITEMS) break
    out[boundedInput(k, MAX_ECHO_DEPTH) as string] = boundedInput((value as Record<string, unknown>)[k], depth + 1)
  }
  return out
}

/** Past this, a client still sending is cut off rather than read for ever. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024
const MAX_DRAIN_MS = 10_000

function drain(raw: IncomingMessage): Promise<void> {
  if (raw.complete || raw.readableEnded || raw.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    let bytes = 0
    const done = () => {
      clearTimeout(timer)
      raw.removeListener('data', onData)
      raw.removeListener('end', done)
      raw.removeListener('error', done)
      raw.removeListener('close', done)
      resolve()
    }
    const onData = (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > MAX_DRAIN_BYTES) {
        done()
        raw.destroy()
      }
    }
    const timer = setTimeout(done, MAX_DRAIN_MS)
    raw.on('data', onData)
    raw.once('end', done)
    raw.once('error', done)
    raw.once('close', done)
    raw.resume()
  })
}

function toApiError(err: FastifyError): ApiError | undefined {
  if (err instanceof ApiError) return err
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLarge()
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? new UnsupportedMediaType() : new ApiError(400, 'BadRequest', err.message)
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new RequestValidationError([{ loc: ['body'], msg: 'Field required', type: 'missing', input: null }], 'schema')
  }
  // Malformed JSON (and prototype-poisoning keys) from the body parser.
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || /prototype/i.test(err.message ?? '')) {
    if ((err.statusCode ?? 400) === 400) return jsonInvalid(err.message)
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new ApiError(err.statusCode, 'BadRequest', err.message)
  }
  return undefined
}

/**
 * The router's own refusals (a path that is not valid percent-encoding, a path parameter over the
 * length limit), in Polar's format instead of Fastify's.
 */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400
  reply.code(status).send({ error: status === 414 ? 'URITooLong' : 'BadRequest', detail: status === 414 ? 'The request URL is too long.' : 'The request URL is not valid.' })
}

/**
 * What Node's HTTP parser refuses before any route runs (headers over the size limit, a malformed
 * request, a timeout), answered in Polar's format on the socket, as Fastify's default does in its own.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: import('node:net').Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, text, body] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', { error: 'RequestTimeout', detail: 'The request took too long to arrive.' }]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', { error: 'RequestHeaderFieldsTooLarge', detail: 'The request headers are too large.' }]
        : [400, 'Bad Request', { error: 'BadRequest', detail: 'The request could not be read.' }]
  const json = JSON.stringify(body)
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(json)}\r\nContent-Type: application/json\r\n\r\n${json}`)
  socket.destroy(err)
}
