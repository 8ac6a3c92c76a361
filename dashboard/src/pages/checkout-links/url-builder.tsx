import { useId } from 'react'
import { CopyButton } from '../../components/ui'
import { fromMinor, money, toMinor } from '../../lib/format'
import type { CheckoutLink, CustomField, Discount } from '../../lib/types'

/** Polar's fourteen checkout locales. */
export const LOCALES = ['en', 'nl', 'fr', 'sv', 'es', 'de', 'hu', 'it', 'pt-BR', 'pt-PT', 'ko', 'ja', 'tr', 'pl']

const localeName = (tag: string) => {
  try {
    return new Intl.DisplayNames([navigator.language, 'en'], { type: 'language' }).of(tag) ?? tag
  } catch {
    return tag
  }
}

/** One query parameter of the builder: ticked or not, and its value. */
export interface BuilderParam {
  on: boolean
  value: string
}
export type BuilderState = Record<string, BuilderParam>

/** The link's URL with the ticked parameters (empty values left out), in the order they are listed. */
export function composeUrl(base: string, state: BuilderState, order: string[]): string {
  const url = new URL(base)
  for (const key of order) {
    const p = state[key]
    if (p?.on && p.value.trim() !== '') url.searchParams.set(key, p.value.trim())
  }
  return url.toString()
}

export interface BuilderContext {
  link: CheckoutLink
  customFields: CustomField[]
  discounts: Discount[]
}

interface ParamDef {
  key: string
  label: string
  hint?: string
  input: 'text' | 'email' | 'product' | 'locale' | 'discount' | 'amount' | 'custom'
  field?: CustomField
}

export function paramDefs(ctx: BuilderContext): ParamDef[] {
  return [
    { key: 'product_id', label: 'Product', hint: 'Preselect one of the link’s products.', input: 'product' },
    { key: 'customer_email', label: 'Email', hint: 'Prefill the customer’s email.', input: 'email' },
    { key: 'customer_name', label: 'Name', hint: 'Prefill the customer’s name.', input: 'text' },
    { key: 'discount_code', label: 'Discount code', hint: 'Apply a code (replaces the preset discount when valid).', input: 'discount' },
    { key: 'amount', label: 'Amount', hint: 'Pay-what-you-want amount.', input: 'amount' },
    { key: 'locale', label: 'Locale', hint: 'Language of the checkout page.', input: 'locale' },
    ...ctx.customFields.map((f): ParamDef => ({ key: `custom_field_data.${f.slug}`, label: f.properties.form_label || f.name, hint: `Prefill the custom field “${f.name}”.`, input: 'custom', field: f })),
    { key: 'reference_id', label: 'Reference ID', hint: 'Your own reference, stored in the session’s metadata.', input: 'text' },
    { key: 'utm_source', label: 'UTM source', input: 'text' },
    { key: 'utm_medium', label: 'UTM medium', input: 'text' },
    { key: 'utm_campaign', label: 'UTM campaign', input: 'text' },
    { key: 'utm_content', label: 'UTM content', input: 'text' },
    { key: 'utm_term', label: 'UTM term', input: 'text' },
  ]
}

/** The pay-what-you-want price of the chosen (or first) product, for the amount field's currency and bounds. */
function customPrice(ctx: BuilderContext, productId: string | undefined) {
  const products = productId ? ctx.link.products.filter((p) => p.id === productId) : ctx.link.products
  for (const p of products) {
    const price = p.prices.find((x) => x.amount_type === 'custom' && !x.is_archived)
    if (price && price.amount_type === 'custom') return price
  }
  return undefined
}

