import { useRef, useState, type FormEvent } from 'react'
import { Combobox } from '../components/combobox'
import { checkMetadata, fromRows, MetadataEditor, toRows, type MetadataRow } from '../components/metadata-editor'
import { ConfirmDialog, EmptyState, Field, FieldErrors, focusFirstError, FormErrorSummary, LoadError, Pagination, SearchBox, Spinner } from '../components/ui'
import { api } from '../lib/api'
import { Checks, noErrors, toFormErrors, type FormErrors } from '../lib/errors'
import { date, fromLocalInput, fromMinor, money, toLocalInput, toMinor } from '../lib/format'
import { fetchAll, useAsync, useList } from '../lib/hooks'
import { Link, navigate, useTitle } from '../lib/router'
import type { Discount, Product } from '../lib/types'
import { PageHeader, ProductsSection } from './layout'
import { CURRENCIES } from './products'

export function discountAmount(d: Pick<Discount, 'type' | 'basis_points' | 'amount' | 'currency'>): string {
  if (d.type === 'percentage') return `${((d.basis_points ?? 0) / 100).toLocaleString(undefined, { maximumFractionDigits: 2 })}%`
  return money(d.amount ?? 0, d.currency ?? 'usd')
}

export function discountDuration(d: Pick<Discount, 'duration' | 'duration_in_months'>): string {
  if (d.duration === 'once') return 'Once'
  if (d.duration === 'forever') return 'Forever'
  return `${d.duration_in_months} month${d.duration_in_months === 1 ? '' : 's'}`
}

export function DiscountsList() {
  useTitle('Discounts')
  const list = useList<Discount>('/v1/discounts/')
  const [deleting, setDeleting] = useState<Discount | null>(null)
  return (
    <ProductsSection current="/products/discounts">
      <PageHeader
        title="Discounts"
        actions={
          <Link to="/products/discounts/new" className="btn btn-primary">
            New Discount
          </Link>
        }
      />
      <div className="toolbar">
        <SearchBox label="Search discounts" placeholder="Search by name or code" />
      </div>
      {list.error && <LoadError error={list.error} retry={list.reload} />}
      {!list.data && list.loading && <Spinner />}
      {list.data && list.data.items.length === 0 && (
        <EmptyState
          title={list.q ? 'No discounts match your search' : 'No discounts yet'}
          action={
            list.q ? undefined : (
              <Link to="/products/discounts/new" className="btn btn-primary">
                New Discount
              </Link>
            )
          }
        />
      )}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Discounts</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Code</th>
                <th scope="col">Discount</th>
                <th scope="col">Duration</th>
                <th scope="col">Redemptions</th>
                <th scope="col">Ends</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Link to={`/products/discounts/${d.id}`} className="strong">
                      {d.name}
                    </Link>
                  </td>
                  <td>{d.code ? <code>{d.code}</code> : <span className="muted">No code</span>}</td>
                  <td>{discountAmount(d)}</td>
                  <td>{discountDuration(d)}</td>
                  <td>
                    {d.redemptions_count}
                    {d.max_redemptions != null && ` / ${d.max_redemptions}`}
                  </td>
                  <td>{date(d.ends_at)}</td>
                  <td className="actions">
                    <Link to={`/products/discounts/${d.id}`} className="btn btn-small" aria-label={`Edit ${d.name}`}>
                      Edit
                    </Link>
                    <button type="button" className="btn btn-small btn-danger-outline" aria-label={`Delete ${d.name}`} onClick={() => setDeleting(d)}>
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
      <DeleteDiscountDialog
        discount={deleting}
        onClose={() => setDeleting(null)}
        onDeleted={() => {
          setDeleting(null)
          list.reload()
        }}
      />
    </ProductsSection>
  )
}

function DeleteDiscountDialog({ discount, onClose, onDeleted }: { discount: Discount | null; onClose: () => void; onDeleted: () => void }) {
  return (
    <ConfirmDialog
      open={!!discount}
      title={`Delete ${discount?.name ?? 'discount'}?`}
      confirmLabel="Delete discount"
      danger
      onClose={onClose}
      onConfirm={async () => {
        await api.del(`/v1/discounts/${discount!.id}`)
        onDeleted()
      }}
    >
      <p>
        Buyers can no longer redeem it{discount?.code ? <> (code <code>{discount.code}</code>)</> : null}, and checkout links that preset it stop applying it. Orders that
        used it keep it.
      </p>
    </ConfirmDialog>
  )
}

const DISCOUNT_FIELDS = ['name', 'code', 'type', 'basis_points', 'amount', 'amounts', 'currency', 'duration', 'duration_in_months', 'starts_at', 'ends_at', 'max_redemptions', 'products', 'metadata'] as const

export function DiscountForm({ id }: { id?: string }) {
  const existing = useAsync((signal) => (id ? api.get<Discount>(`/v1/discounts/${id}`, undefined, signal) : Promise.resolve(undefined)), id ?? 'new')
  const products = useAsync((signal) => fetchAll<Product>('/v1/products/', { is_archived: false }, signal), 'products')
  useTitle(id ? (existing.data?.name ?? 'Discount') : 'New discount')
  if (id && existing.error) return <LoadError error={existing.error} retry={existing.reload} />
  if (id && !existing.data) return <Spinner />
  return (
    <ProductsSection current="/products/discounts">
      <DiscountEditor key={existing.data?.id ?? 'new'} discount={existing.data} products={products.data ?? []} />
    </ProductsSection>
  )
}

