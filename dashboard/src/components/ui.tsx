import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react'
import type { FormErrors } from '../lib/errors'
import { setQuery, useLocation } from '../lib/router'
import { useDebounced } from '../lib/hooks'

export interface FieldControlProps {
  id: string
  'aria-describedby'?: string
  'aria-invalid'?: true
  'aria-required'?: true
}

/**
 * A labelled form field: the hint and the errors are tied to the control with aria-describedby, and the
 * control is marked invalid while it has errors.
 */
export function Field(props: {
  label: ReactNode
  hint?: ReactNode
  errors?: string[]
  required?: boolean
  className?: string
  children: (control: FieldControlProps) => ReactNode
}) {
  const id = useId()
  const hintId = props.hint ? `${id}-hint` : undefined
  const errorId = props.errors?.length ? `${id}-error` : undefined
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined
  return (
    <div className={`field${props.errors?.length ? ' field-invalid' : ''} ${props.className ?? ''}`}>
      <label htmlFor={id} className={props.required ? 'field-label is-required' : 'field-label'}>
        {props.label}
      </label>
      {props.hint && (
        <p id={hintId} className="hint">
          {props.hint}
        </p>
      )}
      {props.children({ id, 'aria-describedby': describedBy, 'aria-invalid': props.errors?.length ? true : undefined, 'aria-required': props.required || undefined })}
      <FieldErrors id={errorId} errors={props.errors} />
    </div>
  )
}

export function FieldErrors({ id, errors }: { id?: string; errors?: string[] }) {
  if (!errors?.length) return null
  return (
    <div id={id} className="field-error" data-testid="field-error">
      {errors.map((e, i) => (
        <p key={i}>{e}</p>
      ))}
    </div>
  )
}

/** A checkbox with its label and an optional hint. */
export function Toggle(props: { label: ReactNode; hint?: ReactNode; checked: boolean; onChange: (v: boolean) => void; errors?: string[]; disabled?: boolean }) {
  const id = useId()
  return (
    <div className={`field field-toggle${props.errors?.length ? ' field-invalid' : ''}`}>
      <div className="toggle-row">
        <input
          type="checkbox"
          id={id}
          checked={props.checked}
          disabled={props.disabled}
          onChange={(e) => props.onChange(e.target.checked)}
          aria-describedby={props.hint || props.errors?.length ? `${id}-desc` : undefined}
          aria-invalid={props.errors?.length ? true : undefined}
        />
        <label htmlFor={id} className="field-label">
          {props.label}
        </label>
      </div>
      {(props.hint || props.errors?.length) && (
        <div id={`${id}-desc`}>
          {props.hint && <p className="hint">{props.hint}</p>}
          <FieldErrors errors={props.errors} />
        </div>
      )}
    </div>
  )
}

/** The errors that belong to no field, at the top of a form; announced when they appear. */
export function FormErrorSummary({ errors, title = 'Could not save' }: { errors: FormErrors; title?: string }) {
  const fieldCount = Object.values(errors.fields).reduce((n, e) => n + e.length, 0)
  if (!errors.general.length && !fieldCount) return null
  return (
    <div className="alert alert-error" role="alert" data-testid="form-errors">
      <strong>{title}</strong>
      {errors.general.length > 0 && (
        <ul>
          {errors.general.map((e, i) => (
            <li key={i}>{e}</li>
          ))}
        </ul>
      )}
      {fieldCount > 0 && <p>{fieldCount === 1 ? 'Check the field marked below.' : `Check the ${fieldCount} problems marked below.`}</p>}
    </div>
  )
}

/** After a failed submit, move focus to the first invalid control (or the summary). */
export function focusFirstError(form: HTMLFormElement | null) {
  if (!form) return
  requestAnimationFrame(() => {
    const el = form.querySelector<HTMLElement>('[aria-invalid="true"]') ?? form.querySelector<HTMLElement>('[role="alert"]')
    if (el) {
      if (!el.hasAttribute('tabindex') && el.getAttribute('role') === 'alert') el.setAttribute('tabindex', '-1')
      el.focus()
    }
  })
}

