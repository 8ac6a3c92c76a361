import type { CheckoutPublic } from '../checkouts/schemas'
import { SUPPORTED_LOCALES, type Locale } from '../lib/locales'
import { addInterval } from '../lib/time'
import type { ProductPrice } from '../products/schemas'
import { countryOptions, formatDate, formatMoney, toMajorInput } from './format'
import { html, raw, STRIPE_JS_URL, type Raw } from './html'
import { t, type MessageKey } from './i18n/index'
import { SCRIPT } from './script'
import { CSS } from './styles'

export interface PageContext {
  locale: Locale
  theme?: 'light' | 'dark'
  /** The CSP nonce of the page's style and script; empty on a page allowed by hash (the cached preview). */
  nonce: string
  /** The script's live refresh: the same markup without style and script, parsed but never shown. */
  fragment?: boolean
  /**
   * Embedded (`?embed=true` on a session whose `embed_origin` is allowed): the compact layout for an overlay
   * iframe, framed by and posting `POLAR_CHECKOUT` messages to exactly this origin.
   */
  embedOrigin?: string
}

/** The query a page's own links and form keep: the forced theme, and the embedded layout. */
export function pageQuery(ctx: PageContext): string {
  const q = [ctx.theme ? `theme=${ctx.theme}` : '', ctx.embedOrigin ? 'embed=true' : ''].filter(Boolean).join('&')
  return q ? `?${q}` : ''
}

export interface FormState {
  /** Field name → message, shown beside the field. */
  errors: Record<string, string>
  /** Shown above the pay button (declines, general failures). */
  formError?: string
  /** What the buyer typed (a re-rendered no-JavaScript post keeps it). */
  values: Record<string, string>
}

const LANGUAGE_NAMES: Record<Locale, string> = {
  en: 'English', nl: 'Nederlands', fr: 'Français', sv: 'Svenska', es: 'Español', de: 'Deutsch', hu: 'Magyar', it: 'Italiano',
  'pt-BR': 'Português (Brasil)', 'pt-PT': 'Português (Portugal)', ko: '한국어', ja: '日本語', tr: 'Türkçe', pl: 'Polski',
}

/**
 * `head`: extra tags after the title (the preview's Open Graph and Twitter tags). `scriptSrc`: an outside script
 * (Stripe.js) loaded, and run, before the page's own.
 */
export function layout(ctx: PageContext, title: string, body: Raw, opts: { script?: string; scriptSrc?: string; bodyAttrs?: Raw; footer?: Raw; head?: Raw } = {}): string {
  // Embedded: no site chrome (footer, language picker), a close button, and the script on every page (it posts the messages).
  const embed = ctx.embedOrigin
  const script = opts.script ?? (embed ? SCRIPT : undefined)
  const bodyAttrs = embed ? html`${opts.bodyAttrs ?? ''} data-embed-origin="${embed}"` : (opts.bodyAttrs ?? '')
  const close = embed ? html`<button type="button" class="k-close" id="k-close" aria-label="${t(ctx.locale, 'close_checkout')}"><span aria-hidden="true">×</span></button>` : ''
  return html`<!doctype html>
<html lang="${ctx.locale}"${ctx.theme ? html` data-theme="${ctx.theme}"` : ''}${embed ? raw(' data-embed') : ''}><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex,nofollow"><meta name="referrer" content="no-referrer"><link rel="icon" href="data:,"><title>${title}</title>${opts.head ?? ''}${ctx.fragment ? '' : ctx.nonce ? html`<style nonce="${ctx.nonce}">${raw(CSS)}</style>` : html`<style>${raw(CSS)}</style>`}</head>
<body${bodyAttrs}>${close}${body}${embed ? '' : (opts.footer ?? '')}${opts.scriptSrc && !ctx.fragment ? html`<script src="${opts.scriptSrc}" nonce="${ctx.nonce}"></script>` : ''}${script && !ctx.fragment ? html`<script nonce="${ctx.nonce}">${raw(script)}</script>` : ''}</body></html>`.html
}

