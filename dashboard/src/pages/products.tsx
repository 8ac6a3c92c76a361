import { useEffect, useRef, useState, type FormEvent } from 'react'
import { Combobox } from '../components/combobox'
import { checkMetadata, fromRows, MetadataEditor, toRows, type MetadataRow } from '../components/metadata-editor'
import { Badge, ConfirmDialog, EmptyState, Field, FieldErrors, focusFirstError, FormErrorSummary, LoadError, Pagination, SearchBox, Spinner, Toggle } from '../components/ui'
import { api } from '../lib/api'
import { Checks, noErrors, toFormErrors, type FormErrors } from '../lib/errors'
import { money, billing, date, fromMinor, productPrices, toMinor } from '../lib/format'
import { fetchAll, useAsync, useList } from '../lib/hooks'
import { Link, navigate, setQuery, useLocation, useTitle } from '../lib/router'
import type { CustomField, Interval, Product } from '../lib/types'
import { PageHeader, ProductsSection } from './layout'

const INTERVALS: { value: Interval; label: string }[] = [
  { value: 'day', label: 'Day' },
  { value: 'week', label: 'Week' },
  { value: 'month', label: 'Month' },
  { value: 'year', label: 'Year' },
]
export const CURRENCIES = ['usd', 'eur', 'gbp', 'cad', 'aud', 'chf', 'sek', 'nok', 'dkk', 'pln', 'jpy', 'brl', 'inr']

export function IntervalSelect({ value, onChange, control, plural }: { value: Interval; onChange: (v: Interval) => void; control?: object; plural?: boolean }) {
  return (
    <select {...control} value={value} onChange={(e) => onChange(e.target.value as Interval)}>
      {INTERVALS.map((i) => (
        <option key={i.value} value={i.value}>
          {plural ? `${i.label}s` : i.label}
        </option>
      ))}
    </select>
  )
}

