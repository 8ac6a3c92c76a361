import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, inject } from 'vitest'

/*
 * The tests' Redis, started once per run by test/redis-global-setup.ts. Every test file and both vitest
 * projects share it, concurrently: give each use its own key prefix (`redisPrefix()`) and never FLUSHALL.
 */

/** CI sets KASSA_REQUIRE_REDIS=1: a missing redis-server then fails the Redis tests instead of skipping them. */
export const REDIS_REQUIRED = process.env.KASSA_REQUIRE_REDIS === '1'

const url = inject('kassaRedisUrl')

/** `describe.skipIf(skipRedisTests)`: skipped without Redis, unless it is required. */
export const skipRedisTests = !url && !REDIS_REQUIRED

/** A `describe` for tests that need Redis: skipped without one, unless KASSA_REQUIRE_REDIS=1. */
export const describeRedis = describe.skipIf(skipRedisTests)

/** The URL of the tests' Redis; throws, saying what to install, when there is none. */
export function redisUrl(): string {
  if (url) return url
  throw new Error(`KASSA_REQUIRE_REDIS=1 but there is no Redis for the tests: ${inject('kassaRedisProblem') ?? 'unknown (did test/redis-global-setup.ts run?)'}`)
}

/** A key prefix of the caller's own, so files and projects running at once never see each other's keys. */
export const redisPrefix = (name = 'test') => `kassa-test:${name}:${process.pid}:${randomUUID().slice(0, 8)}:`

/** An ioredis client on the tests' Redis, closed after the file's tests. */
export function redisClient(): Redis {
  const client = new Redis(redisUrl(), { lazyConnect: false, maxRetriesPerRequest: 1 })
  afterAll(async () => {
    await client.quit().catch(() => client.disconnect())
  })
  return client
}