/** The small footer: "Powered by Kassa" and the language picker (a GET form; the script submits it on change). */
export function footer(ctx: PageContext, extra: Record<string, string> = {}): Raw {
  return html`<footer><span>${t(ctx.locale, 'powered_by')}</span><form method="get" class="lang"><label class="sr" for="k-locale">${t(ctx.locale, 'language')}</label><select id="k-locale" name="locale">${SUPPORTED_LOCALES.map(
    (l) => html`<option value="${l}"${l === ctx.locale ? raw(' selected') : ''}>${LANGUAGE_NAMES[l]}</option>`,
  )}</select>${Object.entries(extra).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<noscript><button type="submit">OK</button></noscript></form></footer>`
}

type Interval = 'day' | 'week' | 'month' | 'year'

/** " / mo", or " / 3 months" for a count above one; empty for a one-time product. */
export function recurringSuffix(locale: Locale, interval: Interval | null, count: number | null): string {
  if (!interval) return ''
  if (count && count > 1) return ` / ${count} ${t(locale, `unit_${interval}` as MessageKey)}`
  return ` ${t(locale, `per_${interval}` as MessageKey)}`
}

function billedLabel(locale: Locale, interval: Interval | null, count: number | null): string {
  if (!interval) return t(locale, 'one_time')
  if (count && count > 1) return t(locale, 'billed_every', { count, unit: t(locale, `unit_${interval}` as MessageKey) })
  return t(locale, `billed_${interval}` as MessageKey)
}

function trialLabel(locale: Locale, interval: Interval, count: number): string {
  const key = ({ day: 'trial_days', week: 'trial_weeks', month: 'trial_months', year: 'trial_years' } as const)[interval]
  return t(locale, key, { count })
}

function priceLabel(locale: Locale, price: ProductPrice): string {
  if (price.amount_type === 'fixed') return price.price_amount === 0 ? t(locale, 'free') : formatMoney(price.price_amount, price.price_currency, locale)
  return t(locale, 'minimum_amount', { amount: formatMoney(price.minimum_amount, price.price_currency, locale) })
}

export function isFree(c: CheckoutPublic): boolean {
  return c.product_price?.amount_type === 'fixed' && c.product_price.price_amount === 0
}

/** What the pay button says: what happens when it is pressed. */
export function payLabel(c: CheckoutPublic, locale: Locale): string {
  const p = c.product
  if (c.active_trial_interval && c.active_trial_interval_count) return t(locale, 'start_trial', { trial: trialLabel(locale, c.active_trial_interval, c.active_trial_interval_count) })
  if (c.total_amount === 0) return t(locale, 'get_free')
  const amount = formatMoney(c.total_amount, c.currency, locale)
  if (p?.is_recurring) return t(locale, 'subscribe', { amount: amount + recurringSuffix(locale, p.recurring_interval, p.recurring_interval_count) })
  return t(locale, 'pay', { amount })
}

function discountLabel(c: CheckoutPublic): string {
  const d = c.discount as { name: string; type: string; basis_points?: number } | null
  if (!d) return ''
  return d.type === 'percentage' && d.basis_points != null ? `${d.name} (${+(d.basis_points / 100).toFixed(2)}%)` : d.name
}

/** Headline: the product, its price and interval, or the trial and what follows it. */
export function renderHeadline(c: CheckoutPublic, locale: Locale, now: Date): Raw {
  const p = c.product
  const interval = p?.recurring_interval ?? null
  const suffix = recurringSuffix(locale, interval, p?.recurring_interval_count ?? null)
  if (c.active_trial_interval && c.active_trial_interval_count) {
    const start = addInterval(now, c.active_trial_interval, c.active_trial_interval_count)
    return html`<p class="price">${trialLabel(locale, c.active_trial_interval, c.active_trial_interval_count)}</p><p class="then">${t(locale, 'then_price', {
      price: formatMoney(c.net_amount, c.currency, locale) + suffix,
      date: formatDate(start, locale),
    })}</p>`
  }
  if (isFree(c)) return html`<p class="price">${t(locale, 'free')}</p>`
  return html`<p class="price">${formatMoney(c.net_amount, c.currency, locale)}${suffix ? html`<small>${suffix}</small>` : ''}</p>`
}

