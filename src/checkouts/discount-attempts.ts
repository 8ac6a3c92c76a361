import type { Deps } from '../deps'
import { RequestValidationError, TooManyRequests } from '../http/errors'
import { hashToken } from '../lib/ids'
import { clientKey } from '../lib/ip'
import { takeAttempt, type Limit } from '../rate-limit/service'
import { findCheckoutBySecret } from './repository'

/** Wrong discount codes a session, and a client address, may try in a window before a 429. */
export const DISCOUNT_CODE_LIMITS = { perCheckout: 5, perClient: 20, windowMs: 15 * 60_000 } as const

/** Who the buyer is, as far as abuse limits go. */
export interface BuyerMeta {
  ip?: string
}

/**
 * A client's wrong codes count per organization: guessing one shop's codes says nothing about another's,
 * and a busy shared address (an office, a carrier NAT) at one shop must not lock buyers out of the others.
 */
const clientLimit = (organizationId: string, ip: string): Limit => ({
  key: `discount_code:client:${organizationId}:${clientKey(ip)}`,
  max: DISCOUNT_CODE_LIMITS.perClient,
  windowMs: DISCOUNT_CODE_LIMITS.windowMs,
})

const isWrongCode = (err: unknown) => err instanceof RequestValidationError && err.issues.some((i) => i.loc[1] === 'discount_code')

/**
 * Runs a change that tries a discount code, counting it against the session's and the client's limits
 * when the code is wrong, so a session cannot serve as an oracle for guessing codes. The attempt is
 * recorded before the code is looked up (parallel guesses cannot slip past the limit) and given back
 * when the code was right. The count lives outside the change's transaction, which a wrong code rolls back.
 */
export async function withDiscountCodeAttempt<T>(
  deps: Pick<Deps, 'db' | 'clock'>,
  clientSecret: string,
  code: string | null | undefined,
  meta: BuyerMeta,
  run: () => Promise<T>,
): Promise<T> {
  if (!code?.trim()) return run()
  const { perCheckout, perClient, windowMs } = DISCOUNT_CODE_LIMITS
  const limits: Limit[] = [{ key: `discount_code:checkout:${hashToken(clientSecret)}`, max: perCheckout, windowMs }]
  if (meta.ip) {
    const row = await findCheckoutBySecret(deps.db, clientSecret)
    if (!row) return run() // not found: the change answers 404
    limits.push(clientLimit(row.organization_id, meta.ip))
  }
  const giveBack = await takeAttempt(deps, limits, {
    message: (s) => `Too many discount code attempts. Try again in ${Math.ceil(s / 60)} minute${Math.ceil(s / 60) === 1 ? '' : 's'}.`,
  })
  try {
    const result = await run()
    await giveBack()
    return result
  } catch (err) {
    if (!isWrongCode(err)) await giveBack()
    throw err
  }
}

/**
 * A discount code arriving on a link visit (`?discount_code=`), where no session exists yet: counted
 * against the client's limit like a wrong code on a session. Over the limit the code is ignored (a visit
 * never fails, and the answer does not tell a right code from a wrong one). Costs statements only on
 * visits that carry a code.
 */
export async function lookUpVisitCode<T>(deps: Pick<Deps, 'db' | 'clock'>, organizationId: string, ip: string | undefined, find: () => Promise<T | undefined>): Promise<T | undefined> {
  if (!ip) return find()
  let giveBack: () => Promise<void>
  try {
    giveBack = await takeAttempt(deps, [clientLimit(organizationId, ip)])
  } catch (err) {
    if (err instanceof TooManyRequests) return undefined
    throw err
  }
  const found = await find()
  if (found) await giveBack()
  return found
}
