import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { TooManyRequests } from '../src/http/errors'
import { FixedClock } from '../src/lib/clock'
import { pruneRateLimits } from '../src/rate-limit/jobs'
import { takeAttempt, type Limit } from '../src/rate-limit/service'
import { testDatabase } from './helpers'

const MINUTE = 60_000

describe('the shared rate limiter', async () => {
  const database = await testDatabase()
  const clock = new FixedClock(new Date())
  const deps = { db: database.db, clock }
  const key = (name: string) => `test:${randomUUID()}:${name}`

  /** The seconds to wait of a refused attempt, or 'ok' (the attempt stays counted). */
  async function attempt(limits: Limit[]): Promise<number | 'ok'> {
    try {
      await takeAttempt(deps, limits)
      return 'ok'
    } catch (err) {
      if (err instanceof TooManyRequests) return err.retryAfterSeconds
      throw err
    }
  }

  const rowsOf = async (k: string) => Number((await database.db.selectFrom('rate_limit_attempts').select((eb) => eb.fn.countAll().as('n')).where('key', '=', k).executeTakeFirstOrThrow()).n)

  it('allows max attempts in a sliding window, then refuses with the wait until the oldest leaves it', async () => {
    const limit = { key: key('a'), max: 3, windowMs: 10 * MINUTE }
    expect(await attempt([limit])).toBe('ok')
    clock.advance(MINUTE)
    expect(await attempt([limit])).toBe('ok')
    expect(await attempt([limit])).toBe('ok')
    // The first attempt, a minute ago, leaves the window in 9 minutes.
    expect(await attempt([limit])).toBe(540)
    clock.advance(9 * MINUTE - 1000)
    expect(await attempt([limit])).toBe(1)
    clock.advance(1000)
    expect(await attempt([limit])).toBe('ok')
    // Refused attempts were not recorded: the 3 accepted before, and this one.
    expect(await rowsOf(limit.key)).toBe(4)
    expect(await attempt([limit])).toBe(60)
  })

  it('throws a 429 TooManyRequests in Polar’s error format, with a message the caller may choose', async () => {
    const limit = { key: key('m'), max: 1, windowMs: 90_000 }
    await takeAttempt(deps, [limit])
    const err = await takeAttempt(deps, [limit]).catch((e) => e)
    expect(err).toBeInstanceOf(TooManyRequests)
    expect(err.status).toBe(429)
    expect(err.toBody()).toEqual({ error: 'TooManyRequests', detail: 'Too many attempts. Try again in 2 minutes.' })
    const custom = await takeAttempt(deps, [limit], { message: (s) => `Wait ${s} s.` }).catch((e) => e)
    expect(custom.toBody()).toEqual({ error: 'TooManyRequests', detail: 'Wait 90 s.' })
  })

  it('takes an attempt back, once, when the caller says it did not count', async () => {
    const limit = { key: key('b'), max: 2, windowMs: MINUTE }
    const takeBack = await takeAttempt(deps, [limit])
    expect(await attempt([limit])).toBe('ok')
    expect(await attempt([limit])).toBe(60)
    await takeBack()
    await takeBack()
    expect(await attempt([limit])).toBe('ok')
    expect(await attempt([limit])).toBe(60)
  })

  it('counts against every limit, and records nothing when any one is reached', async () => {
    const narrow = { key: key('narrow'), max: 1, windowMs: MINUTE }
    const wide = { key: key('wide'), max: 5, windowMs: MINUTE }
    expect(await attempt([narrow, wide])).toBe('ok')
    for (let i = 0; i < 3; i++) expect(await attempt([narrow, wide])).toBe(60)
    // The refused attempts left the wide limit alone: 4 of its 5 are still free.
    for (let i = 0; i < 4; i++) expect(await attempt([wide])).toBe('ok')
    expect(await attempt([wide])).toBe(60)
  })

  it('lets limits share a key with different windows (delays grow): 2 a minute, 3 an hour', async () => {
    const k = key('tiers')
    const tiers = [
      { key: k, max: 2, windowMs: MINUTE },
      { key: k, max: 3, windowMs: 60 * MINUTE },
    ]
    expect(await attempt(tiers)).toBe('ok')
    expect(await attempt(tiers)).toBe('ok')
    expect(await attempt(tiers)).toBe(60)
    clock.advance(MINUTE)
    expect(await attempt(tiers)).toBe('ok')
    // Now the hourly limit holds: the first attempt leaves the hour in 59 minutes.
    expect(await attempt(tiers)).toBe(59 * 60)
    expect(await rowsOf(k)).toBe(3)
  })

  it('holds under concurrent attempts: exactly max get through, the rest are refused and not recorded', async () => {
    const limit = { key: key('race'), max: 5, windowMs: MINUTE }
    const other = { key: key('race-other'), max: 20, windowMs: MINUTE }
    // Two keys per attempt, listed in either order: the key-ordered locks never deadlock.
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => attempt(i % 2 ? [limit, other] : [other, limit])))
    expect(results.filter((r) => r === 'ok')).toHaveLength(5)
    expect(results.filter((r) => r !== 'ok').every((r) => r === 60)).toBe(true)
    expect(await rowsOf(limit.key)).toBe(5)
    expect(await rowsOf(other.key)).toBe(5)
  })

  it('is shared by every process on one database: a second connection pool sees the same counts', async () => {
    if (database.kind !== 'postgres') return // PGlite is one process's in-memory database
    const { openPostgres } = await import('../src/db/index')
    const { testDatabaseUrl } = await import('./helpers')
    const second = await openPostgres(testDatabaseUrl!)
    try {
      const limit = { key: key('shared'), max: 4, windowMs: MINUTE }
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => takeAttempt({ db: (i % 2 ? second : database).db, clock }, [limit]).then(() => 'ok', (e) => (e instanceof TooManyRequests ? 429 : e))),
      )
      expect(results.filter((r) => r === 'ok')).toHaveLength(4)
      expect(results.filter((r) => r === 429)).toHaveLength(8)
    } finally {
      await second.close()
    }
  })

  it('prunes attempts that count for no window any more, and keeps the rest', async () => {
    const k = key('prune')
    const tiers = [
      { key: k, max: 100, windowMs: MINUTE },
      { key: k, max: 100, windowMs: 10 * MINUTE },
    ]
    const short = { key: key('short'), max: 100, windowMs: MINUTE }
    await takeAttempt(deps, [...tiers, short])
    clock.advance(2 * MINUTE)
    await takeAttempt(deps, tiers)
    await pruneRateLimits(deps)
    // The first attempt still counts for the 10-minute window of its key, not for the 1-minute key.
    expect(await rowsOf(k)).toBe(2)
    expect(await rowsOf(short.key)).toBe(0)
    clock.advance(9 * MINUTE)
    await pruneRateLimits(deps)
    expect(await rowsOf(k)).toBe(1)
  })

  it('refuses a malformed limit instead of counting nothing', async () => {
    await expect(takeAttempt(deps, [{ key: key('x'), max: 0, windowMs: MINUTE }])).rejects.toThrow(RangeError)
    await expect(takeAttempt(deps, [{ key: key('x'), max: 1, windowMs: 0 }])).rejects.toThrow(RangeError)
    await expect(takeAttempt(deps, [])).resolves.toBeTypeOf('function')
  })
})