/** "Total", or "Monthly"/"Yearly"… for a subscription billed every single interval. */
function totalLabel(c: CheckoutPublic, locale: Locale): string {
  const interval = c.product?.recurring_interval
  return t(locale, interval && c.product?.recurring_interval_count === 1 ? (`total_${interval}` as MessageKey) : 'total')
}

export function renderBreakdown(c: CheckoutPublic, locale: Locale): Raw {
  if (isFree(c)) return html``
  return html`<div class="lines" aria-live="polite"><div class="line"><span>${t(locale, 'subtotal')}</span><span>${formatMoney(c.amount, c.currency, locale, { exact: true })}</span></div>${
    c.discount_amount > 0 ? html`<div class="line discount"><span>${discountLabel(c)}</span><span>−${formatMoney(c.discount_amount, c.currency, locale, { exact: true })}</span></div>` : ''
  }<div class="line"><span>${t(locale, 'taxes')}</span><span>${formatMoney(c.tax_amount ?? 0, c.currency, locale, { exact: true })}</span></div><div class="line total"><span>${totalLabel(c, locale)}</span><span>${formatMoney(c.total_amount, c.currency, locale, { exact: true })}</span></div></div>`
}

function fieldError(id: string, form: FormState): Raw {
  return html`<p class="err" id="${id}-err" role="alert">${form.errors[id] ?? ''}</p>`
}

const invalid = (name: string, form: FormState) => (form.errors[name] ? raw(' aria-invalid="true"') : '')

function renderDiscount(c: CheckoutPublic, locale: Locale, form: FormState): Raw {
  if (!c.allow_discount_codes) return html``
  const d = c.discount as { name: string; code: string | null } | null
  if (d && c.discount_id) {
    return html`<div class="applied" id="k-discount"><span>${d.code ?? d.name}${c.is_discount_applicable ? '' : ''}</span><button type="submit" class="link-btn" name="action" value="remove_discount" formnovalidate>${t(locale, 'remove')}</button></div>`
  }
  const open = Boolean(form.errors.discount_code || form.values.discount_code)
  return html`<details id="k-discount"${open ? raw(' open') : ''}><summary>${t(locale, 'add_discount')}</summary><div class="field"><label class="sr" for="discount_code">${t(locale, 'discount_code')}</label><div class="inline"><input id="discount_code" name="discount_code" autocomplete="off" autocapitalize="characters" value="${form.values.discount_code ?? ''}" placeholder="${t(locale, 'discount_code')}"${invalid('discount_code', form)} aria-describedby="discount_code-err"><button type="submit" name="action" value="apply_discount" formnovalidate>${t(locale, 'apply')}</button></div>${fieldError('discount_code', form)}</div></details>`
}

function renderAmount(c: CheckoutPublic, locale: Locale, form: FormState): Raw {
  const price = c.product_price
  if (price?.amount_type !== 'custom') return html`<div id="k-amount"></div>`
  const value = form.values.amount ?? toMajorInput(c.amount, c.currency)
  const hint = [t(locale, 'minimum_amount', { amount: formatMoney(price.minimum_amount, c.currency, locale) }), price.maximum_amount != null ? t(locale, 'maximum_amount', { amount: formatMoney(price.maximum_amount, c.currency, locale) }) : '']
    .filter(Boolean)
    .join(' · ')
  return html`<div id="k-amount" class="field"><label for="amount">${t(locale, 'name_fair_price')} (${c.currency.toUpperCase()})</label><input id="amount" name="amount" inputmode="decimal" autocomplete="off" value="${value}" data-min="${price.minimum_amount}"${price.maximum_amount != null ? html` data-max="${price.maximum_amount}"` : ''}${invalid('amount', form)} aria-describedby="amount-hint amount-err"><p class="hint" id="amount-hint">${hint}</p>${fieldError('amount', form)}</div>`
}

