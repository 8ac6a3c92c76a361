import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  baseAmount,
  computeAmounts,
  defaultCustomAmount,
  discountAmount,
  isAmountAllowed,
  isDiscountApplicable,
  type DiscountTerms,
  type PriceTerms,
} from '../src/checkouts/pricing'

const MAX = 99_999_999 // the largest amount the API accepts

const amountArb = fc.integer({ min: 0, max: MAX })
const bpArb = fc.integer({ min: 0, max: 10_000 })
const percentage = (basis_points: number) => ({ type: 'percentage' as const, basis_points, amount: null })
const fixed = (amount: number) => ({ type: 'fixed' as const, basis_points: null, amount })
const discountArb = fc.oneof(bpArb.map(percentage), amountArb.map(fixed))

/** Half-up rounding of amount × bp / 10000, in exact integer arithmetic. */
function halfUp(amount: number, bp: number): number {
  const n = BigInt(amount) * BigInt(bp)
  const q = n / 10_000n
  return Number(n % 10_000n >= 5_000n ? q + 1n : q)
}

const fixedPrice = (price_amount: number): PriceTerms => ({
  amount_type: 'fixed',
  price_currency: 'usd',
  price_amount,
  minimum_amount: null,
  maximum_amount: null,
  preset_amount: null,
})
const customPrice = (minimum_amount: number | null, maximum_amount: number | null, preset_amount: number | null): PriceTerms => ({
  amount_type: 'custom',
  price_currency: 'usd',
  price_amount: null,
  minimum_amount,
  maximum_amount,
  preset_amount,
})

/** A custom price whose bounds make sense: min ≤ preset ≤ max when they are set. */
const customPriceArb = fc
  .tuple(fc.option(amountArb, { nil: null }), fc.option(amountArb, { nil: null }), fc.option(amountArb, { nil: null }))
  .map(([a, b, c]) => {
    const [min, max] = a !== null && b !== null && a > b ? [b, a] : [a, b]
    let preset = c
    if (preset !== null && min !== null && preset < min) preset = min
    if (preset !== null && max !== null && preset > max) preset = max
    return customPrice(min, max, preset)
  })

describe('discountAmount and computeAmounts', () => {
  it('0 ≤ discount ≤ amount; net = amount − discount; total = net + tax', () => {
    fc.assert(
      fc.property(amountArb, fc.option(discountArb, { nil: null }), (amount, discount) => {
        const a = computeAmounts(amount, discount)
        expect(a.amount).toBe(amount)
        expect(a.discount_amount).toBeGreaterThanOrEqual(0)
        expect(a.discount_amount).toBeLessThanOrEqual(amount)
        expect(a.net_amount).toBe(amount - a.discount_amount)
        expect(a.tax_amount).toBe(0)
        expect(a.total_amount).toBe(a.net_amount + a.tax_amount)
        for (const v of Object.values(a)) expect(Number.isSafeInteger(v)).toBe(true)
        if (discount === null) expect(a.discount_amount).toBe(0)
      }),
      { numRuns: 2000 },
    )
  })

  it('a percentage rounds half up to the cent', () => {
    fc.assert(
      fc.property(amountArb, bpArb, (amount, bp) => {
        expect(discountAmount(percentage(bp), amount)).toBe(halfUp(amount, bp))
      }),
      { numRuns: 5000 },
    )
  })

  it('a percentage is monotonic in the amount and in the rate, 0% is nothing and 100% is everything', () => {
    fc.assert(
      fc.property(amountArb, amountArb, bpArb, bpArb, (a1, a2, b1, b2) => {
        const [lo, hi] = a1 <= a2 ? [a1, a2] : [a2, a1]
        const [blo, bhi] = b1 <= b2 ? [b1, b2] : [b2, b1]
        expect(discountAmount(percentage(b1), lo)).toBeLessThanOrEqual(discountAmount(percentage(b1), hi))
        expect(discountAmount(percentage(blo), a1)).toBeLessThanOrEqual(discountAmount(percentage(bhi), a1))
        expect(discountAmount(percentage(0), a1)).toBe(0)
        expect(discountAmount(percentage(10_000), a1)).toBe(a1)
      }),
    )
  })

  it.each([
    // [basis points, amount, expected discount]  (exact value in the comment)
    [2000, 999, 200], // 199.8
    [2000, 1200, 240], // 240
    [3333, 1000, 333], // 333.3
    [3333, 999, 333], // 332.9667
    [3333, 3, 1], // 0.9999
    [3333, 1, 0], // 0.3333
    [5000, 1, 1], // 0.5: half goes up
    [5000, 3, 2], // 1.5
    [5000, 5, 3], // 2.5 (not banker's rounding)
    [2500, 2, 1], // 0.5
    [1000, 5, 1], // 0.5
    [1000, 4, 0], // 0.4
    [1250, 1204, 151], // 150.5
    [1250, 1196, 150], // 149.5
    [1, 5000, 1], // 0.5
    [1, 4999, 0], // 0.4999
    [1, 15_000, 2], // 1.5
    [6667, 100, 67], // 66.67
    [9999, 1, 1], // 0.9999
    [9999, MAX, 99_989_999], // 99 989 999.0001
    [10_000, 999, 999],
    [0, 999, 0],
    [2000, 0, 0],
  ])('%d basis points of %d → %d', (bp, amount, expected) => {
    expect(discountAmount(percentage(bp), amount)).toBe(expected)
    expect(computeAmounts(amount, percentage(bp))).toEqual({
      amount,
      discount_amount: expected,
      net_amount: amount - expected,
      tax_amount: 0,
      total_amount: amount - expected,
    })
  })

  it('a fixed discount takes its amount off, capped at the price', () => {
    fc.assert(
      fc.property(amountArb, amountArb, (amount, off) => {
        expect(discountAmount(fixed(off), amount)).toBe(Math.min(amount, off))
        expect(computeAmounts(amount, fixed(off)).total_amount).toBe(Math.max(0, amount - off))
      }),
      { numRuns: 2000 },
    )
    expect(computeAmounts(1000, fixed(1500))).toEqual({ amount: 1000, discount_amount: 1000, net_amount: 0, tax_amount: 0, total_amount: 0 })
    expect(computeAmounts(1000, fixed(1000)).total_amount).toBe(0)
    expect(computeAmounts(1000, fixed(999)).total_amount).toBe(1)
    expect(computeAmounts(0, fixed(500)).discount_amount).toBe(0)
    expect(computeAmounts(1000, { type: 'fixed', basis_points: null, amount: null }).discount_amount).toBe(0)
  })
})