export function Alert({ kind = 'error', children }: { kind?: 'error' | 'info' | 'success' | 'warning'; children: ReactNode }) {
  return (
    <div className={`alert alert-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  )
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  )
}

export function LoadError({ error, retry }: { error: Error; retry?: () => void }) {
  return (
    <div className="alert alert-error" role="alert">
      <p>{error.message}</p>
      {retry && (
        <button type="button" className="btn btn-small" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  )
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <h3>{title}</h3>
      {children && <p>{children}</p>}
      {action}
    </div>
  )
}

/** Search box bound to `?q=` of the page URL (debounced); resets to page 1. */
export function SearchBox({ label, placeholder }: { label: string; placeholder?: string }) {
  const { query } = useLocation()
  const [value, setValue] = useState(query.get('q') ?? '')
  const debounced = useDebounced(value)
  const first = useRef(true)
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    setQuery({ q: debounced.trim() || null, page: null })
  }, [debounced])
  return (
    <div className="search">
      <label className="visually-hidden" htmlFor="list-search">
        {label}
      </label>
      <input id="list-search" type="search" value={value} placeholder={placeholder ?? label} onChange={(e) => setValue(e.target.value)} />
    </div>
  )
}

export function Pagination({ page, maxPage, total, onPage }: { page: number; maxPage: number; total: number; onPage: (p: number) => void }) {
  if (total === 0) return null
  return (
    <nav className="pagination" aria-label="Pagination">
      <span>
        Page {page} of {Math.max(maxPage, 1)} · {total} {total === 1 ? 'result' : 'results'}
      </span>
      <div className="pagination-buttons">
        <button type="button" className="btn btn-small" disabled={page <= 1} onClick={() => onPage(page - 1)}>
          Previous
        </button>
        <button type="button" className="btn btn-small" disabled={page >= maxPage} onClick={() => onPage(page + 1)}>
          Next
        </button>
      </div>
    </nav>
  )
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    // No clipboard permission (or not a secure context): the old way still works on a user gesture.
    const ta = document.createElement('textarea')
    ta.value = text
    ta.setAttribute('readonly', '')
    ta.className = 'offscreen'
    document.body.appendChild(ta)
    ta.select()
    let ok = false
    try {
      ok = document.execCommand('copy')
    } catch {
      ok = false
    }
    ta.remove()
    return ok
  }
}

export function CopyButton({ text, label = 'Copy', className = 'btn', describedBy }: { text: string; label?: string; className?: string; describedBy?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle')
  useEffect(() => {
    if (state === 'idle') return
    const t = setTimeout(() => setState('idle'), 2000)
    return () => clearTimeout(t)
  }, [state])
  return (
    <button
      type="button"
      className={className}
      aria-describedby={describedBy}
      data-copy-text={text}
      onClick={async () => setState((await copyText(text)) ? 'copied' : 'failed')}
    >
      <span aria-live="polite">{state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : label}</span>
    </button>
  )
}

/** A modal confirmation on the native <dialog> (focus trap and Escape for free). */
export function ConfirmDialog(props: {
  open: boolean
  title: string
  children: ReactNode
  confirmLabel: string
  danger?: boolean
  onConfirm: () => Promise<void> | void
  onClose: () => void
}) {
  const ref = useRef<HTMLDialogElement>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const titleId = useId()
  useEffect(() => {
    const d = ref.current
    if (!d) return
    if (props.open && !d.open) {
      setError(null)
      d.showModal()
    } else if (!props.open && d.open) d.close()
  }, [props.open])
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={props.onClose} onCancel={() => props.onClose()}>
      <h2 id={titleId}>{props.title}</h2>
      <div className="dialog-body">{props.children}</div>
      {error && (
        <div className="alert alert-error" role="alert">
          {error}
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={props.onClose} disabled={busy}>
          Cancel
        </button>
        <button
          type="button"
          className={props.danger ? 'btn btn-danger' : 'btn btn-primary'}
          disabled={busy}
          onClick={async () => {
            setBusy(true)
            setError(null)
            try {
              await props.onConfirm()
            } catch (err) {
              setError((err as Error).message)
            } finally {
              setBusy(false)
            }
          }}
        >
          {busy ? 'Working…' : props.confirmLabel}
        </button>
      </div>
    </dialog>
  )
}

/** ARIA tabs: arrow keys move between tabs, only the active panel is rendered. */
export function Tabs<K extends string>(props: { label: string; tabs: { key: K; label: string }[]; active: K; onChange: (k: K) => void; children: ReactNode }) {
  const id = useId()
  const refs = useRef<Record<string, HTMLButtonElement | null>>({})
  const onKey = (e: KeyboardEvent) => {
    const i = props.tabs.findIndex((t) => t.key === props.active)
    let next = -1
    if (e.key === 'ArrowRight') next = (i + 1) % props.tabs.length
    else if (e.key === 'ArrowLeft') next = (i - 1 + props.tabs.length) % props.tabs.length
    else if (e.key === 'Home') next = 0
    else if (e.key === 'End') next = props.tabs.length - 1
    if (next < 0) return
    e.preventDefault()
    const key = props.tabs[next]!.key
    props.onChange(key)
    refs.current[key]?.focus()
  }
  return (
    <div className="tabs">
      <div role="tablist" aria-label={props.label} className="tablist" onKeyDown={onKey}>
        {props.tabs.map((t) => (
          <button
            key={t.key}
            ref={(el) => {
              refs.current[t.key] = el
            }}
            type="button"
            role="tab"
            id={`${id}-tab-${t.key}`}
            aria-selected={t.key === props.active}
            aria-controls={`${id}-panel`}
            tabIndex={t.key === props.active ? 0 : -1}
            onClick={() => props.onChange(t.key)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${id}-panel`} aria-labelledby={`${id}-tab-${props.active}`} className="tabpanel" tabIndex={0}>
        {props.children}
      </div>
    </div>
  )
}

export function Badge({ tone = 'neutral', children }: { tone?: 'neutral' | 'success' | 'warning' | 'danger' | 'info'; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>
}

export function MetadataList({ metadata }: { metadata: Record<string, unknown> | null | undefined }) {
  const entries = Object.entries(metadata ?? {})
  if (!entries.length) return <span className="muted">—</span>
  return (
    <dl className="kv">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{String(v)}</dd>
        </div>
      ))}
    </dl>
  )
}