function renderProducts(c: CheckoutPublic, locale: Locale): Raw {
  if (c.products.length < 2) return html``
  return html`<fieldset id="k-products"><legend>${t(locale, 'choose_product')}</legend>${c.products.map((p) => {
    const price = p.prices.find((pr) => pr.price_currency === c.currency) ?? p.prices[0]
    return html`<label class="choice"><input type="radio" name="product_id" value="${p.id}"${p.id === c.product_id ? raw(' checked') : ''}><span>${p.name}<small>${billedLabel(locale, p.recurring_interval, p.recurring_interval_count)}</small></span><strong>${price ? priceLabel(locale, price) : ''}</strong></label>`
  })}<noscript><button type="submit" name="action" value="update" formnovalidate>OK</button></noscript></fieldset>`
}

/** The left column: who sells what, for how much. */
export function renderSummary(c: CheckoutPublic, locale: Locale, form: FormState, now: Date, embedded = false): Raw {
  // Embedded, the close button stands in for the back link (which would navigate inside the overlay).
  return html`<section class="card summary" aria-labelledby="k-product-name">${
    c.return_url && !embedded ? html`<a class="back" href="${c.return_url}" rel="noopener">← ${t(locale, 'back')}</a>` : ''
  }<p class="org">${c.organization.name}</p><h1 id="k-product-name">${c.product?.name ?? ''}</h1><div id="k-headline">${renderHeadline(c, locale, now)}</div>${renderProducts(c, locale)}${renderAmount(c, locale, form)}<div id="k-breakdown">${renderBreakdown(c, locale)}</div>${renderDiscount(c, locale, form)}${
    c.product?.description ? html`<p class="desc">${c.product.description}</p>` : ''
  }</section>`
}

function renderCustomFields(c: CheckoutPublic, locale: Locale, form: FormState): Raw {
  const fields = c.attached_custom_fields ?? []
  if (!fields.length) return html``
  return html`<fieldset><legend>${t(locale, 'additional_info')}</legend>${fields.map(({ custom_field: f, required }) => {
    const name = `custom_field_data.${f.slug}`
    const id = `cf-${f.slug}`
    const p = f.properties as Record<string, unknown>
    const label = (p.form_label as string | undefined) ?? f.name
    const stored = c.custom_field_data?.[f.slug]
    const value = form.values[name] ?? (stored === null || stored === undefined ? '' : String(stored))
    const req = required ? raw(' required aria-required="true"') : ''
    const labelHtml = html`${label}${required ? '' : html` <span class="opt">(${t(locale, 'optional')})</span>`}`
    const help = p.form_help_text ? html`<p class="hint" id="${id}-hint">${p.form_help_text as string}</p>` : ''
    const described = raw(` aria-describedby="${id}-hint ${id}-err"`)
    const placeholder = p.form_placeholder ? html` placeholder="${p.form_placeholder as string}"` : ''
    const err = html`<p class="err" id="${id}-err" role="alert">${form.errors[name] ?? ''}</p>`
    switch (f.type) {
      case 'checkbox':
        return html`<div class="field"><label class="check"><input type="checkbox" id="${id}" name="${name}" value="true"${value === 'true' ? raw(' checked') : ''}${req}${invalid(name, form)}${described}><span>${labelHtml}</span></label>${help}${err}</div>`
      case 'select':
        return html`<div class="field"><label for="${id}">${labelHtml}</label><select id="${id}" name="${name}"${req}${invalid(name, form)}${described}><option value="">${(p.form_placeholder as string | undefined) ?? t(locale, 'choose')}</option>${((p.options as { value: string; label: string }[]) ?? []).map(
          (o) => html`<option value="${o.value}"${o.value === value ? raw(' selected') : ''}>${o.label}</option>`,
        )}</select>${help}${err}</div>`
      case 'number':
        return html`<div class="field"><label for="${id}">${labelHtml}</label><input type="number" id="${id}" name="${name}" value="${value}" step="1"${p.ge != null ? html` min="${p.ge as number}"` : ''}${p.le != null ? html` max="${p.le as number}"` : ''}${placeholder}${req}${invalid(name, form)}${described}>${help}${err}</div>`
      case 'date':
        return html`<div class="field"><label for="${id}">${labelHtml}</label><input type="date" id="${id}" name="${name}" value="${value}"${req}${invalid(name, form)}${described}>${help}${err}</div>`
      default:
        return p.textarea
          ? html`<div class="field"><label for="${id}">${labelHtml}</label><textarea id="${id}" name="${name}" rows="3"${p.max_length != null ? html` maxlength="${p.max_length as number}"` : ''}${placeholder}${req}${invalid(name, form)}${described}>${value}</textarea>${help}${err}</div>`
          : html`<div class="field"><label for="${id}">${labelHtml}</label><input type="text" id="${id}" name="${name}" value="${value}"${p.max_length != null ? html` maxlength="${p.max_length as number}"` : ''}${placeholder}${req}${invalid(name, form)}${described}>${help}${err}</div>`
    }
  })}</fieldset>`
}