describe('isAmountAllowed, baseAmount and defaultCustomAmount', () => {
  it('a fixed price takes only its own amount, whatever is chosen', () => {
    fc.assert(
      fc.property(amountArb, fc.option(fc.integer({ min: -10, max: MAX }), { nil: null }), (price, chosen) => {
        const terms = fixedPrice(price)
        expect(baseAmount(terms, chosen)).toBe(price)
        expect(isAmountAllowed(terms, price)).toBe(true)
        if (chosen !== null) expect(isAmountAllowed(terms, chosen)).toBe(chosen === price)
      }),
    )
    expect(baseAmount(fixedPrice(0), 500)).toBe(0)
  })

  it('a custom price allows exactly the whole numbers within [minimum, maximum]', () => {
    fc.assert(
      fc.property(customPriceArb, fc.integer({ min: -1000, max: MAX + 1000 }), (price, amount) => {
        const inside = amount >= (price.minimum_amount ?? 0) && (price.maximum_amount === null || amount <= price.maximum_amount)
        expect(isAmountAllowed(price, amount)).toBe(inside)
      }),
      { numRuns: 3000 },
    )
  })

  it('rejects non-integers, negatives and unsafe numbers', () => {
    const open = customPrice(null, null, null)
    for (const bad of [-1, 0.5, 100.01, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) expect(isAmountAllowed(open, bad)).toBe(false)
    expect(isAmountAllowed(open, 0)).toBe(true)
  })

  it('the chosen amount counts when allowed; otherwise the preset, else the minimum, else 0', () => {
    fc.assert(
      fc.property(customPriceArb, fc.option(fc.integer({ min: -10, max: MAX + 10 }), { nil: null }), (price, chosen) => {
        const expected = chosen !== null && isAmountAllowed(price, chosen) ? chosen : (price.preset_amount ?? price.minimum_amount ?? 0)
        const got = baseAmount(price, chosen)
        expect(got).toBe(expected)
        expect(defaultCustomAmount(price)).toBe(price.preset_amount ?? price.minimum_amount ?? 0)
        // a sane price never yields an amount outside its own bounds
        expect(isAmountAllowed(price, got)).toBe(true)
      }),
      { numRuns: 3000 },
    )
  })

  it.each([
    // [min, max, preset, chosen, base]
    [500, 10_000, 2000, 700, 700],
    [500, 10_000, 2000, 499, 2000], // below the minimum: the preset
    [500, 10_000, 2000, 10_001, 2000], // above the maximum: the preset
    [500, 10_000, null, 499, 500], // no preset: the minimum
    [500, 10_000, 2000, null, 2000],
    [500, null, null, 99_999_999, 99_999_999], // no maximum
    [0, null, 1000, 0, 0], // free is a valid choice when the minimum is 0
    [null, null, null, null, 0],
    [500, 500, null, 500, 500],
  ])('custom min %s max %s preset %s, chosen %s → %d', (min, max, preset, chosen, expected) => {
    expect(baseAmount(customPrice(min, max, preset), chosen)).toBe(expected)
  })
})

describe('isDiscountApplicable', () => {
  const now = new Date('2026-06-15T12:00:00.000Z')
  const ms = (d: Date, delta: number) => new Date(d.getTime() + delta)
  const base: DiscountTerms = {
    id: 'd1',
    type: 'percentage',
    basis_points: 1000,
    amount: null,
    currency: null,
    starts_at: null,
    ends_at: null,
    max_redemptions: null,
    redemptions_count: 0,
    product_ids: [],
  }
  const applies = (over: Partial<DiscountTerms>, productId = 'p1', currency = 'usd', at = now) => isDiscountApplicable({ ...base, ...over }, productId, currency, at)

  it('starts_at is inclusive: redeemable from that instant on', () => {
    expect(applies({ starts_at: now })).toBe(true)
    expect(applies({ starts_at: ms(now, -1) })).toBe(true)
    expect(applies({ starts_at: ms(now, 1) })).toBe(false)
    expect(applies({ starts_at: now.toISOString() })).toBe(true) // strings from JSON columns
    expect(applies({ starts_at: ms(now, 1).toISOString() })).toBe(false)
  })

  it('ends_at is inclusive, as Polar (and Kassa\'s discounts service): redeemable up to and at that instant', () => {
    expect(applies({ ends_at: now })).toBe(true)
    expect(applies({ ends_at: ms(now, 1) })).toBe(true)
    expect(applies({ ends_at: ms(now, -1) })).toBe(false)
    expect(applies({ ends_at: ms(now, -1).toISOString() })).toBe(false)
    expect(applies({ starts_at: now, ends_at: now })).toBe(true)
  })

  it('a used-up discount does not apply', () => {
    expect(applies({ max_redemptions: 3, redemptions_count: 2 })).toBe(true)
    expect(applies({ max_redemptions: 3, redemptions_count: 3 })).toBe(false)
    expect(applies({ max_redemptions: 3, redemptions_count: 4 })).toBe(false)
    expect(applies({ max_redemptions: 0, redemptions_count: 0 })).toBe(false)
    expect(applies({ max_redemptions: null, redemptions_count: 1_000_000 })).toBe(true)
  })

  it('a product restriction limits it to those products', () => {
    expect(applies({ product_ids: [] }, 'anything')).toBe(true)
    expect(applies({ product_ids: ['p1', 'p2'] }, 'p2')).toBe(true)
    expect(applies({ product_ids: ['p1', 'p2'] }, 'p3')).toBe(false)
  })

  it('a fixed discount applies only in its currency; a percentage in any', () => {
    const fixedUsd: Partial<DiscountTerms> = { type: 'fixed', basis_points: null, amount: 500, currency: 'usd' }
    expect(applies(fixedUsd, 'p1', 'usd')).toBe(true)
    expect(applies(fixedUsd, 'p1', 'eur')).toBe(false)
    expect(applies({}, 'p1', 'eur')).toBe(true)
  })

  it('is the conjunction of the four rules, for any discount and instant', () => {
    const t0 = now.getTime()
    const instant = fc.integer({ min: t0 - 10_000, max: t0 + 10_000 }).map((t) => new Date(t))
    const arb = fc.record({
      type: fc.constantFrom('fixed' as const, 'percentage' as const),
      currency: fc.constantFrom('usd', 'eur'),
      starts_at: fc.option(instant, { nil: null }),
      ends_at: fc.option(instant, { nil: null }),
      max_redemptions: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
      redemptions_count: fc.integer({ min: 0, max: 6 }),
      product_ids: fc.subarray(['p1', 'p2', 'p3']),
    })
    fc.assert(
      fc.property(arb, instant, fc.constantFrom('p1', 'p2', 'p3'), fc.constantFrom('usd', 'eur'), (d, at, productId, currency) => {
        const terms: DiscountTerms = { ...base, ...d, amount: d.type === 'fixed' ? 100 : null, basis_points: d.type === 'percentage' ? 1000 : null }
        const expected =
          (d.starts_at === null || d.starts_at.getTime() <= at.getTime()) &&
          (d.ends_at === null || d.ends_at.getTime() >= at.getTime()) &&
          (d.max_redemptions === null || d.redemptions_count < d.max_redemptions) &&
          (d.product_ids.length === 0 || d.product_ids.includes(productId)) &&
          (d.type === 'percentage' || d.currency === currency)
        expect(isDiscountApplicable(terms, productId, currency, at)).toBe(expected)
      }),
      { numRuns: 3000 },
    )
  })
})
