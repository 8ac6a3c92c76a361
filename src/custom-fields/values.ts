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

export type ParseResult = { ok: true; value: FieldValue } | { ok: false; msg: string }

const num = (v: unknown) => (typeof v === 'number' ? v : undefined)
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/

export function parseFieldValue(field: FieldDefinition, raw: unknown): ParseResult {
  if (raw === null || raw === undefined || raw === '') return { ok: true, value: null }
  const p = field.properties
  switch (field.type) {
    case 'text': {
      if (typeof raw !== 'string') return { ok: false, msg: 'Input should be a valid string' }
      const minLength = num(p.min_length)
      const maxLength = num(p.max_length) ?? 10_000
      if (minLength !== undefined && raw.length < minLength) return { ok: false, msg: `String should have at least ${minLength} characters` }
      if (raw.length > maxLength) return { ok: false, msg: `String should have at most ${maxLength} characters` }
      return { ok: true, value: raw }
    }
    case 'number': {
      const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) return { ok: false, msg: 'Input should be a valid integer' }
      const ge = num(p.ge)
      const le = num(p.le)
      if (ge !== undefined && n < ge) return { ok: false, msg: `Input should be greater than or equal to ${ge}` }
      if (le !== undefined && n > le) return { ok: false, msg: `Input should be less than or equal to ${le}` }
      return { ok: true, value: n }
    }
    case 'date': {
      if (typeof raw !== 'string') return { ok: false, msg: 'Input should be a valid date' }
      const day = raw.slice(0, 10)
      const t = Date.parse(`${day}T00:00:00Z`)
      if (!DATE_RE.test(day) || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== day) {
        return { ok: false, msg: 'Input should be a valid date in the format YYYY-MM-DD' }
      }
      const secs = t / 1000
      const ge = num(p.ge)
      const le = num(p.le)
      if (ge !== undefined && secs < ge) return { ok: false, msg: `Date should be on or after ${new Date(ge * 1000).toISOString().slice(0, 10)}` }
      if (le !== undefined && secs > le) return { ok: false, msg: `Date should be on or before ${new Date(le * 1000).toISOString().slice(0, 10)}` }
      return { ok: true, value: day }
    }
    case 'checkbox': {
      if (typeof raw === 'boolean') return { ok: true, value: raw }
      if (typeof raw === 'string') {
        const v = raw.trim().toLowerCase()
        if (['true', '1', 'on', 'yes'].includes(v)) return { ok: true, value: true }
        if (['false', '0', 'off', 'no'].includes(v)) return { ok: true, value: false }
      }
      return { ok: false, msg: 'Input should be a valid boolean' }
    }
    case 'select': {
      const options = (p.options as { value: string }[] | undefined) ?? []
      if (typeof raw !== 'string' || !options.some((o) => o.value === raw)) {
        return { ok: false, msg: `Input should be one of: ${options.map((o) => `'${o.value}'`).join(', ')}` }
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