function DiscountEditor({ discount, products }: { discount?: Discount; products: Product[] }) {
  const [name, setName] = useState(discount?.name ?? '')
  const [code, setCode] = useState(discount?.code ?? '')
  const [type, setType] = useState<Discount['type']>(discount?.type ?? 'percentage')
  const [percent, setPercent] = useState(discount?.basis_points ? String(discount.basis_points / 100) : '')
  const [currency, setCurrency] = useState(discount?.currency ?? 'usd')
  const [amount, setAmount] = useState(discount?.amount != null ? fromMinor(discount.amount, discount.currency ?? 'usd') : '')
  const [duration, setDuration] = useState<Discount['duration']>(discount?.duration ?? 'once')
  const [months, setMonths] = useState(String(discount?.duration_in_months ?? 3))
  const [startsAt, setStartsAt] = useState(toLocalInput(discount?.starts_at))
  const [endsAt, setEndsAt] = useState(toLocalInput(discount?.ends_at))
  const [maxRedemptions, setMaxRedemptions] = useState(discount?.max_redemptions != null ? String(discount.max_redemptions) : '')
  const [restricted, setRestricted] = useState<{ id: string; name: string }[]>(discount?.products?.map((p) => ({ id: p.id, name: p.name })) ?? [])
  const [metadata, setMetadata] = useState<MetadataRow[]>(toRows(discount?.metadata))
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  const [saved, setSaved] = useState(false)
  const [deleting, setDeleting] = useState(false)
  const form = useRef<HTMLFormElement>(null)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const checks = new Checks()
    if (!name.trim()) checks.field('name', 'Enter a name: buyers see it when the discount applies.')
    if (code.trim() && !/^[\p{L}\p{N}]{3,256}$/u.test(code.trim())) checks.field('code', 'Letters and digits only, 3 to 256 characters.')
    const bp = Math.round(Number(percent.replace(',', '.')) * 100)
    if (type === 'percentage' && (!percent || !Number.isFinite(bp) || bp < 1 || bp > 10000)) checks.field('basis_points', 'Enter a percentage between 0.01 and 100.')
    const minor = toMinor(amount, currency)
    if (type === 'fixed' && (minor === null || minor <= 0)) checks.field('amount', 'Enter an amount above 0.')
    const m = Number(months)
    if (duration === 'repeating' && (!Number.isInteger(m) || m < 1)) checks.field('duration_in_months', 'Enter a whole number of months.')
    const max = maxRedemptions ? Number(maxRedemptions) : null
    if (max !== null && (!Number.isInteger(max) || max < 1)) checks.field('max_redemptions', 'Enter a whole number of 1 or more, or leave empty.')
    const starts = fromLocalInput(startsAt)
    const ends = fromLocalInput(endsAt)
    if (starts && ends && ends <= starts) checks.field('ends_at', 'The end must be after the start.')
    checkMetadata(metadata, checks)
    if (!checks.ok) {
      setErrors(checks.errors)
      focusFirstError(form.current)
      return
    }
    const value = type === 'percentage' ? { basis_points: bp } : { amount: minor, currency }
    const common = {
      name: name.trim(),
      code: code.trim() || null,
      starts_at: starts,
      ends_at: ends,
      max_redemptions: max,
      products: restricted.map((p) => p.id),
      metadata: fromRows(metadata),
      ...value,
    }
    setBusy(true)
    setErrors(noErrors)
    try {
      if (discount) {
        await api.patch<Discount>(`/v1/discounts/${discount.id}`, { ...common, ...(duration === 'repeating' ? { duration_in_months: m } : {}) })
        setSaved(true)
      } else {
        const created = await api.post<Discount>('/v1/discounts/', { ...common, type, duration, duration_in_months: duration === 'repeating' ? m : null })
        navigate(`/products/discounts/${created.id}`, { replace: true })
      }
    } catch (err) {
      setErrors(toFormErrors(err, DISCOUNT_FIELDS))
      focusFirstError(form.current)
    } finally {
      setBusy(false)
    }
  }

  const amountErrors = [...(errors.fields.amount ?? []), ...(errors.fields.amounts ?? []), ...(errors.fields.currency ?? [])]
  return (
    <>
      <PageHeader title={discount ? discount.name : 'New discount'} back={{ to: '/products/discounts', label: 'Discounts' }} />
      <form ref={form} className="form" onSubmit={submit} noValidate aria-label={discount ? 'Edit discount' : 'New discount'}>
        <FormErrorSummary errors={errors} />
        {saved && (
          <div className="alert alert-success" role="status">
            Discount saved.
          </div>
        )}
        <section className="card">
          <Field label="Name" required hint="Shown to the buyer when the discount applies." errors={errors.fields.name}>
            {(c) => <input {...c} value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <Field label="Code" hint="Optional. Buyers type it at checkout (case-insensitive). Without a code, the discount is applied only through a checkout link or the API." errors={errors.fields.code}>
            {(c) => <input {...c} value={code} autoCapitalize="characters" onChange={(e) => setCode(e.target.value)} />}
          </Field>
        </section>
        <section className="card">
          <fieldset className="field">
            <legend className="field-label">Type</legend>
            <div className="segmented">
              <label>
                <input type="radio" name="discount-type" checked={type === 'percentage'} disabled={!!discount} onChange={() => setType('percentage')} /> Percentage
              </label>
              <label>
                <input type="radio" name="discount-type" checked={type === 'fixed'} disabled={!!discount} onChange={() => setType('fixed')} /> Fixed amount
              </label>
            </div>
            {discount && <p className="hint">The type cannot change once the discount exists.</p>}
            <FieldErrors errors={errors.fields.type} />
          </fieldset>
          {type === 'percentage' ? (
            <Field label="Percentage" required errors={errors.fields.basis_points} className="narrow">
              {(c) => (
                <div className="input-suffix">
                  <input {...c} inputMode="decimal" value={percent} onChange={(e) => setPercent(e.target.value)} />
                  <span aria-hidden="true">%</span>
                </div>
              )}
            </Field>
          ) : (
            <div className="row">
              <Field label="Amount" required errors={amountErrors} className="narrow">
                {(c) => <input {...c} inputMode="decimal" placeholder="0.00" value={amount} onChange={(e) => setAmount(e.target.value)} />}
              </Field>
              <Field label="Currency" className="narrow">
                {(c) => (
                  <select {...c} value={currency} onChange={(e) => setCurrency(e.target.value)}>
                    {[...new Set([currency, ...CURRENCIES])].map((cur) => (
                      <option key={cur} value={cur}>
                        {cur.toUpperCase()}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            </div>
          )}
          <div className="row">
            <Field label="Duration" hint="For subscriptions: which invoices get the discount." errors={errors.fields.duration}>
              {(c) => (
                <select {...c} value={duration} disabled={!!discount} onChange={(e) => setDuration(e.target.value as Discount['duration'])}>
                  <option value="once">Once (first invoice)</option>
                  <option value="forever">Forever</option>
                  <option value="repeating">Several months</option>
                </select>
              )}
            </Field>
            {duration === 'repeating' && (
              <Field label="Months" errors={errors.fields.duration_in_months} className="narrow">
                {(c) => <input {...c} type="number" min={1} max={999} value={months} onChange={(e) => setMonths(e.target.value)} />}
              </Field>
            )}
          </div>
        </section>
        <section className="card">
          <h3>Restrictions</h3>
          <div className="row">
            <Field label="Starts" hint="Optional." errors={errors.fields.starts_at}>
              {(c) => <input {...c} type="datetime-local" value={startsAt} onChange={(e) => setStartsAt(e.target.value)} />}
            </Field>
            <Field label="Ends" hint="Optional." errors={errors.fields.ends_at}>
              {(c) => <input {...c} type="datetime-local" value={endsAt} onChange={(e) => setEndsAt(e.target.value)} />}
            </Field>
            <Field label="Maximum redemptions" hint="Optional." errors={errors.fields.max_redemptions} className="narrow">
              {(c) => <input {...c} type="number" min={1} value={maxRedemptions} onChange={(e) => setMaxRedemptions(e.target.value)} />}
            </Field>
          </div>
          <Field label="Products" hint="Leave empty to allow every product." errors={errors.fields.products}>
            {(c) => (
              <>
                {restricted.length > 0 && (
                  <ul className="chips" aria-label="Products the discount applies to">
                    {restricted.map((p) => (
                      <li key={p.id}>
                        {p.name}
                        <button type="button" className="chip-remove" aria-label={`Remove ${p.name}`} onClick={() => setRestricted((r) => r.filter((x) => x.id !== p.id))}>
                          ×
                        </button>
                      </li>
                    ))}
                  </ul>
                )}
                <Combobox
                  control={c}
                  clearOnPick
                  value={null}
                  placeholder="Add a product"
                  options={products.filter((p) => !restricted.some((r) => r.id === p.id)).map((p) => ({ value: p.id, label: p.name }))}
                  onPick={(v) => {
                    const p = products.find((x) => x.id === v)
                    if (p) setRestricted((r) => [...r, { id: p.id, name: p.name }])
                  }}
                />
              </>
            )}
          </Field>
        </section>
        <section className="card">
          <MetadataEditor rows={metadata} onChange={setMetadata} errors={errors.fields.metadata} />
        </section>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Saving…' : discount ? 'Save Discount' : 'Create Discount'}
          </button>
          <Link to="/products/discounts" className="btn">
            Cancel
          </Link>
          {discount && (
            <button type="button" className="btn btn-danger-outline push-right" onClick={() => setDeleting(true)}>
              Delete discount
            </button>
          )}
        </div>
      </form>
      <DeleteDiscountDialog discount={deleting ? discount ?? null : null} onClose={() => setDeleting(false)} onDeleted={() => navigate('/products/discounts')} />
    </>
  )
}
