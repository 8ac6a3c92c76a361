import type { FastifyError, FastifyInstance } from 'fastify'
import { ApiError, PayloadTooLarge, RequestValidationError, TooManyRequests, UnsupportedMediaType } from './errors'

/** The one place where failures become HTTP answers in Polar's format. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const known = toApiError(err)
    if (known) {
      if (known.status >= 500) request.log.error({ err }, 'request failed')
      if (known instanceof TooManyRequests) reply.header('retry-after', String(known.retryAfterSeconds))
      return reply.status(known.status).send(known.toBody())
    }
    request.log.error({ err }, 'unhandled error')
    return reply.status(500).send({ error: 'InternalServerError', detail: `Internal server error (request id ${request.id})` })
  })

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: 'ResourceNotFound', detail: 'Not found' })
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
    if ((err.statusCode ?? 400) === 400) {
      return new RequestValidationError([{ loc: ['body', 0], msg: 'JSON decode error', type: 'json_invalid', input: {}, ctx: { error: err.message } }], 'schema')
    }
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new ApiError(err.statusCode, 'BadRequest', err.message)
  }
  return undefined
}
