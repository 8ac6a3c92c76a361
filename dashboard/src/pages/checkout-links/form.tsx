import { useRef, useState, type FormEvent } from 'react'
import { Combobox } from '../../components/combobox'
import { checkMetadata, fromRows, MetadataEditor, toRows, type MetadataRow } from '../../components/metadata-editor'
import { Field, focusFirstError, FormErrorSummary, LoadError, Spinner, Toggle } from '../../components/ui'
import { api } from '../../lib/api'
import { Checks, noErrors, toFormErrors, without, type FormErrors } from '../../lib/errors'
import { billing, productPrices } from '../../lib/format'
import { fetchAll, useAsync } from '../../lib/hooks'
import { Link, navigate, useTitle } from '../../lib/router'
import type { CheckoutLink, Discount, Interval, Product } from '../../lib/types'
import { discountAmount } from '../discounts'
import { PageHeader, ProductsSection } from '../layout'
import { IntervalSelect } from '../products'

const LINK_FIELDS = [
  'label',
  'products',
  'product_id',
  'product_price_id',
  'success_url',
  'return_url',
  'discount_id',
  'allow_discount_codes',
  'require_billing_address',
  'trial_interval',
  'trial_interval_count',
  'metadata',
] as const

export const SUCCESS_URL_PLACEHOLDER = 'https://example.com/success?checkout_id={CHECKOUT_ID}'

const isHttpUrl = (v: string) => {
  try {
    const u = new URL(v.replaceAll('{CHECKOUT_ID}', 'CHECKOUT_ID'))
    return (u.protocol === 'http:' || u.protocol === 'https:') && /^https?:\/\//i.test(v)
  } catch {
    return false
  }
}

/** The catalog the link form picks from. */
export function useLinkCatalog() {
  const products = useAsync((signal) => fetchAll<Product>('/v1/products/', {}, signal), 'products')
  const discounts = useAsync((signal) => fetchAll<Discount>('/v1/discounts/', {}, signal), 'discounts')
  return { products, discounts }
}

/** New Link page. */
export function LinkEdit() {
  useTitle('New Link')
  const { products, discounts } = useLinkCatalog()
  return (
    <ProductsSection current="/products/checkout-links">
      <PageHeader title="New Link" back={{ to: '/products/checkout-links', label: 'Checkout Links' }} />
      {products.error && <LoadError error={products.error} retry={products.reload} />}
      {discounts.error && <LoadError error={discounts.error} retry={discounts.reload} />}
      {!products.data || !discounts.data ? (
        <Spinner />
      ) : (
        <LinkForm products={products.data} discounts={discounts.data} onSaved={(l) => navigate(`/products/checkout-links/${l.id}`, { replace: true })} />
      )}
    </ProductsSection>
  )
}

/**
 * Every setting of a checkout link, in Polar's order and words (UX.md): Label, Products, Success URL, Return
 * URL, Preset discount, Allow discount codes, Require billing address, Free trial period, Metadata.
 */
