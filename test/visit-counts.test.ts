import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { migrate, openPGlite } from '../src/db/index'
import { newId } from '../src/lib/ids'
import { MAX_KEYS, OTHER, UTM_MAX, VisitCounter } from '../src/checkouts/visit-counts'
import { testDatabase } from './helpers'

/** The visit counters on their own (the visits that feed them: test/front-door.test.ts). */
describe('visit counters', async () => {
  const database = await testDatabase()
  const db = database.db
  const at = new Date('2026-07-01T23:59:59Z')

  const rowsOf = async (linkId: string) =>
    (await sql<{ day: string; utm_source: string; visits: number; sessions_opened: number; previews: number }>`
      select day::text as day, utm_source, visits::int as visits, sessions_opened::int as sessions_opened, previews::int as previews
      from link_visit_counts where checkout_link_id = ${linkId} order by utm_source`.execute(db)).rows

  it('a flush writes one row per link, day and utm triple; nothing is written twice', async () => {
    const c = new VisitCounter()
    const link = newId()
    const org = newId()
    for (let i = 0; i < 5; i++) c.record(link, org, 'opened', at, { utm_source: 'a' })
    c.record(link, org, 'preview', at, { utm_source: 'a' })
    c.record(link, org, 'opened', at)
    expect(c.size).toBe(2)
    expect(await c.flush(db)).toBe(2)
    expect(c.size).toBe(0)
    expect(await c.flush(db)).toBe(0)
    expect(await rowsOf(link)).toEqual([
      { day: '2026-07-01', utm_source: '', visits: 1, sessions_opened: 1, previews: 0 },
      { day: '2026-07-01', utm_source: 'a', visits: 5, sessions_opened: 5, previews: 1 },
    ])
  })

  it('long utm values are cut; past MAX_KEYS distinct keys new utm triples count as (other)', async () => {
    const c = new VisitCounter()
    const link = newId()
    const org = newId()
    c.record(link, org, 'opened', at, { utm_source: 'x'.repeat(5000) })
    for (let i = 0; i < MAX_KEYS + 50; i++) c.record(link, org, 'opened', at, { utm_campaign: `c${i}` })
    expect(c.size).toBe(MAX_KEYS + 1)
    await c.flush(db)
    const rows = await rowsOf(link)
    expect(rows).toHaveLength(MAX_KEYS + 1)
    expect(rows.find((r) => r.utm_source.startsWith('x'))!.utm_source).toHaveLength(UTM_MAX)
    expect(rows.find((r) => r.utm_source === OTHER)!.visits).toBe(51)
    const total = rows.reduce((n, r) => n + r.visits, 0)
    expect(total).toBe(MAX_KEYS + 51)
  })

  it('a failed flush keeps its counts for the next one, merged with what came meanwhile', async () => {
    const c = new VisitCounter()
    const link = newId()
    const org = newId()
    c.record(link, org, 'opened', at)
    const dead = await openPGlite()
    await migrate(dead)
    await dead.close()
    await expect(c.flush(dead.db)).rejects.toThrow()
    c.record(link, org, 'opened', at)
    expect(await c.flush(db)).toBe(1)
    expect((await rowsOf(link))[0]!.sessions_opened).toBe(2)
  })

  it('two processes add to the same rows', async () => {
    const a = new VisitCounter()
    const b = new VisitCounter()
    const link = newId()
    const org = newId()
    a.record(link, org, 'opened', at)
    b.record(link, org, 'opened', at)
    b.record(link, org, 'limited', at)
    await Promise.all([a.flush(db), b.flush(db)])
    expect(await rowsOf(link)).toEqual([{ day: '2026-07-01', utm_source: '', visits: 3, sessions_opened: 2, previews: 0 }])
  })
})
