import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import { Redis } from 'ioredis'

/**
 * The flood limit on new sessions (issue 10 part 3): at most `max` new sessions a minute per client IP
 * and link. @fastify/rate-limit does the counting, in this process (its LRU store) or, with `REDIS_URL`,
 * in Redis, shared by every node (its Lua INCR + PEXPIRE). Only a visit that is about to open a session
 * asks: previews, prefetches and reused sessions are never counted.
 *
 * When Redis is unreachable the visit is let through (`skipOnError`): a flood limit must not take the
 * shop down with it. Commands time out after 250 ms and are not queued while disconnected, so a dead
 * Redis costs a visit at most that, and a reconnect happens in the background.
 */
export interface VisitLimiter {
  /** Counts one new session for (link, ip); answers the seconds to wait when it is over the limit. */
  admit(req: { ip: string }, linkId: string): Promise<{ retryAfterSeconds: number } | null>
  close(): Promise<void>
}

const KEY = 'kassaVisitLimitKey'
const WINDOW_MS = 60_000

declare module 'fastify' {
  interface FastifyRequest {
    kassaVisitLimitKey: string
  }
}

export async function createVisitLimiter(app: FastifyInstance, opts: { max: number; redisUrl?: string; log?: FastifyBaseLogger }): Promise<VisitLimiter | undefined> {
  if (opts.max <= 0) return undefined
  const redis = opts.redisUrl
    ? new Redis(opts.redisUrl, { enableOfflineQueue: false, commandTimeout: 250, connectTimeout: 2_000, maxRetriesPerRequest: 1, lazyConnect: false })
    : undefined
  if (redis) {
    let down = false
    redis.on('error', (err) => {
      if (!down) opts.log?.warn({ err }, 'Redis is not reachable: link visits are not limited until it is back')
      down = true
    })
    redis.on('ready', () => {
      if (down) opts.log?.info('Redis is reachable again: link visit limits are shared again')
      down = false
    })
  }
  app.decorateRequest(KEY, '')
  await app.register(fastifyRateLimit, {
    global: false,
    max: opts.max,
    timeWindow: WINDOW_MS,
    skipOnError: true,
    // Distinct (link, client) pairs held in memory per process; the least recently seen are forgotten.
    cache: 20_000,
    ...(redis ? { redis, nameSpace: 'kassa:visit:' } : {}),
  })
  const check = app.createRateLimit({ keyGenerator: (req) => req[KEY] })
  return {
    async admit(req, linkId) {
      // An IPv6 client counts by its /64, as the plugin's own key does: one host holds a whole prefix.
      const request = req as FastifyRequest
      request[KEY] = `${linkId}:${normalizeIP(req.ip, 64)}`
      const r = await check(request)
      return !r.isAllowed && r.isExceeded ? { retryAfterSeconds: Math.max(1, r.ttlInSeconds) } : null
    },
    async close() {
      if (redis) await redis.quit().catch(() => redis.disconnect())
    },
  }
}