function input(locale: Locale, form: FormState, o: { name: string; label: MessageKey; value?: string | null; type?: string; autocomplete: string; required?: boolean; extra?: Raw | string }): Raw {
  const id = o.name.replace(/\./g, '-')
  const value = form.values[o.name] ?? o.value ?? ''
  return html`<div class="field"><label for="${id}">${t(locale, o.label)}${o.required === false ? html` <span class="opt">(${t(locale, 'optional')})</span>` : ''}</label><input id="${id}" name="${o.name}" type="${o.type ?? 'text'}" autocomplete="${o.autocomplete}" value="${value}"${o.required ? raw(' required aria-required="true"') : ''}${invalid(o.name, form)} aria-describedby="${id}-err"${o.extra ?? ''}><p class="err" id="${id}-err" role="alert">${form.errors[o.name] ?? ''}</p></div>`
}

function renderBilling(c: CheckoutPublic, locale: Locale, form: FormState): Raw {
  if (!c.require_billing_address) return html``
  const a = c.customer_billing_address
  const country = form.values['customer_billing_address.country'] ?? a?.country ?? ''
  const name = 'customer_billing_address.country'
  return html`<fieldset><legend>${t(locale, 'billing_address')}</legend><div class="field"><label for="customer_billing_address-country">${t(locale, 'country')}</label><select id="customer_billing_address-country" name="${name}" autocomplete="country" required aria-required="true"${invalid(name, form)} aria-describedby="customer_billing_address-country-err"><option value=""></option>${countryOptions(locale).map(
    ([code, label]) => html`<option value="${code}"${code === country ? raw(' selected') : ''}>${label}</option>`,
  )}</select><p class="err" id="customer_billing_address-country-err" role="alert">${form.errors[name] ?? ''}</p></div>${input(locale, form, { name: 'customer_billing_address.line1', label: 'address_line1', value: a?.line1, autocomplete: 'address-line1', required: true })}${input(locale, form, {
    name: 'customer_billing_address.line2',
    label: 'address_line2',
    value: a?.line2,
    autocomplete: 'address-line2',
    required: false,
  })}<div class="row">${input(locale, form, { name: 'customer_billing_address.postal_code', label: 'postal_code', value: a?.postal_code, autocomplete: 'postal-code', required: true })}${input(locale, form, {
    name: 'customer_billing_address.city',
    label: 'city',
    value: a?.city,
    autocomplete: 'address-level2',
    required: true,
  })}</div>${input(locale, form, { name: 'customer_billing_address.state', label: 'state', value: a?.state, autocomplete: 'address-level1', required: false })}</fieldset>`
}

