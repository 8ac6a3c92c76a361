import { expect, it } from 'vitest'
import { findRedisServer } from './redis-global-setup'
import { describeRedis, redisClient, redisPrefix, redisUrl } from './redis'

// The Redis the global setup starts (test/redis-global-setup.ts) answers through ioredis, the client the
// shared rate limits use. Skipped without redis-server, unless KASSA_REQUIRE_REDIS=1 (then it fails).
describeRedis('the tests\' Redis', () => {
  it('answers PING through ioredis, on loopback, and keeps keys under a prefix of the test\'s own', async () => {
    expect(redisUrl()).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/)
    const redis = redisClient()
    expect(await redis.ping()).toBe('PONG')
    const key = `${redisPrefix('setup')}hello`
    await redis.set(key, 'world', 'PX', 60_000)
    expect(await redis.get(key)).toBe('world')
    await redis.del(key)
    expect(await redis.get(key)).toBeNull()
  })

  it.skipIf(!!process.env.KASSA_TEST_REDIS_URL)('runs without persistence (the one the setup started)', async () => {
    const redis = redisClient()
    expect(await redis.config('GET', 'save')).toEqual(['save', ''])
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no'])
  })
})

it('finds redis-server on PATH, and nothing on a PATH without it', () => {
  expect(findRedisServer('/nonexistent-dir')).toBeUndefined()
  expect(findRedisServer('')).toBeUndefined()
})
