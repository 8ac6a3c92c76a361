import { useEffect, useId, useRef, useState, type ReactNode } from 'react'
import type { FieldControlProps } from './ui'

export interface ComboOption {
  value: string
  label: string
  detail?: string
  disabled?: boolean
}

/**
 * A searchable single choice (WAI-ARIA combobox with a listbox popup). Typing filters, arrows move,
 * Enter picks, Escape closes. `onPick` gets the value; the input shows the picked label until edited.
 */
export function Combobox(props: {
  control: FieldControlProps
  options: ComboOption[]
  value: string | null
  onPick: (value: string | null) => void
  placeholder?: string
  /** Keep the input empty after a pick (for "add an item" pickers). */
  clearOnPick?: boolean
  clearLabel?: string
  emptyText?: ReactNode
}) {
  const listId = useId()
  const selected = props.options.find((o) => o.value === props.value)
  const [text, setText] = useState(selected?.label ?? '')
  const [open, setOpen] = useState(false)
  const [active, setActive] = useState(0)
  const wrap = useRef<HTMLDivElement>(null)

  useEffect(() => {
    if (!props.clearOnPick) setText(selected?.label ?? '')
  }, [selected?.label, props.clearOnPick])

  useEffect(() => {
    if (!open) return
    const onDoc = (e: MouseEvent) => {
      if (!wrap.current?.contains(e.target as Node)) setOpen(false)
    }
    document.addEventListener('mousedown', onDoc)
    return () => document.removeEventListener('mousedown', onDoc)
  }, [open])

  const needle = text.trim().toLowerCase()
  const showAll = !needle || (selected && text === selected.label)
  const filtered = props.options.filter((o) => showAll || `${o.label} ${o.detail ?? ''}`.toLowerCase().includes(needle)).slice(0, 50)

  const pick = (o: ComboOption | undefined) => {
    if (!o || o.disabled) return
    props.onPick(o.value)
    setText(props.clearOnPick ? '' : o.label)
    setOpen(false)
  }

  return (
    <div className="combobox" ref={wrap}>
      <div className="combobox-input">
        <input
          {...props.control}
          type="text"
          role="combobox"
          autoComplete="off"
          aria-autocomplete="list"
          aria-expanded={open}
          aria-controls={listId}
          aria-activedescendant={open && filtered[active] ? `${listId}-${active}` : undefined}
          placeholder={props.placeholder}
          value={text}
          onChange={(e) => {
            setText(e.target.value)
            setOpen(true)
            setActive(0)
          }}
          onClick={() => setOpen(true)}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') {
              e.preventDefault()
              setOpen(true)
              setActive((a) => Math.min(a + 1, filtered.length - 1))
            } else if (e.key === 'ArrowUp') {
              e.preventDefault()
              setActive((a) => Math.max(a - 1, 0))
            } else if (e.key === 'Enter') {
              if (open && filtered[active]) {
                e.preventDefault()
                pick(filtered[active])
              }
            } else if (e.key === 'Escape') {
              if (open) {
                e.preventDefault()
                setOpen(false)
              }
            }
          }}
          onBlur={() => {
            // Options keep the focus in the input (mousedown is prevented), so a blur means leaving.
            setOpen(false)
            if (props.clearOnPick) return
            // Emptied by hand: no choice (where a choice may be cleared). Text that names nothing: the current choice again.
            if (!text.trim() && props.clearLabel && props.value) props.onPick(null)
            else setText(selected?.label ?? '')
          }}
        />
        {props.clearLabel && props.value && (
          <button
            type="button"
            className="btn btn-small btn-ghost"
            onClick={() => {
              props.onPick(null)
              setText('')
            }}
          >
            {props.clearLabel}
          </button>
        )}
      </div>
      <ul id={listId} role="listbox" className="combobox-list" hidden={!open}>
        {filtered.length === 0 && <li className="combobox-empty">{props.emptyText ?? 'No matches'}</li>}
        {filtered.map((o, i) => (
          <li
            key={o.value}
            id={`${listId}-${i}`}
            role="option"
            aria-selected={o.value === props.value}
            aria-disabled={o.disabled || undefined}
            className={i === active ? 'active' : undefined}
            onMouseDown={(e) => e.preventDefault()}
            onMouseEnter={() => setActive(i)}
            onClick={() => pick(o)}
          >
            <span>{o.label}</span>
            {o.detail && <span className="muted small">{o.detail}</span>}
          </li>
        ))}
      </ul>
    </div>
  )
}