/** What a Stripe session's page is paid with: the organization's publishable key (never the secret key). */
export interface StripePage {
  publishableKey: string
}

/**
 * The Payment Element's options (`stripe.elements({ mode, amount, currency, setupFutureUsage })`), from the same
 * session the pay button describes: `payment` when money is due now, `setup` when the form only saves the card
 * (a trial, a total of 0 on a product that still needs one); a subscription's first payment saves the card for
 * the renewals (`off_session`).
 */
export function stripeElementOptions(c: CheckoutPublic, stripe: StripePage): { publishable_key: string; mode: 'payment' | 'setup'; currency: string; amount?: number; setup_future_usage?: 'off_session' } {
  const trial = Boolean(c.active_trial_interval && c.active_trial_interval_count)
  if (trial || c.total_amount === 0) return { publishable_key: stripe.publishableKey, mode: 'setup', currency: c.currency }
  return { publishable_key: stripe.publishableKey, mode: 'payment', currency: c.currency, amount: c.total_amount, ...(c.product?.is_recurring ? { setup_future_usage: 'off_session' as const } : {}) }
}

const json = (value: unknown) => raw(JSON.stringify(value).replace(/</g, '\\u003c'))

function renderCard(c: CheckoutPublic, locale: Locale, form: FormState, stripe?: StripePage): Raw {
  if (!c.is_payment_form_required) return html`<div id="k-card"></div>`
  if (stripe) {
    // The Payment Element is mounted here by the script; its options travel with the markup, so the live refresh
    // (a product switch, a discount) brings the new amount and mode. Confirmation-token errors land in card_number-err,
    // as the sandbox card's do.
    return html`<div id="k-card"><fieldset><legend>${t(locale, 'payment')}</legend><div id="k-payment-element" class="k-pe"></div><p class="err" id="card_number-err" role="alert">${form.errors.card_number ?? ''}</p><noscript><p class="alert">${t(locale, 'card_needs_js')}</p></noscript>${
      stripe.publishableKey.startsWith('pk_test_') ? html`<p class="hint">${t(locale, 'test_mode')}</p>` : ''
    }</fieldset><script type="application/json" id="k-stripe">${json(stripeElementOptions(c, stripe))}</script></div>`
  }
  return html`<div id="k-card"><fieldset><legend>${t(locale, 'payment')}</legend>${input(locale, form, { name: 'card_number', label: 'card_number', autocomplete: 'cc-number', required: true, extra: raw(' inputmode="numeric" placeholder="1234 1234 1234 1234" maxlength="23"') })}<div class="card-row">${input(
    locale,
    form,
    { name: 'card_expiry', label: 'card_expiry', autocomplete: 'cc-exp', required: true, extra: raw(' inputmode="numeric" placeholder="MM / YY" maxlength="7"') },
  )}${input(locale, form, { name: 'card_cvc', label: 'card_cvc', autocomplete: 'cc-csc', required: true, extra: raw(' inputmode="numeric" placeholder="123" maxlength="4"') })}</div>${input(locale, form, {
    name: 'cardholder_name',
    label: 'cardholder_name',
    autocomplete: 'cc-name',
    required: false,
  })}<p class="hint">${t(locale, 'test_mode')}</p></fieldset></div>`
}

export function renderPayArea(c: CheckoutPublic, locale: Locale, form: FormState): Raw {
  return html`<div class="paybar" id="k-paybar"><p class="alert" id="k-form-error" role="alert">${form.formError ?? ''}</p><div class="sum" id="k-sum"><span>${totalLabel(c, locale)}</span><span id="k-total">${formatMoney(c.total_amount, c.currency, locale, { exact: true })}</span></div><button type="submit" class="pay" id="k-pay" name="action" value="pay"><span class="spin" aria-hidden="true"></span><span id="k-pay-label">${payLabel(c, locale)}</span></button></div>`
}

