/**
 * What Kassa needs from a payment processor. Confirm authorizes synchronously (a decline is known
 * at once and the buyer can retry); capture settles later, from the job worker.
 */
export interface PaymentProcessor {
  readonly name: string
  /** Checks the payment method and reserves the amount. */
  authorize(input: { token: string; amount: number; currency: string; checkoutId: string }): Promise<AuthorizeResult>
  /** Moves the money; called once per authorized checkout by the settlement job (idempotent by checkoutId). */
  capture(input: { token: string | null; amount: number; currency: string; checkoutId: string }): Promise<CaptureResult>
}

export type AuthorizeResult = { ok: true; reference: string; /** What was charged: `card`, `apple_pay`, … (Polar's payment_method_type). */ paymentMethodType?: string } | { ok: false; message: string; code: string }
export type CaptureResult = { ok: true } | { ok: false; message: string }

/** Card numbers on the hosted page map to these tokens (test mode, as Stripe's). */
export const SANDBOX_TOKENS = {
  success: 'tok_sandbox_success',
  decline: 'tok_sandbox_decline',
  /** Authorizes, then fails at settlement: the session ends `failed`. */
  failLater: 'tok_sandbox_fail_capture',
  /** The first payment succeeds; every renewal of the subscription it pays is declined. */
  failRenewals: 'tok_sandbox_fail_renewals',
} as const

export const SANDBOX_CARDS: Record<string, string> = {
  '4242424242424242': SANDBOX_TOKENS.success,
  '4000000000000002': SANDBOX_TOKENS.decline,
  '4000000000000341': SANDBOX_TOKENS.failLater,
  '4000000000009995': SANDBOX_TOKENS.failRenewals,
}

/**
 * The built-in processor: moves money nowhere. `tok_sandbox_decline` (card 4000 0000 0000 0002) is
 * declined; `tok_sandbox_fail_capture` authorizes then fails at settlement; anything else succeeds.
 */
export const sandboxProcessor: PaymentProcessor = {
  name: 'sandbox',
  async authorize({ token }) {
    if (token === SANDBOX_TOKENS.decline) return { ok: false, code: 'card_declined', message: 'Your card was declined.' }
    return { ok: true, reference: `sandbox_${token}`, paymentMethodType: 'card' }
  },
  async capture({ token }) {
    if (token === SANDBOX_TOKENS.failLater) return { ok: false, message: 'The payment could not be settled.' }
    return { ok: true }
  },
}

/** Luhn checksum, as every card number carries. */
export function luhnValid(digits: string): boolean {
  if (!/^\d{12,19}$/.test(digits)) return false
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i])
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return sum % 10 === 0
}

/**
 * The sandbox's card "tokenization": the test numbers map to their tokens, any other valid number
 * succeeds, an invalid one is refused (undefined).
 */
export function sandboxTokenForCard(number: string): string | undefined {
  const digits = number.replace(/[\s-]/g, '')
  if (SANDBOX_CARDS[digits]) return SANDBOX_CARDS[digits]
  return luhnValid(digits) ? SANDBOX_TOKENS.success : undefined
}