export function UrlBuilder({ ctx, state, onChange }: { ctx: BuilderContext; state: BuilderState; onChange: (s: BuilderState) => void }) {
  const id = useId()
  const defs = paramDefs(ctx)
  const url = composeUrl(ctx.link.url, state, defs.map((d) => d.key))
  const set = (key: string, patch: Partial<BuilderParam>) => onChange({ ...state, [key]: { on: false, value: '', ...state[key], ...patch } })
  const pwyw = customPrice(ctx, state.product_id?.on ? state.product_id.value : undefined)
  const currency = pwyw?.price_currency ?? 'usd'
  const codes = ctx.discounts.filter((d) => d.code)

  return (
    <div className="builder" data-testid="url-builder">
      <p className="hint">Tick the parameters to add to the link. Bad values never break the link: Kassa drops them and the buyer still gets a working checkout.</p>
      <div className="builder-output">
        <label htmlFor={`${id}-url`} className="field-label">
          Your link
        </label>
        <div className="url-row">
          <output id={`${id}-url`} className="url-output" data-testid="builder-url" aria-live="polite">
            {url}
          </output>
          <CopyButton text={url} label="Copy link" className="btn btn-primary" />
          <a className="btn" href={url} target="_blank" rel="noopener noreferrer">
            Open
          </a>
        </div>
      </div>
      <ul className="builder-params">
        {defs.map((d) => {
          const p = state[d.key] ?? { on: false, value: '' }
          const inputId = `${id}-${d.key}`
          const onValue = (value: string) => set(d.key, { value, on: true })
          let input
          if (d.input === 'product') {
            input = (
              <select id={inputId} value={p.value} onChange={(e) => onValue(e.target.value)}>
                <option value="">Choose a product</option>
                {ctx.link.products.map((pr) => (
                  <option key={pr.id} value={pr.id}>
                    {pr.name}
                  </option>
                ))}
              </select>
            )
          } else if (d.input === 'locale') {
            input = (
              <select id={inputId} value={p.value} onChange={(e) => onValue(e.target.value)}>
                <option value="">Choose a language</option>
                {LOCALES.map((l) => (
                  <option key={l} value={l}>
                    {localeName(l)} ({l})
                  </option>
                ))}
              </select>
            )
          } else if (d.input === 'amount') {
            // Typed in the currency's main unit; the parameter is in cents.
            const minor = p.value
            input = (
              <>
                <input
                  id={inputId}
                  inputMode="decimal"
                  placeholder={pwyw ? fromMinor(pwyw.preset_amount ?? pwyw.minimum_amount, currency) : '10.00'}
                  defaultValue={minor ? fromMinor(Number(minor), currency) : ''}
                  onChange={(e) => {
                    const v = toMinor(e.target.value, currency)
                    onValue(v === null ? '' : String(v))
                  }}
                  aria-describedby={`${inputId}-hint`}
                />
                <span id={`${inputId}-hint`} className="hint">
                  {minor ? `amount=${minor} (${money(Number(minor), currency)}). ` : ''}
                  {pwyw
                    ? `Between ${money(pwyw.minimum_amount, currency)} and ${pwyw.maximum_amount != null ? money(pwyw.maximum_amount, currency) : 'any amount'}.`
                    : 'Only for pay-what-you-want prices: none of this link’s products has one.'}
                </span>
              </>
            )
          } else if (d.input === 'custom' && d.field && (d.field.type === 'select' || d.field.type === 'checkbox')) {
            const options = d.field.type === 'select' ? (d.field.properties.options ?? []) : [{ value: 'true', label: 'Checked' }, { value: 'false', label: 'Not checked' }]
            input = (
              <select id={inputId} value={p.value} onChange={(e) => onValue(e.target.value)}>
                <option value="">Choose a value</option>
                {options.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            )
          } else if (d.input === 'custom' && d.field && (d.field.type === 'number' || d.field.type === 'date')) {
            input = <input id={inputId} type={d.field.type} value={p.value} onChange={(e) => onValue(e.target.value)} />
          } else {
            input = (
              <input
                id={inputId}
                type={d.input === 'email' ? 'email' : 'text'}
                list={d.input === 'discount' && codes.length ? `${id}-codes` : undefined}
                value={p.value}
                onChange={(e) => onValue(e.target.value)}
              />
            )
          }
          return (
            <li key={d.key} className={p.on ? 'on' : undefined}>
              <input type="checkbox" id={`${inputId}-on`} checked={p.on} onChange={(e) => set(d.key, { on: e.target.checked })} aria-label={`Add ${d.key} to the link`} />
              <div className="builder-param">
                <div className="builder-param-head">
                  <label htmlFor={inputId} className="field-label">
                    {d.label}
                  </label>
                  <code className="param-name">{d.key}</code>
                </div>
                {d.hint && <span className="hint">{d.hint}</span>}
                {input}
              </div>
            </li>
          )
        })}
      </ul>
      {codes.length > 0 && (
        <datalist id={`${id}-codes`}>
          {codes.map((d) => (
            <option key={d.id} value={d.code!}>
              {d.name}
            </option>
          ))}
        </datalist>
      )}
    </div>
  )
}
