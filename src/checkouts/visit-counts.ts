import { sql } from 'kysely'
import type { Executor } from '../db/index'

/** What a visit was: counted per link, UTC day and utm triple in `link_visit_counts`. */
export type VisitCountKind = 'preview' | 'prefetch' | 'opened' | 'reused' | 'limited'

export interface Utm {
  utm_source?: string
  utm_medium?: string
  utm_campaign?: string
}

interface Counts {
  checkout_link_id: string
  organization_id: string
  day: string
  utm_source: string
  utm_medium: string
  utm_campaign: string
  visits: number
  previews: number
  prefetches: number
  sessions_opened: number
  sessions_reused: number
  visits_limited: number
}

const COLUMN = { preview: 'previews', prefetch: 'prefetches', opened: 'sessions_opened', reused: 'sessions_reused', limited: 'visits_limited' } as const
/** A person's visit (not a previewer's or a prefetch) also counts in `visits`. */
const BY_A_PERSON: Record<VisitCountKind, boolean> = { preview: false, prefetch: false, opened: true, reused: true, limited: true }

/** Longer utm values are cut (they are labels in a chart, and the key of a row). */
export const UTM_MAX = 100
/** Distinct keys held between flushes; past it new utm triples count as '(other)', so a flood of made-up utms cannot grow memory or the table without bound. */
export const MAX_KEYS = 5_000
export const OTHER = '(other)'
const CHUNK = 1_000

const utmValue = (v: string | undefined) => (v ? v.slice(0, UTM_MAX) : '')

/**
 * The visit counters (issue 10 part 5): the visit only adds to a map in memory; `flush` writes everything
 * counted since the last flush as one upsert (in chunks of 1,000 rows, one transaction) every
 * `VISIT_COUNT_FLUSH_SECONDS`. A crash loses at most one interval's counts; a failed flush keeps them for
 * the next one. Several processes add to the same rows (`on conflict … do update set x = x + excluded.x`).
 */
export class VisitCounter {
  private pending = new Map<string, Counts>()
  private flushing: Promise<number> | undefined

  record(linkId: string, organizationId: string, kind: VisitCountKind, at: Date, utm: Utm = {}): void {
    const day = at.toISOString().slice(0, 10)
    let source = utmValue(utm.utm_source)
    let medium = utmValue(utm.utm_medium)
    let campaign = utmValue(utm.utm_campaign)
    let key = `${linkId}\n${day}\n${source}\n${medium}\n${campaign}`
    let row = this.pending.get(key)
    if (!row && this.pending.size >= MAX_KEYS && (source || medium || campaign)) {
      source = medium = campaign = OTHER
      key = `${linkId}\n${day}\n${OTHER}\n${OTHER}\n${OTHER}`
      row = this.pending.get(key)
    }
    if (!row) {
      row = { checkout_link_id: linkId, organization_id: organizationId, day, utm_source: source, utm_medium: medium, utm_campaign: campaign, visits: 0, previews: 0, prefetches: 0, sessions_opened: 0, sessions_reused: 0, visits_limited: 0 }
      this.pending.set(key, row)
    }
    row[COLUMN[kind]]++
    if (BY_A_PERSON[kind]) row.visits++
  }

  /** Counts not yet written. */
  get size(): number {
    return this.pending.size
  }

  /** Writes what was counted; returns the rows written. One flush at a time. */
  flush(db: Executor): Promise<number> {
    this.flushing ??= this.write(db).finally(() => (this.flushing = undefined))
    return this.flushing
  }

  private async write(db: Executor): Promise<number> {
    if (this.pending.size === 0) return 0
    const rows = [...this.pending.values()]
    this.pending = new Map()
    try {
      await db.transaction().execute(async (tx) => {
        for (let i = 0; i < rows.length; i += CHUNK) {
          await tx
            .insertInto('link_visit_counts')
            .values(rows.slice(i, i + CHUNK))
            .onConflict((oc) =>
              oc.columns(['checkout_link_id', 'day', 'utm_source', 'utm_medium', 'utm_campaign']).doUpdateSet({
                visits: sql`link_visit_counts.visits + excluded.visits`,
                previews: sql`link_visit_counts.previews + excluded.previews`,
                prefetches: sql`link_visit_counts.prefetches + excluded.prefetches`,
                sessions_opened: sql`link_visit_counts.sessions_opened + excluded.sessions_opened`,
                sessions_reused: sql`link_visit_counts.sessions_reused + excluded.sessions_reused`,
                visits_limited: sql`link_visit_counts.visits_limited + excluded.visits_limited`,
              }),
            )
            .execute()
        }
      })
    } catch (err) {
      // Nothing was written: the rows go back, merged with what was counted meanwhile.
      for (const r of rows) this.restore(r)
      throw err
    }
    return rows.length
  }

  private restore(r: Counts): void {
    const key = `${r.checkout_link_id}\n${r.day}\n${r.utm_source}\n${r.utm_medium}\n${r.utm_campaign}`
    const cur = this.pending.get(key)
    if (!cur) return void this.pending.set(key, r)
    for (const c of ['visits', 'previews', 'prefetches', 'sessions_opened', 'sessions_reused', 'visits_limited'] as const) cur[c] += r[c]
  }
}
