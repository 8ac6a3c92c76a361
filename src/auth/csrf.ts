import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * The CSRF token is derived from the session token (an HMAC keyed by it): nothing more to store, it dies with
 * the session, and knowing it reveals nothing about the cookie.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('kassa csrf v1').digest('base64url')
}

export function isValidCsrfToken(sessionToken: string, provided: unknown): boolean {
  if (typeof provided !== 'string') return false
  const expected = Buffer.from(csrfTokenFor(sessionToken))
  const given = Buffer.from(provided)
  return given.length === expected.length && timingSafeEqual(given, expected)
}
