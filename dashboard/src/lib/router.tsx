import { useEffect, useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react'

/**
 * A tiny history router: the app lives under /dashboard, the server answers index.html for every path
 * under it, so each page has a real URL (reloadable, linkable, and what browser tests navigate to).
 */
export const BASE = '/dashboard'

const listeners = new Set<() => void>()
const emit = () => listeners.forEach((l) => l())
window.addEventListener('popstate', emit)

function subscribe(l: () => void) {
  listeners.add(l)
  return () => listeners.delete(l)
}

const snapshot = () => window.location.pathname + window.location.search

/** The current app path (without /dashboard) and query. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, snapshot)
  const url = new URL(href, window.location.origin)
  let path = url.pathname.startsWith(BASE) ? url.pathname.slice(BASE.length) : url.pathname
  path = path.replace(/\/+$/, '') || '/'
  return { path, query: url.searchParams }
}

export function href(to: string): string {
  return to.startsWith('/') ? BASE + to : to
}

export function navigate(to: string, opts: { replace?: boolean } = {}) {
  const target = href(to)
  if (target === snapshot()) return
  if (opts.replace) window.history.replaceState(null, '', target)
  else window.history.pushState(null, '', target)
  emit()
  if (!opts.replace) window.scrollTo(0, 0)
}

/** Replace some query parameters of the current URL (lists keep search and page there). */
export function setQuery(changes: Record<string, string | number | null | undefined>) {
  const url = new URL(window.location.href)
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === '') url.searchParams.delete(k)
    else url.searchParams.set(k, String(v))
  }
  window.history.replaceState(null, '', url.pathname + url.search)
  emit()
}

export function Link({ to, onClick, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e)
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(to)
  }
  return <a href={href(to)} onClick={handle} {...rest} />
}

/** `/products/:id` against `/products/123` → `{id: '123'}`; undefined when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/')
  const s = path.split('/')
  if (p.length !== s.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!
    if (seg.startsWith(':')) params[seg.slice(1)] = decodeURIComponent(s[i]!)
    else if (seg !== s[i]) return undefined
  }
  return params
}

export function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to])
  return null
}

/** Sets the document title for a page. */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Kassa`
  }, [title])
}