export function LinkForm({ link, products, discounts, onSaved }: { link?: CheckoutLink; products: Product[]; discounts: Discount[]; onSaved: (l: CheckoutLink) => void }) {
  const [label, setLabel] = useState(link?.label ?? '')
  const [selected, setSelected] = useState<string[]>(link?.products.map((p) => p.id) ?? [])
  const [successUrl, setSuccessUrl] = useState(link?.success_url ?? '')
  const [returnUrl, setReturnUrl] = useState(link?.return_url ?? '')
  const [discountId, setDiscountId] = useState<string | null>(link?.discount_id ?? null)
  const [allowCodes, setAllowCodes] = useState(link?.allow_discount_codes ?? true)
  const [requireBilling, setRequireBilling] = useState(link?.require_billing_address ?? false)
  const [trial, setTrial] = useState(!!link?.trial_interval)
  const [trialCount, setTrialCount] = useState(String(link?.trial_interval_count ?? 14))
  const [trialInterval, setTrialInterval] = useState<Interval>(link?.trial_interval ?? 'day')
  const [metadata, setMetadata] = useState<MetadataRow[]>(toRows(link?.metadata))
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  const [saved, setSaved] = useState(false)
  const form = useRef<HTMLFormElement>(null)
  // A field's error goes away as soon as the field is changed; the others stay until the next save.
  const edited = (...fields: string[]) => setErrors((e) => without(e, ...fields))

  // The link's own products may be archived (or not in the first pages): keep them known by name.
  const known = new Map<string, { id: string; name: string; is_recurring: boolean; is_archived: boolean; detail: string }>()
  for (const p of link?.products ?? []) known.set(p.id, { id: p.id, name: p.name, is_recurring: p.is_recurring, is_archived: p.is_archived, detail: billing(p) })
  for (const p of products) known.set(p.id, { id: p.id, name: p.name, is_recurring: p.is_recurring, is_archived: p.is_archived, detail: `${billing(p)} · ${productPrices(p)}` })
  const selectedProducts = selected.map((id) => known.get(id) ?? { id, name: id, is_recurring: false, is_archived: false, detail: '' })
  const anyRecurring = selectedProducts.some((p) => p.is_recurring)

  const move = (i: number, by: number) =>
    setSelected((ids) => {
      const next = [...ids]
      const [id] = next.splice(i, 1)
      next.splice(i + by, 0, id!)
      return next
    })

  const insertCheckoutId = () => {
    const base = successUrl.trim() || 'https://'
    if (base.includes('{CHECKOUT_ID}')) return
    setSuccessUrl(`${base}${base.includes('?') ? '&' : '?'}checkout_id={CHECKOUT_ID}`)
    edited('success_url')
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const checks = new Checks()
    if (!selected.length) checks.field('products', 'Select at least one product.')
    if (successUrl.trim() && !isHttpUrl(successUrl.trim())) checks.field('success_url', 'Enter a full URL starting with https:// (or http://).')
    if (returnUrl.trim() && !isHttpUrl(returnUrl.trim())) checks.field('return_url', 'Enter a full URL starting with https:// (or http://).')
    const count = Number(trialCount)
    const withTrial = trial && anyRecurring
    if (withTrial && (!Number.isInteger(count) || count < 1 || count > 1000)) checks.field('trial_interval_count', 'Enter a whole number from 1 to 1000.')
    checkMetadata(metadata, checks)
    if (!checks.ok) {
      setErrors(checks.errors)
      focusFirstError(form.current)
      return
    }
    const body = {
      label: label.trim() || null,
      products: selected,
      success_url: successUrl.trim() || null,
      return_url: returnUrl.trim() || null,
      discount_id: discountId,
      allow_discount_codes: allowCodes,
      require_billing_address: requireBilling,
      trial_interval: withTrial ? trialInterval : null,
      trial_interval_count: withTrial ? count : null,
      metadata: fromRows(metadata),
    }
    setBusy(true)
    setErrors(noErrors)
    setSaved(false)
    try {
      const result = link
        ? await api.patch<CheckoutLink>(`/v1/checkout-links/${link.id}`, body)
        : await api.post<CheckoutLink>('/v1/checkout-links/', { payment_processor: 'stripe', ...body })
      if (link) setSaved(true)
      onSaved(result)
    } catch (err) {
      setErrors(toFormErrors(err, LINK_FIELDS))
      focusFirstError(form.current)
    } finally {
      setBusy(false)
    }
  }

  const productErrors = [...(errors.fields.products ?? []), ...(errors.fields.product_id ?? []), ...(errors.fields.product_price_id ?? [])]
  const trialErrors = [...(errors.fields.trial_interval ?? []), ...(errors.fields.trial_interval_count ?? [])]
  const discountOptions = discounts.map((d) => ({ value: d.id, label: d.name, detail: `${discountAmount(d)}${d.code ? ` · ${d.code}` : ''}` }))
  if (link?.discount && !discounts.some((d) => d.id === link.discount_id)) discountOptions.unshift({ value: link.discount.id, label: link.discount.name, detail: discountAmount(link.discount) })

  return (
    <form ref={form} className="form" onSubmit={submit} noValidate aria-label={link ? 'Edit link' : 'New link'} data-testid="link-form">
      <FormErrorSummary errors={errors} title={link ? 'Could not save the link' : 'Could not create the link'} />
      {saved && (
        <div className="alert alert-success" role="status">
          Link saved.
        </div>
      )}
      <section className="card">
        <Field label="Label" hint="Helpful if you have multiple links" errors={errors.fields.label}>
          {(c) => <input {...c} value={label} maxLength={256} onChange={(e) => {
                setLabel(e.target.value)
                edited('label')
              }} />}
        </Field>

        <Field label="Products" required hint="The customer will be able to switch between these products at checkout" errors={productErrors}>
          {(c) => (
            <div className="product-picker">
              {selectedProducts.length > 0 && (
                <ol className="stack-list" aria-label="Selected products">
                  {selectedProducts.map((p, i) => (
                    <li key={p.id}>
                      <span className="grow">
                        <span className="strong">{p.name}</span> {p.is_archived && <span className="badge badge-neutral">Archived</span>}
                        <span className="muted small block">{p.detail}</span>
                      </span>
                      <button type="button" className="btn btn-small btn-ghost" disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move ${p.name} up`}>
                        ↑
                      </button>
                      <button type="button" className="btn btn-small btn-ghost" disabled={i === selectedProducts.length - 1} onClick={() => move(i, 1)} aria-label={`Move ${p.name} down`}>
                        ↓
                      </button>
                      <button type="button" className="btn btn-small btn-ghost" onClick={() => setSelected((ids) => ids.filter((x) => x !== p.id))} aria-label={`Remove ${p.name}`}>
                        Remove
                      </button>
                    </li>
                  ))}
                </ol>
              )}
              <Combobox
                control={{ ...c, 'aria-describedby': c['aria-describedby'] }}
                clearOnPick
                value={null}
                placeholder={selected.length ? 'Add another product' : 'Search products'}
                options={products.filter((p) => !p.is_archived && !selected.includes(p.id)).map((p) => ({ value: p.id, label: p.name, detail: `${billing(p)} · ${productPrices(p)}` }))}
                emptyText={
                  products.length ? (
                    'No other product'
                  ) : (
                    <>
                      No products yet. <Link to="/products/new">Create one</Link>
                    </>
                  )
                }
                onPick={(v) => {
                  if (!v) return
                  setSelected((ids) => (ids.includes(v) ? ids : [...ids, v]))
                  edited('products', 'product_id', 'product_price_id')
                }}
              />
            </div>
          )}
        </Field>

        <Field
          label="Success URL"
          hint={
            <>
              Where buyers go after paying; empty keeps them on the confirmation page. Add <code>{'{CHECKOUT_ID}'}</code> and it is replaced by the checkout session's ID.{' '}
              {!successUrl.includes('{CHECKOUT_ID}') && (
                <button type="button" className="link-button" onClick={insertCheckoutId}>
                  Insert checkout_id={'{CHECKOUT_ID}'}
                </button>
              )}
            </>
          }
          errors={errors.fields.success_url}
        >
          {(c) => <input {...c} type="url" inputMode="url" placeholder={SUCCESS_URL_PLACEHOLDER} value={successUrl} onChange={(e) => {
                setSuccessUrl(e.target.value)
                edited('success_url')
              }} />}
        </Field>

        <Field label="Return URL" hint="When set, a back button is shown" errors={errors.fields.return_url}>
          {(c) => <input {...c} type="url" inputMode="url" placeholder="https://example.com/pricing" value={returnUrl} onChange={(e) => {
                setReturnUrl(e.target.value)
                edited('return_url')
              }} />}
        </Field>
      </section>

      <section className="card">
        <Field label="Preset discount" hint="Applied automatically to every checkout from this link." errors={errors.fields.discount_id}>
          {(c) => (
            <Combobox
              control={c}
              value={discountId}
              placeholder="No discount"
              clearLabel="Clear"
              options={discountOptions}
              emptyText={
                discounts.length ? (
                  'No matching discount'
                ) : (
                  <>
                    No discounts yet. <Link to="/products/discounts/new">Create one</Link>
                  </>
                )
              }
              onPick={(v) => {
                setDiscountId(v)
                edited('discount_id')
              }}
            />
          )}
        </Field>
        <Toggle label="Allow discount codes" hint="Buyers can enter a discount code at checkout." checked={allowCodes} onChange={setAllowCodes} errors={errors.fields.allow_discount_codes} />
        <Toggle
          label="Require billing address"
          hint="Always ask for the buyer's full billing address."
          checked={requireBilling}
          onChange={setRequireBilling}
          errors={errors.fields.require_billing_address}
        />
      </section>

      {(anyRecurring || trialErrors.length > 0) && (
        <section className="card">
          <Toggle label="Free trial period" hint="Overrides the products' trial" checked={trial} onChange={setTrial} errors={trial ? undefined : trialErrors} />
          {trial && (
            <div className="row">
              <Field label="Trial length" errors={trialErrors} className="narrow">
                {(c) => <input {...c} type="number" min={1} max={1000} inputMode="numeric" value={trialCount} onChange={(e) => {
                      setTrialCount(e.target.value)
                      edited('trial_interval_count')
                    }} />}
              </Field>
              <Field label="Trial unit">{(c) => <IntervalSelect control={c} plural value={trialInterval} onChange={setTrialInterval} />}</Field>
            </div>
          )}
        </section>
      )}

      <section className="card">
        <MetadataEditor rows={metadata} onChange={setMetadata} errors={errors.fields.metadata} hint="Copied to every checkout session from this link, and from there to the order." />
      </section>

      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Saving…' : link ? 'Save Link' : 'Create Link'}
        </button>
        {!link && (
          <Link to="/products/checkout-links" className="btn">
            Cancel
          </Link>
        )}
      </div>
    </form>
  )
}
