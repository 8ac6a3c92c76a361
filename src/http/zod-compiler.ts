import type { FastifySchemaCompiler } from 'fastify'
import type { z } from 'zod'
import { RequestValidationError, type ValidationIssue } from './errors'
import { toValidationIssues } from './validation'

const locations = { body: 'body', querystring: 'query', params: 'path', headers: 'header' } as const

/**
 * PostgreSQL stores no NUL character (in text or in jsonb), so one in any string or key is refused
 * up front with a 422 instead of failing at the database.
 */
function findNul(value: unknown, loc: (string | number)[], depth = 0): ValidationIssue | undefined {
  if (typeof value === 'string') {
    return value.includes('\u0000') ? { loc, msg: 'String should not contain NUL characters', type: 'string_nul', input: value } : undefined
  }
  if (depth > 32 || value === null || typeof value !== 'object') return undefined
  for (const [k, v] of Object.entries(value)) {
    const key: string | number = Array.isArray(value) ? Number(k) : k
    if (typeof key === 'string' && key.includes('\u0000')) return { loc: [...loc, key], msg: 'Keys should not contain NUL characters', type: 'string_nul' }
    const found = findNul(v, [...loc, key], depth + 1)
    if (found) return found
  }
  return undefined
}

/** Validates a request part with its Zod schema; failures become Polar-style 422s. */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const loc = locations[(httpPart ?? 'body') as keyof typeof locations] ?? 'body'
  return (data: unknown) => {
    const result = schema.safeParse(data)
    if (!result.success) {
      // No body at all (none sent, an empty one, or JSON `null`): FastAPI's answer for a required body.
      if (loc === 'body' && data == null) return { error: new RequestValidationError([{ loc: ['body'], msg: 'Field required', type: 'missing', input: null }], 'schema') as unknown as Error }
      return { error: new RequestValidationError(toValidationIssues(result.error, loc, data), 'schema') as unknown as Error }
    }
    const nul = findNul(result.data, [loc])
    if (nul) return { error: new RequestValidationError([nul], 'schema') as unknown as Error }
    return { value: result.data }
  }
}
