import { useRef, useState, type FormEvent } from 'react'
import { checkMetadata, fromRows, MetadataEditor, toRows, type MetadataRow } from '../components/metadata-editor'
import { ConfirmDialog, EmptyState, Field, FieldErrors, focusFirstError, FormErrorSummary, LoadError, Pagination, SearchBox, Spinner, Toggle } from '../components/ui'
import { api } from '../lib/api'
import { Checks, noErrors, toFormErrors, type FormErrors } from '../lib/errors'
import { date } from '../lib/format'
import { useAsync, useList } from '../lib/hooks'
import { Link, navigate, useTitle } from '../lib/router'
import type { CustomField, CustomFieldProperties, CustomFieldType } from '../lib/types'
import { PageHeader, ProductsSection } from './layout'

const TYPE_LABELS: Record<CustomFieldType, string> = { text: 'Text', number: 'Number', date: 'Date', checkbox: 'Checkbox', select: 'Select' }

export function CustomFieldsList() {
  useTitle('Custom fields')
  const list = useList<CustomField>('/v1/custom-fields/')
  const [deleting, setDeleting] = useState<CustomField | null>(null)
  return (
    <ProductsSection current="/products/custom-fields">
      <PageHeader
        title="Custom fields"
        actions={
          <Link to="/products/custom-fields/new" className="btn btn-primary">
            New Custom Field
          </Link>
        }
      />
      <div className="toolbar">
        <SearchBox label="Search custom fields" placeholder="Search by name or slug" />
      </div>
      {list.error && <LoadError error={list.error} retry={list.reload} />}
      {!list.data && list.loading && <Spinner />}
      {list.data && list.data.items.length === 0 && (
        <EmptyState
          title={list.q ? 'No custom fields match your search' : 'No custom fields yet'}
          action={
            list.q ? undefined : (
              <Link to="/products/custom-fields/new" className="btn btn-primary">
                New Custom Field
              </Link>
            )
          }
        >
          {list.q ? undefined : 'Ask buyers extra questions at checkout: a company name, a size, how they heard of you.'}
        </EmptyState>
      )}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Custom fields</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Slug</th>
                <th scope="col">Type</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((f) => (
                <tr key={f.id}>
                  <td>
                    <Link to={`/products/custom-fields/${f.id}`} className="strong">
                      {f.name}
                    </Link>
                  </td>
                  <td>
                    <code>{f.slug}</code>
                  </td>
                  <td>{TYPE_LABELS[f.type]}</td>
                  <td>{date(f.created_at)}</td>
                  <td className="actions">
                    <Link to={`/products/custom-fields/${f.id}`} className="btn btn-small" aria-label={`Edit ${f.name}`}>
                      Edit
                    </Link>
                    <button type="button" className="btn btn-small btn-danger-outline" aria-label={`Delete ${f.name}`} onClick={() => setDeleting(f)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && <Pagination page={list.page} maxPage={list.data.pagination.max_page} total={list.data.pagination.total_count} onPage={list.setPage} />}
      <DeleteFieldDialog
        field={deleting}
        onClose={() => setDeleting(null)}
        onDeleted={() => {
          setDeleting(null)
          list.reload()
        }}
      />
    </ProductsSection>
  )
}

function DeleteFieldDialog({ field, onClose, onDeleted }: { field: CustomField | null; onClose: () => void; onDeleted: () => void }) {
  return (
    <ConfirmDialog
      open={!!field}
      title={`Delete ${field?.name ?? 'custom field'}?`}
      confirmLabel="Delete custom field"
      danger
      onClose={onClose}
      onConfirm={async () => {
        await api.del(`/v1/custom-fields/${field!.id}`)
        onDeleted()
      }}
    >
      <p>It is removed from every product's checkout. Answers already given stay on their orders.</p>
    </ConfirmDialog>
  )
}

const FIELD_FIELDS = ['type', 'slug', 'name', 'properties', 'metadata'] as const

const slugify = (s: string) =>
  s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 100)

export function CustomFieldForm({ id }: { id?: string }) {
  const existing = useAsync((signal) => (id ? api.get<CustomField>(`/v1/custom-fields/${id}`, undefined, signal) : Promise.resolve(undefined)), id ?? 'new')
  useTitle(id ? (existing.data?.name ?? 'Custom field') : 'New custom field')
  if (id && existing.error) return <LoadError error={existing.error} retry={existing.reload} />
  if (id && !existing.data) return <Spinner />
  return (
    <ProductsSection current="/products/custom-fields">
      <CustomFieldEditor key={existing.data?.id ?? 'new'} field={existing.data} />
    </ProductsSection>
  )
}

const num = (v: string) => (v.trim() === '' ? undefined : Number(v))
const dateToTs = (v: string) => (v ? Math.floor(Date.parse(`${v}T00:00:00Z`) / 1000) : undefined)
const tsToDate = (ts: number | undefined) => (ts === undefined ? '' : new Date(ts * 1000).toISOString().slice(0, 10))

function CustomFieldEditor({ field }: { field?: CustomField }) {
  const p = field?.properties ?? {}
  const [type, setType] = useState<CustomFieldType>(field?.type ?? 'text')
  const [name, setName] = useState(field?.name ?? '')
  const [slug, setSlug] = useState(field?.slug ?? '')
  const [slugEdited, setSlugEdited] = useState(!!field)
  const [label, setLabel] = useState(p.form_label ?? '')
  const [help, setHelp] = useState(p.form_help_text ?? '')
  const [placeholder, setPlaceholder] = useState(p.form_placeholder ?? '')
  const [textarea, setTextarea] = useState(p.textarea ?? false)
  const [minLength, setMinLength] = useState(p.min_length?.toString() ?? '')
  const [maxLength, setMaxLength] = useState(p.max_length?.toString() ?? '')
  const [ge, setGe] = useState(type === 'date' ? tsToDate(p.ge) : (p.ge?.toString() ?? ''))
  const [le, setLe] = useState(type === 'date' ? tsToDate(p.le) : (p.le?.toString() ?? ''))
  const [options, setOptions] = useState(p.options ?? [{ value: '', label: '' }])
  const [metadata, setMetadata] = useState<MetadataRow[]>(toRows(field?.metadata))
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  const [saved, setSaved] = useState(false)
  const [deleting, setDeleting] = useState(false)
  const form = useRef<HTMLFormElement>(null)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const checks = new Checks()
    if (!name.trim()) checks.field('name', 'Enter a name.')
    if (!/^[a-z0-9_-]{1,100}$/.test(slug)) checks.field('slug', 'Lowercase letters, digits, dashes and underscores only.')
    const properties: CustomFieldProperties = {}
    if (label.trim()) properties.form_label = label.trim()
    if (help.trim()) properties.form_help_text = help.trim()
    if (placeholder.trim()) properties.form_placeholder = placeholder.trim()
    const numbers: [string, number | undefined][] = []
    if (type === 'text') {
      properties.textarea = textarea
      properties.min_length = num(minLength)
      properties.max_length = num(maxLength)
      numbers.push(['Minimum length', properties.min_length], ['Maximum length', properties.max_length])
    } else if (type === 'number') {
      properties.ge = num(ge)
      properties.le = num(le)
      numbers.push(['Minimum', properties.ge], ['Maximum', properties.le])
    } else if (type === 'date') {
      properties.ge = dateToTs(ge)
      properties.le = dateToTs(le)
    } else if (type === 'select') {
      const opts = options.map((o) => ({ value: o.value.trim(), label: o.label.trim() || o.value.trim() })).filter((o) => o.value)
      if (!opts.length) checks.field('properties', 'Add at least one option.')
      if (new Set(opts.map((o) => o.value)).size !== opts.length) checks.field('properties', 'Each option needs its own value.')
      properties.options = opts
    }
    for (const [what, v] of numbers) if (v !== undefined && !Number.isInteger(v)) checks.field('properties', `${what}: enter a whole number.`)
    for (const k of Object.keys(properties) as (keyof CustomFieldProperties)[]) if (properties[k] === undefined) delete properties[k]
    checkMetadata(metadata, checks)
    if (!checks.ok) {
      setErrors(checks.errors)
      focusFirstError(form.current)
      return
    }
    const body = { type, name: name.trim(), slug, properties, metadata: fromRows(metadata) }
    setBusy(true)
    setErrors(noErrors)
    try {
      if (field) {
        await api.patch(`/v1/custom-fields/${field.id}`, body)
        setSaved(true)
      } else {
        const created = await api.post<CustomField>('/v1/custom-fields/', body)
        navigate(`/products/custom-fields/${created.id}`, { replace: true })
      }
    } catch (err) {
      setErrors(toFormErrors(err, FIELD_FIELDS))
      focusFirstError(form.current)
    } finally {
      setBusy(false)
    }
  }

  return (
    <>
      <PageHeader title={field ? field.name : 'New custom field'} back={{ to: '/products/custom-fields', label: 'Custom fields' }} />
      <form ref={form} className="form" onSubmit={submit} noValidate aria-label={field ? 'Edit custom field' : 'New custom field'}>
        <FormErrorSummary errors={errors} />
        {saved && (
          <div className="alert alert-success" role="status">
            Custom field saved.
          </div>
        )}
        <section className="card">
          <Field label="Type" hint={field ? 'The type cannot change once the field exists.' : undefined} errors={errors.fields.type}>
            {(c) => (
              <select {...c} value={type} disabled={!!field} onChange={(e) => setType(e.target.value as CustomFieldType)}>
                {Object.entries(TYPE_LABELS).map(([v, l]) => (
                  <option key={v} value={v}>
                    {l}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Name" required errors={errors.fields.name}>
            {(c) => (
              <input
                {...c}
                value={name}
                maxLength={256}
                onChange={(e) => {
                  setName(e.target.value)
                  if (!slugEdited) setSlug(slugify(e.target.value))
                }}
              />
            )}
          </Field>
          <Field label="Slug" required hint="Identifies the answer in custom_field_data and in URL prefill (custom_field_data.slug)." errors={errors.fields.slug}>
            {(c) => (
              <input
                {...c}
                value={slug}
                maxLength={100}
                onChange={(e) => {
                  setSlugEdited(true)
                  setSlug(e.target.value)
                }}
              />
            )}
          </Field>
        </section>
        <section className="card">
          <h3>On the checkout form</h3>
          <Field label="Label" hint="Defaults to the name.">
            {(c) => <input {...c} value={label} maxLength={256} onChange={(e) => setLabel(e.target.value)} />}
          </Field>
          <Field label="Help text">{(c) => <input {...c} value={help} maxLength={1000} onChange={(e) => setHelp(e.target.value)} />}</Field>
          {type !== 'checkbox' && type !== 'date' && (
            <Field label="Placeholder">{(c) => <input {...c} value={placeholder} maxLength={256} onChange={(e) => setPlaceholder(e.target.value)} />}</Field>
          )}
          {type === 'text' && (
            <>
              <Toggle label="Multi-line text area" checked={textarea} onChange={setTextarea} />
              <div className="row">
                <Field label="Minimum length" className="narrow">
                  {(c) => <input {...c} type="number" min={0} value={minLength} onChange={(e) => setMinLength(e.target.value)} />}
                </Field>
                <Field label="Maximum length" className="narrow">
                  {(c) => <input {...c} type="number" min={0} value={maxLength} onChange={(e) => setMaxLength(e.target.value)} />}
                </Field>
              </div>
            </>
          )}
          {(type === 'number' || type === 'date') && (
            <div className="row">
              <Field label={type === 'date' ? 'Earliest date' : 'Minimum'} className="narrow">
                {(c) => <input {...c} type={type === 'date' ? 'date' : 'number'} value={ge} onChange={(e) => setGe(e.target.value)} />}
              </Field>
              <Field label={type === 'date' ? 'Latest date' : 'Maximum'} className="narrow">
                {(c) => <input {...c} type={type === 'date' ? 'date' : 'number'} value={le} onChange={(e) => setLe(e.target.value)} />}
              </Field>
            </div>
          )}
          {type === 'select' && (
            <fieldset className="field">
              <legend className="field-label">Options</legend>
              {options.map((o, i) => (
                <div className="metadata-row" key={i}>
                  <label className="visually-hidden" htmlFor={`opt-v${i}`}>
                    Option {i + 1} value
                  </label>
                  <input id={`opt-v${i}`} placeholder="Value" value={o.value} onChange={(e) => setOptions((r) => r.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))} />
                  <label className="visually-hidden" htmlFor={`opt-l${i}`}>
                    Option {i + 1} label
                  </label>
                  <input id={`opt-l${i}`} placeholder="Label" value={o.label} onChange={(e) => setOptions((r) => r.map((x, j) => (j === i ? { ...x, label: e.target.value } : x)))} />
                  <button type="button" className="btn btn-small btn-ghost" aria-label={`Remove option ${i + 1}`} disabled={options.length === 1} onClick={() => setOptions((r) => r.filter((_, j) => j !== i))}>
                    Remove
                  </button>
                </div>
              ))}
              <button type="button" className="btn btn-small" disabled={options.length >= 100} onClick={() => setOptions((r) => [...r, { value: '', label: '' }])}>
                Add option
              </button>
            </fieldset>
          )}
          <FieldErrors errors={errors.fields.properties} />
        </section>
        <section className="card">
          <MetadataEditor rows={metadata} onChange={setMetadata} errors={errors.fields.metadata} />
        </section>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Saving…' : field ? 'Save Custom Field' : 'Create Custom Field'}
          </button>
          <Link to="/products/custom-fields" className="btn">
            Cancel
          </Link>
          {field && (
            <button type="button" className="btn btn-danger-outline push-right" onClick={() => setDeleting(true)}>
              Delete custom field
            </button>
          )}
        </div>
      </form>
      <DeleteFieldDialog field={deleting ? field ?? null : null} onClose={() => setDeleting(false)} onDeleted={() => navigate('/products/custom-fields')} />
    </>
  )
}