export function ProductsList() {
  useTitle('Products')
  const { query } = useLocation()
  const archived = query.get('archived') ?? 'false'
  const list = useList<Product>('/v1/products/', { is_archived: archived === 'all' ? undefined : archived })
  const [archiving, setArchiving] = useState<Product | null>(null)
  const [deleting, setDeleting] = useState<Product | null>(null)
  const [actionError, setActionError] = useState<string | null>(null)

  const setArchived = async (p: Product, is_archived: boolean) => {
    await api.patch(`/v1/products/${p.id}`, { is_archived })
    list.reload()
  }

  return (
    <ProductsSection current="/products">
      <PageHeader
        title="Products"
        actions={
          <Link to="/products/new" className="btn btn-primary">
            New Product
          </Link>
        }
      />
      <div className="toolbar">
        <SearchBox label="Search products" />
        <div className="toolbar-filter">
          <label htmlFor="archived-filter">Show</label>
          <select id="archived-filter" value={archived} onChange={(e) => setQuery({ archived: e.target.value === 'false' ? null : e.target.value, page: null })}>
            <option value="false">Active</option>
            <option value="true">Archived</option>
            <option value="all">All</option>
          </select>
        </div>
      </div>
      {actionError && <LoadError error={new Error(actionError)} />}
      {list.error && <LoadError error={list.error} retry={list.reload} />}
      {!list.data && list.loading && <Spinner />}
      {list.data && list.data.items.length === 0 && (
        <EmptyState
          title={list.q ? 'No products match your search' : archived === 'true' ? 'No archived products' : 'No products yet'}
          action={
            !list.q && archived !== 'true' ? (
              <Link to="/products/new" className="btn btn-primary">
                New Product
              </Link>
            ) : undefined
          }
        >
          {!list.q && archived !== 'true' ? 'Create a product to sell it through a checkout link.' : undefined}
        </EmptyState>
      )}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Products</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Price</th>
                <th scope="col">Billing</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((p) => (
                <tr key={p.id}>
                  <td>
                    <Link to={`/products/${p.id}`} className="strong">
                      {p.name}
                    </Link>{' '}
                    {p.is_archived && <Badge>Archived</Badge>}
                    {p.description && <div className="muted small clamp">{p.description}</div>}
                  </td>
                  <td>{productPrices(p)}</td>
                  <td>{billing(p)}</td>
                  <td>{date(p.created_at)}</td>
                  <td className="actions">
                    <Link to={`/products/${p.id}`} className="btn btn-small" aria-label={`Edit ${p.name}`}>
                      Edit
                    </Link>
                    {p.is_archived ? (
                      <button
                        type="button"
                        className="btn btn-small"
                        aria-label={`Unarchive ${p.name}`}
                        onClick={() => setArchived(p, false).catch((e: Error) => setActionError(e.message))}
                      >
                        Unarchive
                      </button>
                    ) : (
                      <button type="button" className="btn btn-small" aria-label={`Archive ${p.name}`} onClick={() => setArchiving(p)}>
                        Archive
                      </button>
                    )}
                    {p.is_deletable && (
                      <button type="button" className="btn btn-small btn-danger" aria-label={`Delete ${p.name}`} onClick={() => setDeleting(p)}>
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && <Pagination page={list.page} maxPage={list.data.pagination.max_page} total={list.data.pagination.total_count} onPage={list.setPage} />}
      <ArchiveDialog
        product={archiving}
        onClose={() => setArchiving(null)}
        onConfirm={async () => {
          await setArchived(archiving!, true)
          setArchiving(null)
        }}
      />
      <ConfirmDialog
        open={!!deleting}
        title={`Delete ${deleting?.name ?? 'product'}?`}
        confirmLabel="Delete product"
        danger
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          await api.del(`/v1/products/${deleting!.id}`)
          setDeleting(null)
          list.reload()
        }}
      >
        <p>Nothing has been sold or offered with this product yet, so it can be deleted for good. Checkout links drop it.</p>
      </ConfirmDialog>
    </ProductsSection>
  )
}

function ArchiveDialog({ product, onClose, onConfirm }: { product: Product | null; onClose: () => void; onConfirm: () => Promise<void> }) {
  return (
    <ConfirmDialog open={!!product} title={`Archive ${product?.name ?? 'product'}?`} confirmLabel="Archive product" danger onClose={onClose} onConfirm={onConfirm}>
      <p>Archived products can no longer be bought. Checkout links drop them, and a link whose products are all archived stops working.</p>
      <p>Existing orders and subscriptions are not affected. You can unarchive the product later.</p>
    </ConfirmDialog>
  )
}

const ROW_ERROR = /^(Price \d+:|#\d+[ :])/

interface PriceRow {
  /** An existing price, sent back as `{id}` while it is not edited. */
  id?: string
  type: 'fixed' | 'custom' | 'free'
  currency: string
  amount: string
  minimum: string
  maximum: string
  preset: string
}

const newPriceRow = (currency = 'usd'): PriceRow => ({ type: 'fixed', currency, amount: '', minimum: '', maximum: '', preset: '' })

function priceRows(product: Product): PriceRow[] {
  return product.prices
    .filter((p) => !p.is_archived)
    .map((p) =>
      p.amount_type === 'fixed'
        ? { id: p.id, type: p.price_amount === 0 ? 'free' : 'fixed', currency: p.price_currency, amount: fromMinor(p.price_amount, p.price_currency), minimum: '', maximum: '', preset: '' }
        : {
            id: p.id,
            type: 'custom',
            currency: p.price_currency,
            amount: '',
            minimum: fromMinor(p.minimum_amount, p.price_currency),
            maximum: fromMinor(p.maximum_amount, p.price_currency),
            preset: fromMinor(p.preset_amount, p.price_currency),
          },
    )
}

const PRODUCT_FIELDS = [
  'name',
  'description',
  'visibility',
  'recurring_interval',
  'recurring_interval_count',
  'trial_interval',
  'trial_interval_count',
  'prices',
  'attached_custom_fields',
  'metadata',
  'is_archived',
] as const

export function ProductForm({ id }: { id?: string }) {
  const existing = useAsync((signal) => (id ? api.get<Product>(`/v1/products/${id}`, undefined, signal) : Promise.resolve(undefined)), id ?? 'new')
  const fields = useAsync((signal) => fetchAll<CustomField>('/v1/custom-fields/', {}, signal), 'fields')
  useTitle(id ? (existing.data?.name ?? 'Product') : 'New product')

  if (id && existing.error) return <LoadError error={existing.error} retry={existing.reload} />
  if (id && !existing.data) return <Spinner />
  return (
    <ProductsSection current="/products">
      <ProductEditor key={existing.data?.id ?? 'new'} product={existing.data} customFields={fields.data ?? []} customFieldsError={fields.error} />
    </ProductsSection>
  )
}

function ProductEditor({ product, customFields, customFieldsError }: { product?: Product; customFields: CustomField[]; customFieldsError?: Error }) {
  const [name, setName] = useState(product?.name ?? '')
  const [description, setDescription] = useState(product?.description ?? '')
  const [recurring, setRecurring] = useState(product?.is_recurring ?? false)
  const [interval, setInterval] = useState<Interval>(product?.recurring_interval ?? 'month')
  const [intervalCount, setIntervalCount] = useState(String(product?.recurring_interval_count ?? 1))
  const [trial, setTrial] = useState(!!product?.trial_interval)
  const [trialCount, setTrialCount] = useState(String(product?.trial_interval_count ?? 7))
  const [trialInterval, setTrialInterval] = useState<Interval>(product?.trial_interval ?? 'day')
  const [prices, setPrices] = useState<PriceRow[]>(product ? priceRows(product) : [newPriceRow()])
  const [attached, setAttached] = useState(product?.attached_custom_fields.map((a) => ({ custom_field_id: a.custom_field_id, required: a.required, name: a.custom_field.name })) ?? [])
  const [metadata, setMetadata] = useState<MetadataRow[]>(toRows(product?.metadata))
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  const [saved, setSaved] = useState(false)
  const [archiveOpen, setArchiveOpen] = useState(false)
  const [archived, setArchived] = useState(product?.is_archived ?? false)
  const form = useRef<HTMLFormElement>(null)

  useEffect(() => {
    if (!saved) return
    const t = setTimeout(() => setSaved(false), 4000)
    return () => clearTimeout(t)
  }, [saved])

  const setPrice = (i: number, patch: Partial<PriceRow>) =>
    // Editing an existing price makes a new one (prices are immutable; the old one is archived).
    setPrices((rows) => rows.map((r, j) => (j === i ? { ...r, ...patch, id: undefined } : r)))

  const buildPrices = (checks: Checks) => {
    if (!prices.length) checks.field('prices', 'Add at least one price.')
    const currencies = new Set<string>()
    return prices.map((r, i) => {
      const n = `Price ${i + 1}`
      const currency = r.currency.trim().toLowerCase()
      if (!/^[a-z]{3}$/.test(currency)) checks.field('prices', `${n}: the currency is a three-letter code (usd, eur…).`)
      if (currencies.has(currency)) checks.field('prices', `${n}: only one price per currency.`)
      currencies.add(currency)
      if (r.id) return { id: r.id }
      if (r.type === 'free') return { amount_type: 'fixed', price_currency: currency, price_amount: 0 }
      if (r.type === 'fixed') {
        const amount = toMinor(r.amount, currency)
        if (amount === null || amount <= 0) checks.field('prices', `${n}: enter an amount above 0 (or choose Free).`)
        return { amount_type: 'fixed', price_currency: currency, price_amount: amount ?? 0 }
      }
      const min = r.minimum ? toMinor(r.minimum, currency) : 0
      const max = r.maximum ? toMinor(r.maximum, currency) : null
      const preset = r.preset ? toMinor(r.preset, currency) : null
      if (min === null) checks.field('prices', `${n}: the minimum is not a number.`)
      if (r.maximum && max === null) checks.field('prices', `${n}: the maximum is not a number.`)
      if (r.preset && preset === null) checks.field('prices', `${n}: the suggested amount is not a number.`)
      if (min !== null && max !== null && max < min) checks.field('prices', `${n}: the maximum is below the minimum.`)
      return { amount_type: 'custom', price_currency: currency, minimum_amount: min ?? 0, maximum_amount: max, preset_amount: preset }
    })
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const checks = new Checks()
    if (name.trim().length < 3) checks.field('name', 'The name needs at least 3 characters.')
    const count = Number(intervalCount)
    if (recurring && (!Number.isInteger(count) || count < 1)) checks.field('recurring_interval_count', 'Enter a whole number of 1 or more.')
    const tCount = Number(trialCount)
    if (recurring && trial && (!Number.isInteger(tCount) || tCount < 1)) checks.field('trial_interval_count', 'Enter a whole number of 1 or more.')
    const pricesBody = buildPrices(checks)
    checkMetadata(metadata, checks)
    if (!checks.ok) {
      setErrors(checks.errors)
      focusFirstError(form.current)
      return
    }
    const body = {
      name: name.trim(),
      description: description.trim() || null,
      recurring_interval: recurring ? interval : null,
      recurring_interval_count: recurring ? count : null,
      trial_interval: recurring && trial ? trialInterval : null,
      trial_interval_count: recurring && trial ? tCount : null,
      prices: pricesBody,
      attached_custom_fields: attached.map((a) => ({ custom_field_id: a.custom_field_id, required: a.required })),
      metadata: fromRows(metadata),
    }
    setBusy(true)
    setErrors(noErrors)
    try {
      if (product) {
        const updated = await api.patch<Product>(`/v1/products/${product.id}`, body)
        setPrices(priceRows(updated))
        setSaved(true)
      } else {
        const created = await api.post<Product>('/v1/products/', body)
        navigate(`/products/${created.id}`, { replace: true })
      }
    } catch (err) {
      setErrors(toFormErrors(err, PRODUCT_FIELDS))
      focusFirstError(form.current)
    } finally {
      setBusy(false)
    }
  }

  // "Price 2: …" (our checks) and "#2 price amount: …" (the API's, loc ['body', 'prices', 1, …]) belong to a row.
  const rowErrors = (i: number) => (errors.fields.prices ?? []).filter((m) => m.startsWith(`Price ${i + 1}:`) || m.startsWith(`#${i + 1} `) || m.startsWith(`#${i + 1}:`))
  const available = customFields.filter((f) => !attached.some((a) => a.custom_field_id === f.id))
  const move = (i: number, by: number) =>
    setAttached((rows) => {
      const next = [...rows]
      const [row] = next.splice(i, 1)
      next.splice(i + by, 0, row!)
      return next
    })

  return (
    <>
      <PageHeader
        title={product ? (
          <>
            {product.name} {archived && <Badge>Archived</Badge>}
          </>
        ) : 'New product'}
        back={{ to: '/products', label: 'Products' }}
      />
      <form ref={form} className="form" onSubmit={submit} noValidate aria-label={product ? 'Edit product' : 'New product'}>
        <FormErrorSummary errors={errors} />
        {saved && (
          <div className="alert alert-success" role="status">
            Product saved.
          </div>
        )}
        <section className="card">
          <Field label="Name" required errors={errors.fields.name}>
            {(c) => <input {...c} value={name} maxLength={256} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <Field label="Description" hint="Shown on the checkout page." errors={errors.fields.description}>
            {(c) => <textarea {...c} rows={3} maxLength={5000} value={description} onChange={(e) => setDescription(e.target.value)} />}
          </Field>
        </section>

        <section className="card">
          <h3>Pricing</h3>
          <fieldset className="field">
            <legend className="field-label">Billing</legend>
            <div className="segmented">
              <label>
                <input type="radio" name="billing" checked={!recurring} onChange={() => setRecurring(false)} /> One-time purchase
              </label>
              <label>
                <input type="radio" name="billing" checked={recurring} onChange={() => setRecurring(true)} /> Subscription
              </label>
            </div>
            <FieldErrors errors={errors.fields.recurring_interval} />
          </fieldset>
          {recurring && (
            <div className="row">
              <Field label="Billed every" errors={errors.fields.recurring_interval_count} className="narrow">
                {(c) => <input {...c} type="number" min={1} max={999} inputMode="numeric" value={intervalCount} onChange={(e) => setIntervalCount(e.target.value)} />}
              </Field>
              <Field label="Interval">{(c) => <IntervalSelect control={c} value={interval} onChange={setInterval} />}</Field>
            </div>
          )}
          {recurring && (
            <>
              <Toggle label="Free trial" hint="New subscribers are not charged until the trial ends." checked={trial} onChange={setTrial} errors={errors.fields.trial_interval} />
              {trial && (
                <div className="row">
                  <Field label="Trial length" errors={errors.fields.trial_interval_count} className="narrow">
                    {(c) => <input {...c} type="number" min={1} max={1000} inputMode="numeric" value={trialCount} onChange={(e) => setTrialCount(e.target.value)} />}
                  </Field>
                  <Field label="Trial unit">{(c) => <IntervalSelect control={c} plural value={trialInterval} onChange={setTrialInterval} />}</Field>
                </div>
              )}
            </>
          )}

          <fieldset className={`field${errors.fields.prices ? ' field-invalid' : ''}`} data-testid="prices">
            <legend className="field-label">Prices</legend>
            <p className="hint">One price per currency. Amounts in the currency's main unit (12.50).</p>
            <datalist id="currency-list">
              {CURRENCIES.map((cur) => (
                <option key={cur} value={cur} />
              ))}
            </datalist>
            {prices.map((r, i) => (
              <PriceEditor key={i} index={i} row={r} errors={rowErrors(i)} onChange={(patch) => setPrice(i, patch)} onRemove={prices.length > 1 ? () => setPrices((rows) => rows.filter((_, j) => j !== i)) : undefined} />
            ))}
            <button
              type="button"
              className="btn btn-small"
              onClick={() => setPrices((rows) => [...rows, newPriceRow(CURRENCIES.find((c) => !rows.some((r) => r.currency === c)) ?? 'eur')])}
            >
              Add a price in another currency
            </button>
            <FieldErrors errors={(errors.fields.prices ?? []).filter((m) => !ROW_ERROR.test(m))} />
          </fieldset>
        </section>

        <section className="card">
          <h3>Custom fields</h3>
          <p className="hint">Extra questions asked at checkout, in this order.</p>
          {customFieldsError && <LoadError error={customFieldsError} />}
          {attached.length > 0 && (
            <ul className="stack-list" aria-label="Attached custom fields">
              {attached.map((a, i) => (
                <li key={a.custom_field_id}>
                  <span className="grow">{a.name}</span>
                  <label className="inline">
                    <input
                      type="checkbox"
                      checked={a.required}
                      onChange={(e) => setAttached((rows) => rows.map((r, j) => (j === i ? { ...r, required: e.target.checked } : r)))}
                    />{' '}
                    Required
                  </label>
                  <button type="button" className="btn btn-small btn-ghost" disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move ${a.name} up`}>
                    ↑
                  </button>
                  <button type="button" className="btn btn-small btn-ghost" disabled={i === attached.length - 1} onClick={() => move(i, 1)} aria-label={`Move ${a.name} down`}>
                    ↓
                  </button>
                  <button type="button" className="btn btn-small btn-ghost" onClick={() => setAttached((rows) => rows.filter((_, j) => j !== i))} aria-label={`Remove ${a.name}`}>
                    Remove
                  </button>
                </li>
              ))}
            </ul>
          )}
          <Field label="Add a custom field" errors={errors.fields.attached_custom_fields}>
            {(c) => (
              <Combobox
                control={c}
                clearOnPick
                value={null}
                placeholder={customFields.length ? 'Search custom fields' : 'No custom fields yet'}
                options={available.map((f) => ({ value: f.id, label: f.name, detail: `${f.type} · ${f.slug}` }))}
                emptyText={
                  <>
                    No custom field left. <Link to="/products/custom-fields/new">Create one</Link>
                  </>
                }
                onPick={(v) => {
                  const f = customFields.find((x) => x.id === v)
                  if (f) setAttached((rows) => [...rows, { custom_field_id: f.id, required: false, name: f.name }])
                }}
              />
            )}
          </Field>
        </section>

        <section className="card">
          <MetadataEditor rows={metadata} onChange={setMetadata} errors={errors.fields.metadata} />
        </section>

        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Saving…' : product ? 'Save Product' : 'Create Product'}
          </button>
          <Link to="/products" className="btn">
            Cancel
          </Link>
          {product && !archived && (
            <button type="button" className="btn btn-danger-outline push-right" onClick={() => setArchiveOpen(true)}>
              Archive product
            </button>
          )}
          {product && archived && (
            <button
              type="button"
              className="btn push-right"
              onClick={async () => {
                try {
                  await api.patch(`/v1/products/${product.id}`, { is_archived: false })
                  setArchived(false)
                } catch (err) {
                  setErrors(toFormErrors(err, PRODUCT_FIELDS))
                }
              }}
            >
              Unarchive product
            </button>
          )}
        </div>
      </form>
      <ArchiveDialog
        product={archiveOpen ? product ?? null : null}
        onClose={() => setArchiveOpen(false)}
        onConfirm={async () => {
          await api.patch(`/v1/products/${product!.id}`, { is_archived: true })
          setArchived(true)
          setArchiveOpen(false)
        }}
      />
    </>
  )
}

function PriceEditor(props: { index: number; row: PriceRow; errors: string[]; onChange: (p: Partial<PriceRow>) => void; onRemove?: () => void }) {
  const { index, row, onChange, onRemove } = props
  const n = index + 1
  const invalid = props.errors.length > 0
  const amountField = (label: string, key: 'amount' | 'minimum' | 'maximum' | 'preset', hint?: string) => (
    <Field label={label} hint={hint} className="narrow">
      {(c) => (
        <input
          {...c}
          inputMode="decimal"
          placeholder="0.00"
          value={row[key]}
          aria-invalid={invalid || undefined}
          aria-describedby={[c['aria-describedby'], invalid ? `price-${n}-errors` : undefined].filter(Boolean).join(' ') || undefined}
          onChange={(e) => onChange({ [key]: e.target.value })}
        />
      )}
    </Field>
  )
  return (
    <div className="price-row" role="group" aria-label={`Price ${n}`}>
      <div className="row">
        <Field label="Price type">
          {(c) => (
            <select {...c} value={row.type} onChange={(e) => onChange({ type: e.target.value as PriceRow['type'] })}>
              <option value="fixed">Fixed price</option>
              <option value="custom">Pay what you want</option>
              <option value="free">Free</option>
            </select>
          )}
        </Field>
        <Field label="Currency" className="narrow">
          {(c) => (
<input {...c} list="currency-list" maxLength={3} value={row.currency} onChange={(e) => onChange({ currency: e.target.value.toLowerCase() })} />
          )}
        </Field>
        {row.type === 'fixed' && amountField('Amount', 'amount')}
        {row.type === 'custom' && amountField('Minimum', 'minimum')}
        {row.type === 'custom' && amountField('Maximum', 'maximum', 'Optional')}
        {row.type === 'custom' && amountField('Suggested', 'preset', 'Optional')}
        {onRemove && (
          <button type="button" className="btn btn-small btn-ghost align-end" onClick={onRemove} aria-label={`Remove price ${n}`}>
            Remove
          </button>
        )}
      </div>
      <FieldErrors id={`price-${n}-errors`} errors={props.errors} />
      {row.type === 'fixed' && row.amount && toMinor(row.amount, row.currency) !== null && (
        <p className="hint">Buyers pay {money(toMinor(row.amount, row.currency)!, row.currency)}.</p>
      )}
    </div>
  )
}
