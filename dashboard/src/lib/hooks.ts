import { useCallback, useEffect, useRef, useState } from 'react'
import { api, type Page, type Query } from './api'
import { setQuery, useLocation } from './router'

export interface AsyncState<T> {
  data: T | undefined
  error: Error | undefined
  loading: boolean
  reload: () => void
}

/** Runs `load` when `key` changes (and on `reload()`), dropping answers that arrive out of order. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, key: string): AsyncState<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true })
  const [tick, setTick] = useState(0)
  const loadRef = useRef(load)
  loadRef.current = load
  useEffect(() => {
    const ctrl = new AbortController()
    setState((s) => ({ ...s, loading: true, error: undefined }))
    loadRef.current(ctrl.signal).then(
      (data) => !ctrl.signal.aborted && setState({ data, loading: false }),
      (error: Error) => !ctrl.signal.aborted && error?.name !== 'AbortError' && setState((s) => ({ data: s.data, error, loading: false })),
    )
    return () => ctrl.abort()
  }, [key, tick])
  const reload = useCallback(() => setTick((t) => t + 1), [])
  return { data: state.data, error: state.error, loading: state.loading, reload }
}

export const PAGE_SIZE = 20

/**
 * A paginated `/v1` list whose search (`?q=`) and page (`?page=`) live in the page's URL, so reloads and the
 * back button keep them.
 */
export function useList<T>(path: string, extra: Query = {}) {
  const { query } = useLocation()
  const page = Math.max(1, Number(query.get('page')) || 1)
  const q = query.get('q') ?? ''
  const params: Query = { page, limit: PAGE_SIZE, query: q || undefined, ...extra }
  const key = JSON.stringify([path, params])
  const state = useAsync((signal) => api.get<Page<T>>(path, params, signal), key)
  return { ...state, page, q, setPage: (p: number) => setQuery({ page: p > 1 ? p : null }) }
}

/** Debounced value, for search boxes. */
export function useDebounced<T>(value: T, ms = 250): T {
  const [v, setV] = useState(value)
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms)
    return () => clearTimeout(t)
  }, [value, ms])
  return v
}

/** Every item of a list (up to `max`), for pickers: products in a link, discounts, custom fields. */
export async function fetchAll<T>(path: string, query: Query = {}, signal?: AbortSignal, max = 500): Promise<T[]> {
  const items: T[] = []
  for (let page = 1; items.length < max; page++) {
    const res = await api.get<Page<T>>(path, { ...query, page, limit: 100 }, signal)
    items.push(...res.items)
    if (page >= res.pagination.max_page || res.items.length === 0) break
  }
  return items
}
