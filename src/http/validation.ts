import type { z } from 'zod'
import type { ValidationIssue } from './errors'

type Location = 'body' | 'query' | 'path' | 'header'

const typeNames: Record<string, [string, string]> = {
  string: ['string_type', 'Input should be a valid string'],
  number: ['float_type', 'Input should be a valid number'],
  int: ['int_type', 'Input should be a valid integer'],
  boolean: ['bool_type', 'Input should be a valid boolean'],
  object: ['dict_type', 'Input should be a valid dictionary or object'],
  array: ['list_type', 'Input should be a valid list'],
  date: ['datetime_type', 'Input should be a valid datetime'],
}

/** Walks a path into a value (to report the offending input, as pydantic does). */
function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let v: unknown = root
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<PropertyKey, unknown>)[k as string]
  }
  return v
}

function quoteList(values: readonly unknown[]): string {
  const q = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)))
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} or ${q.at(-1)}`
}

/** A Stripe secret (secret or restricted key, webhook signing secret): never echoed in an error. */
const SECRET_LIKE = /^(?:sk|rk)_(?:test|live)_|^whsec_/
const REDACTED = '**********'

/** The input an error shows, with anything that looks like a secret masked (deep, for echoed objects). */
function shown(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return SECRET_LIKE.test(v) ? REDACTED : v
  if (v === null || typeof v !== 'object' || depth > 8) return v
  if (Array.isArray(v)) return v.map((x) => shown(x, depth + 1))
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shown(x, depth + 1)]))
}

/**
 * Zod issues → pydantic-style issues, so a 422 from Kassa reads like one from Polar
 * (`{"loc": ["body", "name"], "msg": "Field required", "type": "missing"}`).
 */
export function toValidationIssues(error: z.ZodError, location: Location, root: unknown): ValidationIssue[] {
  const out: ValidationIssue[] = []
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
    const loc = [location, ...path]
    if (issue.code === 'invalid_key' && issue.issues[0]) {
      // A bad record key: report the key itself, as pydantic does.
      const key = path.at(-1)
      out.push({ loc, ...describe(issue.issues[0], key), ...(key !== undefined ? { input: key } : {}) })
      continue
    }
    if (issue.code === 'unrecognized_keys') {
      // One issue per extra key, with that key's value only (pydantic's `extra_forbidden`): never the whole
      // object, which may hold a secret sent alongside (a Stripe key in the payment settings).
      for (const key of issue.keys) {
        const input = shown(valueAt(root, [...path, key]))
        out.push({ loc: [...loc, key], msg: 'Extra inputs are not permitted', type: 'extra_forbidden', ...(input !== undefined ? { input } : {}) })
      }
      continue
    }
    const input = valueAt(root, path)
    const masked = shown(input)
    out.push({ loc, ...describe(issue, input), ...(masked !== undefined ? { input: masked } : {}) })
  }
  return out
}

function describe(issue: z.core.$ZodIssue, input: unknown): { msg: string; type: string; ctx?: Record<string, unknown> } {
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined) return { msg: 'Field required', type: 'missing' }
      if (issue.expected === 'int' || (issue.expected === 'number' && issue.message.includes('int'))) {
        return { msg: typeNames.int![1], type: typeNames.int![0] }
      }
      const t = typeNames[issue.expected]
      return t ? { msg: t[1], type: t[0] } : { msg: issue.message, type: `${issue.expected}_type` }
    }
    case 'too_small': {
      const min = Number(issue.minimum)
      if (issue.origin === 'string')
        return { msg: `String should have at least ${min} character${min === 1 ? '' : 's'}`, type: 'string_too_short', ctx: { min_length: min } }
      if (issue.origin === 'array' || issue.origin === 'set')
        return { msg: `List should have at least ${min} item${min === 1 ? '' : 's'} after validation`, type: 'too_short', ctx: { min_length: min } }
      return issue.inclusive
        ? { msg: `Input should be greater than or equal to ${min}`, type: 'greater_than_equal', ctx: { ge: min } }
        : { msg: `Input should be greater than ${min}`, type: 'greater_than', ctx: { gt: min } }
    }
    case 'too_big': {
      const max = Number(issue.maximum)
      if (issue.origin === 'string')
        return { msg: `String should have at most ${max} character${max === 1 ? '' : 's'}`, type: 'string_too_long', ctx: { max_length: max } }
      if (issue.origin === 'array' || issue.origin === 'set')
        return { msg: `List should have at most ${max} item${max === 1 ? '' : 's'} after validation`, type: 'too_long', ctx: { max_length: max } }
      return issue.inclusive
        ? { msg: `Input should be less than or equal to ${max}`, type: 'less_than_equal', ctx: { le: max } }
        : { msg: `Input should be less than ${max}`, type: 'less_than', ctx: { lt: max } }
    }
    case 'invalid_value':
      if (input === undefined) return { msg: 'Field required', type: 'missing' }
      return issue.values.length === 1
        ? { msg: `Input should be ${quoteList(issue.values)}`, type: 'literal_error', ctx: { expected: quoteList(issue.values) } }
        : { msg: `Input should be ${quoteList(issue.values)}`, type: 'enum', ctx: { expected: quoteList(issue.values) } }
    case 'invalid_format':
      if (issue.format === 'uuid' || issue.format === 'guid')
        return { msg: 'Input should be a valid UUID', type: 'uuid_parsing' }
      if (issue.format === 'datetime') return { msg: 'Input should be a valid datetime', type: 'datetime_parsing' }
      if (issue.format === 'url') return { msg: 'Input should be a valid URL', type: 'url_parsing' }
      if (issue.format === 'email') return { msg: 'value is not a valid email address', type: 'value_error' }
      if (issue.format === 'regex') return { msg: `String should match pattern '${String(issue.pattern).replace(/^\/(.*)\/[a-z]*$/, '$1')}'`, type: 'string_pattern_mismatch' }
      return { msg: issue.message, type: 'value_error' }
    case 'invalid_union': {
      const d = issue as { note?: string; discriminator?: string; options?: unknown[] }
      if (d.note === 'No matching discriminator') {
        const expected = quoteList(d.options ?? [])
        if (input === undefined) return { msg: 'Field required', type: 'missing' }
        return {
          msg: `Input tag ${JSON.stringify(input)} found using '${d.discriminator}' does not match any of the expected tags: ${expected}`,
          type: 'union_tag_invalid',
          ctx: { discriminator: `'${d.discriminator}'`, tag: String(input), expected_tags: expected },
        }
      }
      return { msg: 'Input does not match any of the allowed shapes', type: 'union_error' }
    }
    case 'unrecognized_keys':
      return { msg: `Extra inputs are not permitted: ${issue.keys.join(', ')}`, type: 'extra_forbidden' }
    case 'not_multiple_of':
      return { msg: `Input should be a multiple of ${issue.divisor}`, type: 'multiple_of' }
    case 'custom':
    default: {
      const params = (issue as { params?: { type?: string; reason?: string } }).params
      return { msg: issue.message, type: params?.type ?? 'value_error', ...(params?.reason ? { ctx: { reason: params.reason } } : {}) }
    }
  }
}
