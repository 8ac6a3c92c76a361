/**
 * Checkout arithmetic, pure: the server owns every total. Amounts are integers in the currency's
 * minor unit. Percentage discounts round half up to the cent: 20% of 999 is 199.8 → 200.
 */

export interface PriceTerms {
  amount_type: 'fixed' | 'custom'
  price_currency: string
  price_amount: number | null
  minimum_amount: number | null
  maximum_amount: number | null
  preset_amount: number | null
}

export interface DiscountTerms {
  id: string
  type: 'fixed' | 'percentage'
  basis_points: number | null
  amount: number | null
  currency: string | null
  starts_at: Date | string | null
  ends_at: Date | string | null
  max_redemptions: number | null
  redemptions_count: number
  /** Empty: any product. */
  product_ids: string[]
}

export interface Amounts {
  amount: number
  discount_amount: number
  net_amount: number
  tax_amount: number
  total_amount: number
}

/** The amount a pay-what-you-want price starts at: its preset, else its minimum. */
export function defaultCustomAmount(price: PriceTerms): number {
  return price.preset_amount ?? price.minimum_amount ?? 0
}

/** Whether `amount` is acceptable for the price (fixed prices take only their own amount). */
export function isAmountAllowed(price: PriceTerms, amount: number): boolean {
  if (!Number.isSafeInteger(amount) || amount < 0) return false
  if (price.amount_type === 'fixed') return amount === price.price_amount
  if (amount < (price.minimum_amount ?? 0)) return false
  return price.maximum_amount == null || amount <= price.maximum_amount
}

/** The price's amount for this session: fixed, or the buyer's chosen amount (kept within bounds). */
export function baseAmount(price: PriceTerms, chosen: number | null | undefined): number {
  if (price.amount_type === 'fixed') return price.price_amount ?? 0
  return chosen != null && isAmountAllowed(price, chosen) ? chosen : defaultCustomAmount(price)
}

/**
 * Can this discount be redeemed now on this product and currency? The window is [starts_at, ends_at],
 * both ends included, as Polar's `is_redeemable_discount` and `isDiscountRedeemable` in discounts.
 */
export function isDiscountApplicable(discount: DiscountTerms, productId: string, currency: string, now: Date): boolean {
  if (discount.starts_at && new Date(discount.starts_at).getTime() > now.getTime()) return false
  if (discount.ends_at && new Date(discount.ends_at).getTime() < now.getTime()) return false
  if (discount.max_redemptions != null && discount.redemptions_count >= discount.max_redemptions) return false
  if (discount.product_ids.length > 0 && !discount.product_ids.includes(productId)) return false
  if (discount.type === 'fixed' && discount.currency !== currency) return false
  return true
}

export function discountAmount(discount: Pick<DiscountTerms, 'type' | 'basis_points' | 'amount'>, amount: number): number {
  if (amount <= 0) return 0
  if (discount.type === 'percentage') {
    const bp = discount.basis_points ?? 0
    return Math.min(amount, Math.floor((amount * bp + 5000) / 10000))
  }
  return Math.min(amount, discount.amount ?? 0)
}

/** Totals for an amount and an (already applicable, or null) discount. Tax is 0 for now. */
export function computeAmounts(amount: number, discount: Pick<DiscountTerms, 'type' | 'basis_points' | 'amount'> | null): Amounts {
  const d = discount ? discountAmount(discount, amount) : 0
  const net = amount - d
  return { amount, discount_amount: d, net_amount: net, tax_amount: 0, total_amount: net }
}

/** The smallest non-zero amount a card processor takes, per currency (Polar's `kit/currency.py`; 50 otherwise). */
const CURRENCY_MINIMUM: Record<string, number> = { gbp: 40, jpy: 80 }
export const currencyMinimum = (currency: string) => CURRENCY_MINIMUM[currency.toLowerCase()] ?? 50
/** The largest amount one price may charge (Polar's `MAXIMUM_PRICE_PER_CURRENCY_DEFAULT`). */
export const CURRENCY_MAXIMUM = 99_999_999

const money = (amount: number, currency: string) => {
  const cur = currency.toUpperCase()
  const f = new Intl.NumberFormat('en-US', { style: 'currency', currency: cur })
  return f.format(amount / 10 ** (f.resolvedOptions().maximumFractionDigits ?? 2))
}

/**
 * Why a pay-what-you-want amount is refused, in Polar's words and order (`product/custom_price.py`
 * `validate_custom_price_amount`), or null when it is fine: the price's bounds, then the currency's.
 */
export function customAmountIssue(price: PriceTerms, amount: number): { type: string; msg: string; ctx: Record<string, unknown> } | null {
  if (amount < (price.minimum_amount ?? 0)) return { type: 'greater_than_equal', msg: 'Amount is below minimum.', ctx: { ge: price.minimum_amount ?? 0 } }
  const min = currencyMinimum(price.price_currency)
  if (amount > 0 && amount < min) return { type: 'invalid_amount', msg: `Amount must be 0 or at least ${money(min, price.price_currency)}.`, ctx: { allowed: [0], ge: min } }
  if (price.maximum_amount != null && amount > price.maximum_amount) return { type: 'less_than_equal', msg: 'Amount is above maximum.', ctx: { le: price.maximum_amount } }
  if (amount > CURRENCY_MAXIMUM) return { type: 'less_than_equal', msg: `Amount must be at most ${money(CURRENCY_MAXIMUM, price.price_currency)}.`, ctx: { le: CURRENCY_MAXIMUM } }
  return null
}
