/**
 * A small fetch wrapper for Kassa's `/v1` API, authenticated by the `kassa_session` cookie. Unsafe methods
 * carry the session's CSRF token. Errors come back as `ApiError`, with Polar's body when there is one.
 */

export interface ValidationIssue {
  loc: (string | number)[]
  msg: string
  type: string
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** `{error, detail}` for most errors, `{detail: [...]}` for 422. */
    readonly body: unknown,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }

  /** The 422 issues, when this is a validation error. */
  get issues(): ValidationIssue[] {
    const detail = (this.body as { detail?: unknown } | null)?.detail
    return this.status === 422 && Array.isArray(detail) ? (detail as ValidationIssue[]) : []
  }
}

let csrfToken: string | null = null
let onUnauthorized: (() => void) | null = null

export function setCsrfToken(token: string | null) {
  csrfToken = token
}

/** Called when a request answers 401 (the session expired or was logged out elsewhere). */
export function setUnauthorizedHandler(handler: (() => void) | null) {
  onUnauthorized = handler
}

export type Query = Record<string, string | number | boolean | null | undefined | (string | number)[]>

export function withQuery(path: string, query?: Query): string {
  if (!query) return path
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue
    if (Array.isArray(value)) value.forEach((v) => params.append(key, String(v)))
    else params.append(key, String(value))
  }
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

function describe(status: number, body: unknown, requestId: string | null): string {
  const b = body as { detail?: unknown; error?: unknown } | null
  if (status >= 500) return `The server had a problem (HTTP ${status}). Try again in a moment.${requestId ? ` Request ID: ${requestId}.` : ''}`
  if (b && typeof b.detail === 'string') return b.detail
  if (b && Array.isArray(b.detail)) {
    return (b.detail as ValidationIssue[]).map((i) => `${i.loc.slice(1).join('.') || 'request'}: ${i.msg}`).join('; ')
  }
  if (status === 429) return 'Too many attempts. Wait a moment and try again.'
  return `Request failed (HTTP ${status}).`
}

export interface RequestOptions {
  query?: Query
  body?: unknown
  signal?: AbortSignal
  /** Do not call the 401 handler (the login form handles its own 401). */
  quiet401?: boolean
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken
  let res: Response
  try {
    res = await fetch(withQuery(path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'same-origin',
      signal: opts.signal,
    })
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') throw err
    throw new ApiError(0, null, 'Cannot reach the server. Check your connection and try again.')
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let body: unknown = null
  if (text) {
    try {
      body = JSON.parse(text)
    } catch {
      body = text
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.quiet401) onUnauthorized?.()
    throw new ApiError(res.status, body, describe(res.status, body, res.headers.get('x-request-id')))
  }
  return body as T
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal }),
  post: <T>(path: string, body?: unknown, opts: RequestOptions = {}) => request<T>('POST', path, { ...opts, body: body ?? {} }),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, { body }),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, { body }),
  del: (path: string) => request<void>('DELETE', path),
}

export interface Page<T> {
  items: T[]
  pagination: { total_count: number; max_page: number }
}
