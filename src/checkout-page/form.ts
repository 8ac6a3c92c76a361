import type { z } from 'zod'
import { CheckoutConfirm, CheckoutUpdatePublic, type CheckoutPublic } from '../checkouts/schemas'
import type { ValidationIssue } from '../http/errors'
import { toValidationIssues } from '../http/validation'
import type { Locale } from '../lib/locales'
import { sandboxTokenForCard } from '../payments/processor'
import { parseMajorAmount } from './format'
import { t } from './i18n/index'
import { amountError, type FormState } from './render'

type FormBody = Record<string, string | string[] | undefined>

export type FormAction = 'pay' | 'apply_discount' | 'remove_discount' | 'update'

/** A posted checkout form, read into the client API's own input and checked by the same schemas. */
export type ParsedForm =
  | { ok: true; action: 'pay'; input: CheckoutConfirm; values: Record<string, string> }
  | { ok: true; action: Exclude<FormAction, 'pay'>; input: CheckoutUpdatePublic; values: Record<string, string> }
  | { ok: false; action: FormAction; errors: FormState['errors']; values: Record<string, string> }

const ADDRESS_KEYS = ['line1', 'line2', 'city', 'postal_code', 'state'] as const
const FIELD_PREFIX = 'custom_field_data.'

/**
 * The no-JavaScript form post → `CheckoutConfirm` (pay) or `CheckoutUpdatePublic` (the other buttons),
 * parsed by the very schemas the JSON client endpoints use, so both paths accept exactly the same input.
 * What the form adds on its own is only what a form has and JSON does not: an amount typed in major
 * units, and the sandbox card fields, which become a confirmation token.
 */
export function parseCheckoutForm(body: FormBody, checkout: CheckoutPublic, locale: Locale, now: Date): ParsedForm {
  // PostgreSQL stores no NUL character: a posted one is dropped rather than failing the save.
  const get = (k: string) => {
    const v = body[k]
    return (Array.isArray(v) ? v[0] : v)?.replace(/\u0000/g, '').trim()
  }
  const values: Record<string, string> = {}
  for (const [k, v] of Object.entries(body)) if (!k.startsWith('card_') && v !== undefined) values[k] = String(Array.isArray(v) ? v[0] : v)
  const posted = get('action')
  const action: FormAction = posted === 'apply_discount' || posted === 'remove_discount' || posted === 'update' ? posted : 'pay'

  const raw: Record<string, unknown> = {}
  const errors: FormState['errors'] = {}
  if (get('product_id')) raw.product_id = get('product_id')
  if (get('locale')) raw.locale = get('locale')
  const amount = get('amount')
  if (amount) {
    const minor = parseMajorAmount(amount, checkout.currency)
    if (minor === undefined) errors.amount = amountError(checkout, locale)
    else raw.amount = minor
  }
  if (action === 'apply_discount') raw.discount_code = get('discount_code') ?? ''
  if (action === 'remove_discount') raw.discount_code = null
  if (get('customer_email') !== undefined) raw.customer_email = get('customer_email') || null
  if (get('customer_name') !== undefined) raw.customer_name = get('customer_name') || null
  const fields: Record<string, string | null> = {}
  for (const k of Object.keys(body)) if (k.startsWith(FIELD_PREFIX)) fields[k.slice(FIELD_PREFIX.length)] = get(k) || null
  if (Object.keys(fields).length) raw.custom_field_data = fields
  const country = get('customer_billing_address.country')
  if (country) {
    const address: Record<string, string> = { country }
    for (const k of ADDRESS_KEYS) {
      const v = get(`customer_billing_address.${k}`)
      if (v) address[k] = v
    }
    raw.customer_billing_address = address
  }
  if (action === 'pay' && get('card_number') !== undefined) {
    const token = sandboxTokenForCard(get('card_number') ?? '')
    if (!token) errors.card_number = t(locale, 'card_invalid')
    else raw.confirmation_token_id = token
    if (!isFutureExpiry(get('card_expiry') ?? '', now)) errors.card_expiry = t(locale, 'expiry_invalid')
    if (!/^\d{3,4}$/.test(get('card_cvc') ?? '')) errors.card_cvc = t(locale, 'cvc_invalid')
  }

  const schema: z.ZodType = action === 'pay' ? CheckoutConfirm : CheckoutUpdatePublic
  const parsed = schema.safeParse(raw)
  if (!parsed.success) Object.assign(errors, formErrors(toValidationIssues(parsed.error, 'body', raw), checkout, locale), errors)
  if (Object.keys(errors).length || !parsed.success) return { ok: false, action, errors, values }
  return action === 'pay'
    ? { ok: true, action, input: parsed.data as CheckoutConfirm, values }
    : { ok: true, action, input: parsed.data as CheckoutUpdatePublic, values }
}

/** `MM/YY` (or `MMYY`, `MM / YY`) of a month not yet over. */
function isFutureExpiry(input: string, now: Date): boolean {
  const m = /^(\d{2})\s{0,3}\/?\s{0,3}(\d{2})$/.exec(input)
  if (!m) return false
  const month = Number(m[1])
  return month >= 1 && month <= 12 && new Date(Date.UTC(2000 + Number(m[2]), month, 1)) > now
}

/**
 * A 422's issues (from the schemas or from the checkout's rules) → messages beside the form's fields, in
 * the buyer's language. Field names are the form's: `customer_billing_address.city`, `custom_field_data.size`.
 */
export function formErrors(issues: ValidationIssue[], c: CheckoutPublic, locale: Locale): FormState['errors'] {
  const out: FormState['errors'] = {}
  for (const issue of issues) {
    const loc = issue.loc.slice(1).map(String)
    const name =
      loc[0] === 'confirmation_token_id' ? 'card_number'
      : loc[0] === 'discount_id' ? 'discount_code'
      : loc.join('.') === 'customer_billing_address' ? (issue.msg.includes('state') || issue.msg.includes('subdivision') ? 'customer_billing_address.state' : 'customer_billing_address.line1')
      : loc.join('.')
    if (out[name]) continue
    if (loc[0] === 'confirmation_token_id') out[name] = t(locale, 'card_invalid')
    else if (loc[0] === 'discount_id') out[name] = t(locale, 'discount_gone')
    else if (loc[0] === 'discount_code') out[name] = t(locale, 'discount_invalid')
    else if (loc[0] === 'amount') out[name] = amountError(c, locale)
    else if (issue.type === 'missing' || issue.msg === 'Full billing address is required.') out[name] = t(locale, 'field_required')
    else if (loc[0] === 'customer_email') out[name] = t(locale, 'email_invalid')
    else if (issue.type === 'string_too_long') out[name] = t(locale, 'value_too_long')
    else out[name] = t(locale, 'value_invalid')
  }
  return out
}
