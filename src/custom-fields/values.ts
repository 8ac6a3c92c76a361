/**
 * Values buyers give for custom fields: checked against the field's type and properties. Query
 * strings bring everything as text; the API brings JSON types. Both go through `parseFieldValue`.
 */

export type FieldValue = string | number | boolean | null

export interface FieldDefinition {
  type: 'text' | 'number' | 'date' | 'checkbox' | 'select'
  slug: string
  properties: Record<string, unknown>
}

/** A refusal carries pydantic's error type and message, as Polar's per-field model answers (`custom_field/data.py`). */
export type ParseResult = { ok: true; value: FieldValue } | { ok: false; msg: string; type: string; ctx?: Record<string, unknown> }

const num = (v: unknown) => (typeof v === 'number' ? v : undefined)
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/

export function parseFieldValue(field: FieldDefinition, raw: unknown): ParseResult {
  if (raw === null || raw === undefined || raw === '') return { ok: true, value: null }
  const p = field.properties
  switch (field.type) {
    case 'text': {
      if (typeof raw !== 'string') return { ok: false, type: 'string_type', msg: 'Input should be a valid string' }
      const minLength = num(p.min_length)
      const maxLength = num(p.max_length) ?? 10_000
      if (minLength !== undefined && raw.length < minLength) return { ok: false, type: 'string_too_short', msg: `String should have at least ${minLength} character${minLength === 1 ? '' : 's'}`, ctx: { min_length: minLength } }
      if (raw.length > maxLength) return { ok: false, type: 'string_too_long', msg: `String should have at most ${maxLength} character${maxLength === 1 ? '' : 's'}`, ctx: { max_length: maxLength } }
      return { ok: true, value: raw }
    }
    case 'number': {
      const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw
      if (typeof n === 'string') return { ok: false, type: 'int_parsing', msg: 'Input should be a valid integer, unable to parse string as an integer' }
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) return { ok: false, type: 'int_type', msg: 'Input should be a valid integer' }
      const ge = num(p.ge)
      const le = num(p.le)
      if (ge !== undefined && n < ge) return { ok: false, type: 'greater_than_equal', msg: `Input should be greater than or equal to ${ge}`, ctx: { ge } }
      if (le !== undefined && n > le) return { ok: false, type: 'less_than_equal', msg: `Input should be less than or equal to ${le}`, ctx: { le } }
      return { ok: true, value: n }
    }
    case 'date': {
      if (typeof raw !== 'string') return { ok: false, type: 'datetime_type', msg: 'Input should be a valid datetime' }
      const day = raw.slice(0, 10)
      const t = Date.parse(`${day}T00:00:00Z`)
      if (!DATE_RE.test(day) || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== day) {
        return { ok: false, type: 'datetime_from_date_parsing', msg: 'Input should be a valid datetime or date in the format YYYY-MM-DD' }
      }
      const secs = t / 1000
      const ge = num(p.ge)
      const le = num(p.le)
      if (ge !== undefined && secs < ge) return { ok: false, type: 'greater_than_equal', msg: `Input should be greater than or equal to ${new Date(ge * 1000).toISOString().slice(0, 19)}` }
      if (le !== undefined && secs > le) return { ok: false, type: 'less_than_equal', msg: `Input should be less than or equal to ${new Date(le * 1000).toISOString().slice(0, 19)}` }
      return { ok: true, value: day }
    }
    case 'checkbox': {
      if (typeof raw === 'boolean') return { ok: true, value: raw }
      if (typeof raw === 'string') {
        const v = raw.trim().toLowerCase()
        if (['true', '1', 'on', 'yes'].includes(v)) return { ok: true, value: true }
        if (['false', '0', 'off', 'no'].includes(v)) return { ok: true, value: false }
      }
      return { ok: false, type: 'bool_parsing', msg: 'Input should be a valid boolean, unable to interpret input' }
    }
    case 'select': {
      const options = (p.options as { value: string }[] | undefined) ?? []
      if (typeof raw !== 'string' || !options.some((o) => o.value === raw)) {
        const q = options.map((o) => `'${o.value}'`)
        const expected = q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} or ${q.at(-1)}`
        return { ok: false, type: 'literal_error', msg: `Input should be ${expected}`, ctx: { expected } }
      }
      return { ok: true, value: raw }
    }
  }
}

/** A required field is filled when it has a value (and a required checkbox is ticked). */
export function isFilled(field: FieldDefinition, value: FieldValue | undefined): boolean {
  if (value === undefined || value === null || value === '') return false
  return field.type !== 'checkbox' || value === true
}
