import { useEffect, useState } from 'react'
import { api, type Page } from '../../lib/api'
import type { Checkout } from '../../lib/types'

export interface LinkStats {
  sessions: number
  paid: number
  /** Total of paid sessions by currency (minor units). */
  revenue: Record<string, number>
  /** More paid sessions than were summed: the revenue is a lower bound. */
  partial: boolean
}

// A page of links asks for its numbers a few at a time rather than all at once.
const MAX_PARALLEL = 4
let running = 0
const waiting: (() => void)[] = []
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL) await new Promise<void>((r) => waiting.push(r))
  running++
  try {
    return await fn()
  } finally {
    running--
    waiting.shift()?.()
  }
}

/** Sessions opened from a link, and the paid ones (from `/v1/checkouts/?checkout_link_id=`). */
export async function fetchLinkStats(linkId: string, signal?: AbortSignal): Promise<LinkStats> {
  return limited(async () => {
    const [all, paid] = await Promise.all([
      api.get<Page<Checkout>>('/v1/checkouts/', { checkout_link_id: linkId, limit: 1 }, signal),
      api.get<Page<Checkout>>('/v1/checkouts/', { checkout_link_id: linkId, status: 'succeeded', limit: 100 }, signal),
    ])
    const revenue: Record<string, number> = {}
    for (const c of paid.items) revenue[c.currency] = (revenue[c.currency] ?? 0) + c.total_amount
    return { sessions: all.pagination.total_count, paid: paid.pagination.total_count, revenue, partial: paid.pagination.total_count > paid.items.length }
  })
}

export function useLinkStats(linkId: string): { stats?: LinkStats; error?: Error } {
  const [state, setState] = useState<{ stats?: LinkStats; error?: Error }>({})
  useEffect(() => {
    const ctrl = new AbortController()
    fetchLinkStats(linkId, ctrl.signal).then(
      (stats) => !ctrl.signal.aborted && setState({ stats }),
      (error: Error) => !ctrl.signal.aborted && setState({ error }),
    )
    return () => ctrl.abort()
  }, [linkId])
  return state
}
