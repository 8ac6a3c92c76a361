/** The dashboard session cookie: its value is the session's random token (base64url, so no encoding needed). */
export const SESSION_COOKIE = 'kassa_session'

/**
 * Over https the name carries the `__Host-` prefix: browsers then accept it only Secure, with Path=/ and no
 * Domain, so neither a sibling subdomain nor a plain-http page on the same host can set or shadow it.
 */
export const sessionCookieName = (secure: boolean) => (secure ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE)

/** Whether Kassa is served over https: Secure cookies, the `__Host-` name and HSTS follow from it. */
export const isHttps = (publicUrl: string) => publicUrl.startsWith('https:')

/** The first value of cookie `name` in a `Cookie` header (RFC 6265: name=value pairs separated by `;`). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue
    const value = pair.slice(eq + 1).trim()
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value
  }
  return undefined
}

const attributes = (secure: boolean) => `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`

export function sessionCookie(token: string, expiresAt: Date, now: Date, secure: boolean): string {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000))
  return `${sessionCookieName(secure)}=${token}; ${attributes(secure)}; Max-Age=${maxAge}; Expires=${expiresAt.toUTCString()}`
}

export function clearedSessionCookie(secure: boolean): string {
  return `${sessionCookieName(secure)}=; ${attributes(secure)}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`
}
