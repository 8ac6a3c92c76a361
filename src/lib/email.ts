/**
 * The one email syntax rule (checkout, customers, dashboard users, the CLI, link prefill), after the
 * email-validator library behind Polar's `EmailStr` (pydantic): an ASCII dot-atom local part of at most 64
 * characters, a domain of dot-separated labels of at most 63 characters each with a letter-ending top-level
 * label, at most 254 characters in all. Linear time: one split on the last `@`, then anchored character-class
 * tests that cannot backtrack; the length limits are checked first, so a huge input costs one comparison.
 * Kassa is a little stricter than email-validator (no internationalized addresses, no quoted local parts)
 * and does not refuse special-use domains (`.local`, `.test`), which the demo data and tests use.
 */
export const EMAIL_MAX_LENGTH = 254
/** pydantic refuses longer input before email-validator looks at it. */
export const EMAIL_INPUT_MAX_LENGTH = 2048
const LOCAL_MAX = 64
const LABEL_MAX = 63
const ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/
const TLD = /^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$/

/** Why the address is invalid, in email-validator's words; `undefined` if it is valid. */
export function emailProblem(email: string): string | undefined {
  if (email.length > EMAIL_MAX_LENGTH) return `The email address is too long (${email.length - EMAIL_MAX_LENGTH} characters too many).`
  const at = email.lastIndexOf('@')
  if (at < 0) return 'An email address must have an @-sign.'
  const local = email.slice(0, at)
  const domain = email.slice(at + 1)
  if (!local) return 'There must be something before the @-sign.'
  if (!domain) return 'There must be something after the @-sign.'
  if (local.length > LOCAL_MAX) return `The email address is too long before the @-sign (${local.length - LOCAL_MAX} characters too many).`
  if (local.startsWith('.')) return 'An email address cannot start with a period.'
  if (local.endsWith('.')) return 'An email address cannot have a period immediately before the @-sign.'
  const atoms = local.split('.')
  if (atoms.some((a) => a === '')) return 'An email address cannot have two periods in a row.'
  if (!atoms.every((a) => ATOM.test(a))) return 'The email address contains invalid characters before the @-sign.'
  if (domain.startsWith('.')) return 'An email address cannot have a period immediately after the @-sign.'
  if (domain.endsWith('.')) return 'An email address cannot end with a period.'
  const labels = domain.split('.')
  if (labels.some((l) => l === '')) return 'An email address cannot have two periods in a row.'
  if (labels.length < 2) return 'The part after the @-sign is not valid. It should have a period.'
  const long = labels.find((l) => l.length > LABEL_MAX)
  if (long) return `After the @-sign, periods cannot be separated by so many characters (${long.length - LABEL_MAX} characters too many).`
  if (!labels.every((l) => LABEL.test(l))) return 'The part after the @-sign contains invalid characters.'
  if (!TLD.test(labels.at(-1)!)) return 'The part after the @-sign is not valid. It is not within a valid top-level domain.'
  return undefined
}
