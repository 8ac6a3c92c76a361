import { useId } from 'react'
import type { Checks } from '../lib/errors'
import type { Metadata } from '../lib/types'
import { FieldErrors } from './ui'

export const METADATA_MAX_KEYS = 50

export interface MetadataRow {
  key: string
  value: string
  /** The type the value had when loaded: kept on save while the text still reads as that type. */
  kind: 'string' | 'number' | 'boolean'
}

export const toRows = (m: Metadata | null | undefined): MetadataRow[] =>
  Object.entries(m ?? {}).map(([key, v]) => ({ key, value: String(v), kind: typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string' }))

export function fromRows(rows: MetadataRow[]): Metadata {
  const out: Metadata = {}
  for (const r of rows) {
    const key = r.key.trim()
    if (!key) continue
    if (r.kind === 'number' && r.value.trim() !== '' && Number.isFinite(Number(r.value))) out[key] = Number(r.value)
    else if (r.kind === 'boolean' && (r.value === 'true' || r.value === 'false')) out[key] = r.value === 'true'
    else out[key] = r.value
  }
  return out
}

/** Polar's limits, checked before sending (the server checks them again). */
export function checkMetadata(rows: MetadataRow[], checks: Checks, field = 'metadata') {
  const seen = new Set<string>()
  rows.forEach((r, i) => {
    const key = r.key.trim()
    if (!key && !r.value) return
    if (!key) checks.field(field, `Row ${i + 1}: the key is empty.`)
    else if (key.length > 40) checks.field(field, `Row ${i + 1}: keys are at most 40 characters.`)
    else if (seen.has(key)) checks.field(field, `Row ${i + 1}: the key “${key}” is used twice.`)
    if (r.value.length > 500) checks.field(field, `Row ${i + 1}: values are at most 500 characters.`)
    seen.add(key)
  })
  if (rows.filter((r) => r.key.trim()).length > METADATA_MAX_KEYS) checks.field(field, `At most ${METADATA_MAX_KEYS} keys.`)
}

/** Key/value rows, at most 50. */
export function MetadataEditor({ rows, onChange, errors, hint }: { rows: MetadataRow[]; onChange: (rows: MetadataRow[]) => void; errors?: string[]; hint?: string }) {
  const id = useId()
  const set = (i: number, patch: Partial<MetadataRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)))
  const full = rows.length >= METADATA_MAX_KEYS
  return (
    <fieldset className={`field metadata${errors?.length ? ' field-invalid' : ''}`} aria-describedby={`${id}-hint ${errors?.length ? `${id}-err` : ''}`} data-testid="metadata-editor">
      <legend className="field-label">Metadata</legend>
      <p className="hint" id={`${id}-hint`}>
        {hint ?? 'Key-value pairs stored with the object, for your own use.'} At most {METADATA_MAX_KEYS} keys.
      </p>
      {rows.length > 0 && (
        <div className="metadata-rows">
          {rows.map((r, i) => (
            <div className="metadata-row" key={i}>
              <label className="visually-hidden" htmlFor={`${id}-k${i}`}>
                Key {i + 1}
              </label>
              <input id={`${id}-k${i}`} placeholder="Key" maxLength={40} value={r.key} onChange={(e) => set(i, { key: e.target.value })} aria-invalid={errors?.length ? true : undefined} />
              <label className="visually-hidden" htmlFor={`${id}-v${i}`}>
                Value {i + 1}
              </label>
              <input id={`${id}-v${i}`} placeholder="Value" value={r.value} onChange={(e) => set(i, { value: e.target.value })} />
              <button type="button" className="btn btn-small btn-ghost" aria-label={`Remove metadata row ${i + 1}${r.key ? ` (${r.key})` : ''}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
                Remove
              </button>
            </div>
          ))}
        </div>
      )}
      <button type="button" className="btn btn-small" disabled={full} onClick={() => onChange([...rows, { key: '', value: '', kind: 'string' }])}>
        Add metadata
      </button>
      {full && <p className="hint">The limit of {METADATA_MAX_KEYS} keys is reached.</p>}
      <FieldErrors id={`${id}-err`} errors={errors} />
    </fieldset>
  )
}
