import { z } from 'zod'
import { EMAIL_INPUT_MAX_LENGTH, EMAIL_MAX_LENGTH, emailProblem } from '../lib/email'

/** Shapes shared by every domain's schemas.ts. */

export const Uuid = z.uuid({ version: undefined }).describe('UUID')
export const Timestamp = z.string().describe('ISO 8601 date-time, UTC')
export const NullableTimestamp = Timestamp.nullable()

export const iso = (d: Date | string): string => (typeof d === 'string' ? new Date(d) : d).toISOString()
export const isoOrNull = (d: Date | string | null | undefined): string | null => (d == null ? null : iso(d))

export const MetadataValue = z.union([z.string().max(500), z.number().int(), z.number(), z.boolean()])

/** Polar's metadata limits: at most 50 keys, keys 1–40 characters, string values at most 500. */
export const MetadataInput = z
  .record(z.string().min(1).max(40), MetadataValue)
  .refine((m) => Object.keys(m).length <= 50, { message: 'Dictionary should have at most 50 items', params: { type: 'too_long' } })
  .describe('Key-value pairs (at most 50 keys; keys up to 40 characters; string values up to 500 characters).')

export const MetadataOutput = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))

/**
 * Polar's metadata filter on lists, `?metadata[key]=value` (src/http/query.ts folds those keys into this
 * object): a row matches when, for every key given, its metadata value as text is one of that key's values.
 */
export const MetadataQuery = z
  .preprocess(
    (v, ctx) => {
      // Zod's record drops a `__proto__` key from its output, which would answer every row for a filter that
      // matches none (no metadata can hold that key: JSON bodies carrying it are refused). Refused instead.
      if (v !== null && typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, '__proto__')) {
        ctx.issues.push({ code: 'custom', message: 'Kassa cannot filter on the metadata key __proto__: no metadata holds it.', input: v, path: ['__proto__'] })
      }
      return v
    },
    z
      .record(z.string().min(1).max(40), z.array(z.string().max(500)).max(50))
      .refine((m) => Object.keys(m).length <= 50, { message: 'Dictionary should have at most 50 items', params: { type: 'too_long' } }),
  )
  .optional()
  .describe('Filter by metadata key-value pairs. It uses the `deepObject` style, e.g. `?metadata[key]=value`.')

/** `a`, `a,b` or repeated `?k=a&k=b` → `['a', 'b']`. */
export const stringList = <T extends z.ZodType<string>>(item: T) =>
  z.preprocess((v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]), z.array(item))

export const queryBoolean = z.preprocess(
  (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
  z.boolean(),
)

export const Pagination = z.object({ total_count: z.number().int(), max_page: z.number().int() })

export const paginationQuery = {
  page: z.coerce.number().int().min(1).default(1).describe('Page number, defaults to 1.'),
  limit: z.coerce.number().int().min(1).default(10).transform((l) => Math.min(l, 100)).describe('Size of a page, defaults to 10. Maximum is 100.'),
}

/** `?sorting=-created_at&sorting=name` restricted to the given properties (each with an optional `-`). */
export function sortingQuery<const P extends readonly string[]>(properties: P, fallback: string = '-created_at') {
  const allowed = properties.flatMap((p) => [p, `-${p}`]) as [string, ...string[]]
  return stringList(z.enum(allowed)).optional().transform((v) => (v && v.length ? v : [fallback]))
    .describe(`Sorting criterion. Several criteria can be used simultaneously and will be applied in order. Add a minus sign \`-\` before the criteria name to sort by descending order. One of: ${allowed.join(', ')}.`)
}

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), pagination: Pagination })
}

export type { Page } from '../db/helpers'
import type { Page } from '../db/helpers'

export function paginated<T>(items: T[], total: number, page: Page) {
  return { items, pagination: { total_count: total, max_page: Math.ceil(total / page.limit) } }
}

export const ErrorBody = z.object({ error: z.string(), detail: z.string() })
export const ValidationErrorBody = z.object({
  /** `RequestValidationError` (the request schema) or `PolarRequestValidationError` (a rule), as Polar names them. */
  error: z.enum(['RequestValidationError', 'PolarRequestValidationError']),
  detail: z.array(
    z.object({
      loc: z.array(z.union([z.string(), z.number()])),
      msg: z.string(),
      type: z.string(),
      input: z.unknown().optional(),
      ctx: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
})

/** The error answers every authenticated route can give, for the OpenAPI document. */
export const commonErrors = {
  401: ErrorBody.describe('Missing or invalid access token.'),
  403: ErrorBody.describe('The token lacks the required scope.'),
  422: ValidationErrorBody.describe('Validation error.'),
} as const

/**
 * An absolute http(s) URL (at most 2083 characters, as Polar). `javascript:`, `data:` and
 * protocol-relative URLs are refused. `{CHECKOUT_ID}` placeholders survive validation.
 */
export const HttpUrl = z
  .string()
  .trim()
  .max(2083, { abort: true })
  .refine((v) => {
    try {
      const u = new URL(v.replaceAll('{CHECKOUT_ID}', 'CHECKOUT_ID'))
      return (u.protocol === 'http:' || u.protocol === 'https:') && /^https?:\/\//i.test(v) && u.hostname.length > 0
    } catch {
      return false
    }
  }, { message: 'Input should be a valid URL with an http or https scheme', params: { type: 'url_scheme' } })

/**
 * An email address as Polar's `EmailStr` takes it (see src/lib/email.ts), trimmed. The length check aborts,
 * so nothing else runs on an over-long string; a failure reads as pydantic's
 * `value is not a valid email address: <reason>` (type `value_error`).
 */
export const EmailStr = z
  .string()
  .check((ctx) => {
    if (ctx.value.length > EMAIL_INPUT_MAX_LENGTH) invalidEmail(ctx, `Length must not exceed ${EMAIL_INPUT_MAX_LENGTH} characters`)
  })
  .trim()
  .check((ctx) => {
    const reason = emailProblem(ctx.value)
    if (reason) invalidEmail(ctx, reason)
  })
  .meta({ format: 'email', maxLength: EMAIL_MAX_LENGTH })

function invalidEmail(ctx: z.core.ParsePayload<string>, reason: string) {
  ctx.issues.push({ code: 'custom', message: `value is not a valid email address: ${reason}`, params: { type: 'value_error', reason }, input: ctx.value, continue: false })
}