export function amountError(c: CheckoutPublic, locale: Locale): string {
  const price = c.product_price
  if (price?.amount_type !== 'custom') return t(locale, 'fix_errors')
  const min = formatMoney(price.minimum_amount, c.currency, locale, { exact: true })
  return price.maximum_amount != null
    ? t(locale, 'amount_between', { min, max: formatMoney(price.maximum_amount, c.currency, locale, { exact: true }) })
    : t(locale, 'amount_at_least', { min })
}

/** The hosted checkout page. */
export function renderCheckoutPage(c: CheckoutPublic, ctx: PageContext, form: FormState, now: Date, opts: { script: string; action: string; stripe?: StripePage }): string {
  const { locale } = ctx
  // Enter in a field submits with the form's first submit button: without script, the hidden pay button
  // in <noscript> comes first, so Enter pays rather than applying a discount or switching product.
  const body = html`<main class="wrap"><form method="post" action="${opts.action}" id="k-form" novalidate><input type="hidden" name="locale" value="${locale}"><noscript><button type="submit" name="action" value="pay" hidden></button></noscript><div class="grid">${renderSummary(c, locale, form, now, Boolean(ctx.embedOrigin))}<section class="card" aria-label="${t(locale, 'checkout')}"><fieldset><legend>${t(locale, 'contact')}</legend>${input(locale, form, {
    name: 'customer_email',
    label: 'email',
    type: 'email',
    value: c.customer_email,
    autocomplete: 'email',
    required: true,
  })}${input(locale, form, { name: 'customer_name', label: 'name', value: c.customer_name, autocomplete: 'name', required: false })}</fieldset>${renderBilling(c, locale, form)}<div id="k-fields">${renderCustomFields(c, locale, form)}</div>${renderCard(c, locale, form, opts.stripe)}${renderPayArea(c, locale, form)}<p class="fine">${t(locale, 'small_print')}</p></section></div></form></main>`
  const bodyAttrs = html` data-secret="${c.client_secret}" data-currency="${c.currency}" data-locale="${locale}"`
  const messages = {
    processing: t(locale, 'processing'),
    field_required: t(locale, 'field_required'),
    email_invalid: t(locale, 'email_invalid'),
    card_invalid: t(locale, 'card_invalid'),
    expiry_invalid: t(locale, 'expiry_invalid'),
    cvc_invalid: t(locale, 'cvc_invalid'),
    discount_invalid: t(locale, 'discount_invalid'),
    discount_gone: t(locale, 'discount_gone'),
    card_declined: t(locale, 'card_declined'),
    payment_failed: t(locale, 'payment_failed'),
    something_wrong: t(locale, 'something_wrong'),
    fix_errors: t(locale, 'fix_errors'),
    amount_error: amountError(c, locale),
    ...(opts.stripe ? { stripe_unavailable: t(locale, 'stripe_unavailable'), verification_failed: t(locale, 'verification_failed') } : {}),
  }
  return layout(ctx, `${c.product?.name ?? t(locale, 'checkout')} · ${c.organization.name}`, html`${body}<script type="application/json" id="k-msgs">${json(messages)}</script>`, {
    script: opts.script,
    ...(opts.stripe ? { scriptSrc: STRIPE_JS_URL } : {}),
    bodyAttrs,
    footer: footer(ctx),
  })
}

/** A Stripe session whose intent waits on the buyer (3-D Secure): what the page needs to run `stripe.handleNextAction`. */
export interface NextAction {
  publishableKey: string
  clientSecret: string
}

