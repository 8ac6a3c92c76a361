import { ApiError } from './api'

/** Errors of a form: those about a field (shown beside it) and the others (shown at the top). */
export interface FormErrors {
  fields: Record<string, string[]>
  general: string[]
}

export const noErrors: FormErrors = { fields: {}, general: [] }

export const hasErrors = (e: FormErrors) => e.general.length > 0 || Object.keys(e.fields).length > 0

const human = (part: string | number) => (typeof part === 'number' ? `#${part + 1}` : part.replace(/_/g, ' '))

/**
 * A 422's issues go beside the field named by `loc[1]` when the form shows that field (deeper parts of the
 * location prefix the message: "#2 price amount: …"); everything else goes to the top, so no error is ever
 * dropped.
 */
export function toFormErrors(err: unknown, fields: readonly string[]): FormErrors {
  const out: FormErrors = { fields: {}, general: [] }
  if (err instanceof ApiError) {
    const issues = err.issues
    if (issues.length) {
      for (const issue of issues) {
        const [where, field, ...rest] = issue.loc
        const prefix = rest.length ? `${rest.map(human).join(' ')}: ` : ''
        if (where === 'body' && typeof field === 'string' && fields.includes(field)) {
          ;(out.fields[field] ??= []).push(prefix + issue.msg)
        } else {
          const path = issue.loc.slice(where === 'body' ? 1 : 0).map(human).join(' ')
          out.general.push(path ? `${path}: ${issue.msg}` : issue.msg)
        }
      }
      return out
    }
    out.general.push(err.message)
    return out
  }
  out.general.push(err instanceof Error ? err.message : String(err))
  return out
}

/** The same errors without those of `fields` (the user changed them since). */
export function without(e: FormErrors, ...fields: string[]): FormErrors {
  if (!fields.some((f) => f in e.fields)) return e
  const rest = { ...e.fields }
  for (const f of fields) delete rest[f]
  return { fields: rest, general: e.general }
}

export function merge(a: FormErrors, b: FormErrors): FormErrors {
  const fields = { ...a.fields }
  for (const [k, v] of Object.entries(b.fields)) fields[k] = [...(fields[k] ?? []), ...v]
  return { fields, general: [...a.general, ...b.general] }
}

/** Collects client-side checks in the same shape as the server's. */
export class Checks {
  readonly errors: FormErrors = { fields: {}, general: [] }
  field(name: string, message: string) {
    ;(this.errors.fields[name] ??= []).push(message)
  }
  get ok() {
    return !hasErrors(this.errors)
  }
}
