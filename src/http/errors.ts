/** A Polar-style error: `{"error": name, "detail": message}` with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message)
  }
  toBody(): Record<string, unknown> {
    return { error: this.error, detail: this.message }
  }
}

export class ResourceNotFound extends ApiError {
  constructor(message = 'Not found') {
    super(404, 'ResourceNotFound', message)
  }
}

export class Unauthorized extends ApiError {
  constructor(message = 'Unauthorized') {
    super(401, 'Unauthorized', message)
  }
}

export class NotPermitted extends ApiError {
  constructor(message = 'You do not have the required scope for this operation.') {
    super(403, 'NotPermitted', message)
  }
}

/** 409: the product is in use (the message is SDK 1.x's own description of the error). */
export class ProductNotDeletable extends ApiError {
  constructor(message = 'Product is in use and cannot be deleted.') {
    super(409, 'ProductNotDeletable', message)
  }
}

/** 403, Polar's checkout service: the buyer has used the discount as many times as it allows one customer. */
export class DiscountRedemptionLimitReached extends ApiError {
  constructor(message = 'You have already redeemed this discount the maximum number of times allowed per customer.') {
    super(403, 'DiscountRedemptionLimitReached', message)
  }
}

/** 410, Polar's `ResourceUnavailable` (e.g. uncancelling a subscription that has already ended). */
export class ResourceUnavailable extends ApiError {
  constructor(message = 'Unavailable') {
    super(410, 'ResourceUnavailable', message)
  }
}

/** 403, Polar's subscription service: cancel or revoke a subscription already canceled, ended, or not billable. */
export class AlreadyCanceledSubscription extends ApiError {
  constructor(message = 'This subscription is already canceled or will be at the end of the period.') {
    super(403, 'AlreadyCanceledSubscription', message)
  }
}

export class BadRequest extends ApiError {
  constructor(message: string) {
    super(400, 'BadRequest', message)
  }
}

export class PayloadTooLarge extends ApiError {
  constructor(message = 'Request body is too large.') {
    super(413, 'PayloadTooLarge', message)
  }
}

export class UnsupportedMediaType extends ApiError {
  constructor(message = 'Unsupported content type: send application/json.') {
    super(415, 'UnsupportedMediaType', message)
  }
}

/** `45 seconds`, `1 minute`, `15 minutes`: how long a 429 asks the client to wait. */
export function waitText(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`
  const minutes = Math.ceil(seconds / 60)
  return `${minutes} minute${minutes === 1 ? '' : 's'}`
}

/**
 * 429; the error handler sends `retryAfterSeconds` as `Retry-After`. Polar's rate limiting middleware
 * (server/polar/rate_limit.py, asgi-ratelimit's default 429) answers the same status and header with an
 * empty body; Kassa keeps its one error format and names the error after the status.
 */
export class TooManyRequests extends ApiError {
  constructor(
    readonly retryAfterSeconds: number,
    message = `Too many attempts. Try again in ${waitText(retryAfterSeconds)}.`,
  ) {
    super(429, 'TooManyRequests', message)
  }
}

export class ExpiredCheckoutError extends ApiError {
  constructor(message = 'This checkout session has expired.') {
    super(410, 'ExpiredCheckoutError', message)
  }
}

export class NotOpenCheckout extends ApiError {
  constructor(message = 'This checkout is not open.') {
    super(403, 'NotOpenCheckout', message)
  }
}

export class PaymentError extends ApiError {
  constructor(message: string) {
    super(400, 'PaymentError', message)
  }
}

/** One entry of a 422 body, as FastAPI/pydantic write it (Polar's format). */
export interface ValidationIssue {
  loc: (string | number)[]
  msg: string
  type: string
  input?: unknown
  ctx?: Record<string, unknown>
}

/**
 * 422 with one or more field errors; business rules raise it with `loc` naming the field. Polar names the
 * two sources apart (`exception_handlers.py`): the request schema's failures are FastAPI's
 * `RequestValidationError`, a service's are `PolarRequestValidationError`; both bodies are
 * `{ error, detail: [...] }`.
 */
export class RequestValidationError extends ApiError {
  constructor(
    readonly issues: ValidationIssue[],
    source: 'schema' | 'rule' = 'rule',
  ) {
    super(422, source === 'schema' ? 'RequestValidationError' : 'PolarRequestValidationError', issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '))
  }
  override toBody(): Record<string, unknown> {
    return { error: this.error, detail: this.issues }
  }
}

/** A business-rule failure on one body field: `fieldError(['body', 'code'], 'Discount code already exists.')`. */
export function fieldError(loc: (string | number)[], msg: string, input?: unknown, type = 'value_error', ctx?: Record<string, unknown>): RequestValidationError {
  return new RequestValidationError([{ loc, msg, type, ...(input !== undefined ? { input } : {}), ...(ctx ? { ctx } : {}) }])
}

/**
 * A field the request schema requires but that can only be checked after parsing (a union Zod cannot
 * express as Polar's pydantic model does): answered as the schema's own `missing`.
 */
export function missingField(loc: (string | number)[]): RequestValidationError {
  return new RequestValidationError([{ loc, msg: 'Field required', type: 'missing' }], 'schema')
}

/**
 * 503: the organization's payments cannot be made right now because the install cannot open its stored
 * Stripe keys (ENCRYPTION_KEY missing or changed). The operator fixes it; the buyer can retry later.
 */
export class PaymentsUnavailable extends ApiError {
  constructor(message = 'Payments are temporarily unavailable for this organization.') {
    super(503, 'PaymentsUnavailable', message)
  }
}

/**
 * 400: storing a Stripe secret needs the install's ENCRYPTION_KEY, which is not set. The operator sets it
 * (and restarts); nothing is stored meanwhile.
 */
export class EncryptionKeyMissing extends ApiError {
  constructor(
    message = 'Kassa cannot store Stripe secrets: this install has no ENCRYPTION_KEY. Ask the operator to set ENCRYPTION_KEY (32 bytes, e.g. the output of `openssl rand -base64 32`) and restart Kassa, then save the keys again.',
  ) {
    super(400, 'EncryptionKeyMissing', message)
  }
}