/**
 * The page of a confirmed session, polling until it settles. `next`: the buyer left 3-D Secure unfinished (a reload,
 * a closed prompt); a "Complete verification" button runs it again with Stripe.js (loaded on this page then).
 */
export function renderProcessing(c: CheckoutPublic, ctx: PageContext, script: string, next?: NextAction): string {
  const { locale } = ctx
  const body = next
    ? html`<main class="center"><div class="card" id="k-verify-card" aria-live="polite"><h1 id="k-state-title">${t(locale, 'verification_title')}</h1><p id="k-state-text">${t(locale, 'verification_text')}</p><p class="alert" id="k-verify-error" role="alert"></p><button type="button" class="pay" id="k-verify"><span class="spin" aria-hidden="true"></span><span>${t(locale, 'complete_verification')}</span></button><noscript><p class="alert">${t(locale, 'card_needs_js')}</p></noscript></div></main><script type="application/json" id="k-next">${json({
        publishable_key: next.publishableKey, intent_client_secret: next.clientSecret, locale: locale === 'pt-PT' ? 'pt' : locale,
        msgs: { processing: t(locale, 'processing'), processing_text: t(locale, 'processing_text'), something_wrong: t(locale, 'something_wrong'), verification_failed: t(locale, 'verification_failed'), stripe_unavailable: t(locale, 'stripe_unavailable') },
      })}</script>`
    : html`<main class="center"><div class="card" role="status" aria-live="polite"><p class="spin" aria-hidden="true"></p><h1>${t(locale, 'processing')}</h1><p>${t(locale, 'processing_text')}</p><noscript><meta http-equiv="refresh" content="2"></noscript></div></main>`
  return layout(ctx, t(locale, next ? 'verification_title' : 'processing'), body, { script, ...(next ? { scriptSrc: STRIPE_JS_URL } : {}), bodyAttrs: html` data-secret="${c.client_secret}" data-poll="1"` })
}

export interface ConfirmationDetails {
  orderId: string | null
  trialEnd: string | null
}

export function renderConfirmation(c: CheckoutPublic, ctx: PageContext, details: ConfirmationDetails): string {
  const { locale } = ctx
  const p = c.product
  const paid = details.trialEnd ? 0 : c.total_amount
  return layout(
    ctx,
    t(locale, 'thank_you'),
    html`<main class="center"><div class="card"><p class="ok-icon" aria-hidden="true">✓</p><h1>${t(locale, 'thank_you')}</h1><p>${c.organization.name}</p><dl><dt>${t(locale, 'order_summary')}</dt><dd>${p?.name ?? ''}</dd><dt>${t(locale, 'amount_paid')}</dt><dd>${formatMoney(paid, c.currency, locale, { exact: true })}</dd>${
      p?.is_recurring ? html`<dt>${billedLabel(locale, p.recurring_interval, p.recurring_interval_count)}</dt><dd>${formatMoney(c.net_amount, c.currency, locale) + recurringSuffix(locale, p.recurring_interval, p.recurring_interval_count)}</dd>` : ''
    }<dt>${t(locale, 'receipt_email')}</dt><dd>${c.customer_email ?? ''}</dd>${details.orderId ? html`<dt>${t(locale, 'order_id')}</dt><dd id="k-order-id">${details.orderId}</dd>` : ''}</dl>${
      details.trialEnd ? html`<p>${t(locale, 'trial_ends', { date: formatDate(details.trialEnd, locale) })}</p>` : ''
    }</div></main>`,
    { footer: footer(ctx) },
  )
}

export function renderMessage(ctx: PageContext, title: string, text: string, action?: { href: string; label: string }, org?: string): string {
  return layout(
    ctx,
    title,
    html`<main class="center"><div class="card">${org ? html`<p class="org">${org}</p>` : ''}<h1>${title}</h1><p>${text}</p>${action ? html`<a class="btn" href="${action.href}">${action.label}</a>` : ''}</div></main>`,
    { footer: footer(ctx) },
  )
}
