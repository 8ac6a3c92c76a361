import { isIP } from 'node:net'
import { z } from 'zod'
import { parseEncryptionKey } from './lib/secret-box'

const booleanFlag = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v))

const httpUrl = z
  .string()
  .url()
  .refine((v) => /^https?:\/\//.test(v), 'must be an http(s) URL')
  .transform((v) => v.replace(/\/+$/, ''))

/** `a.b.c.d`, an IPv6 address, or either with a `/prefix`. */
const isAddressOrCidr = (v: string) => {
  const [addr = '', prefix, extra] = v.split('/')
  const family = isIP(addr)
  if (!family || extra !== undefined) return false
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128))
}

/**
 * Fastify's `trustProxy`, minus `true`: trusting every hop would let any client pick its own address with
 * `X-Forwarded-For`, which is what per-client rate limits count by.
 */
const trustProxy = z
  .string()
  .trim()
  .transform((v, ctx): false | number | string[] => {
    if (['0', 'false', 'no', 'off'].includes(v)) return false
    if (/^\d+$/.test(v)) return Number(v)
    const list = v.split(',').map((s) => s.trim()).filter(Boolean)
    const bad = list.filter((a) => !isAddressOrCidr(a))
    if (list.length === 0 || bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `must be false, a number of proxy hops, or a comma-separated list of proxy addresses or CIDRs${bad.length ? ` (not an address: ${bad.join(', ')})` : ''}`,
      })
      return z.NEVER
    }
    return list
  })

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .refine((v) => /^postgres(ql)?:\/\/.+/.test(v), 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  PUBLIC_URL: httpUrl.optional(),
  LINK_BASE_URL: httpUrl.optional(),
  CHECKOUT_TTL_SECONDS: z.coerce.number().int().min(60).max(30 * 86400).default(86400),
  CHECKOUT_RETENTION_DAYS: z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number of days (0 keeps sessions forever)')
    .transform(Number)
    .pipe(z.number().max(36500, 'must be at most 36500 days (0 keeps sessions forever)'))
    .default(30),
  LINK_VISIT_RATE_LIMIT: z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number of new sessions a minute per client and link (0 turns the limit off)')
    .transform(Number)
    .pipe(z.number().max(1_000_000, 'must be at most 1000000 (0 turns the limit off)'))
    .default(60),
  REDIS_URL: z
    .string()
    .refine((v) => /^rediss?:\/\/.+/.test(v), 'must be a redis:// or rediss:// URL')
    .optional(),
  VISIT_COUNT_FLUSH_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),
  DEMO_DATA: booleanFlag.optional(),
  WEBHOOKS_ALLOW_INSECURE: booleanFlag.optional(),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).default(5000),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
  WEBHOOK_ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(2),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: trustProxy.default(false),
  ENCRYPTION_KEY: z.string().trim().optional(),
  STRIPE_SECRET_KEY: z.string().trim().regex(/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/, 'must be a Stripe secret key (sk_test_…, sk_live_…) or restricted key (rk_…)').optional(),
  STRIPE_PUBLISHABLE_KEY: z.string().trim().regex(/^pk_(test|live)_[A-Za-z0-9_]+$/, 'must be a Stripe publishable key (pk_test_… or pk_live_…)').optional(),
  STRIPE_WEBHOOK_SECRET: z.string().trim().regex(/^whsec_[A-Za-z0-9_]+$/, 'must be a Stripe webhook signing secret (whsec_…)').optional(),
  STRIPE_API_URL: httpUrl.optional(),
  STRIPE_RECONCILE_AFTER_SECONDS: z.coerce.number().int().min(10).max(86400).default(600),
  RENEWAL_RETRY_DAYS: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*$/, 'must be a comma-separated list of days between retries of a failed renewal, e.g. 2,5,7,7')
    .transform((v) => v.split(',').map((d) => Number(d.trim())))
    .refine((days) => days.length <= 20 && days.every((d) => d > 0 && d <= 365), 'must list at most 20 retries, each after more than 0 and at most 365 days')
    .default([2, 5, 7, 7]),
})

export type Config = {
  port: number
  host: string
  /** PostgreSQL URL; undefined means the embedded database in `dataDir`. */
  databaseUrl: string | undefined
  dataDir: string
  publicUrl: string
  linkBaseUrl: string
  checkoutTtlSeconds: number
  /** Days after `expires_at` that an expired, never-confirmed session is deleted; 0 keeps them forever. */
  checkoutRetentionDays: number
  /** New sessions a minute per client IP and link; 0 is no limit. */
  linkVisitRateLimit: number
  /** Shared store for the limits of every node; undefined keeps them per process. */
  redisUrl: string | undefined
  /** How often each process writes its visit counts. */
  visitCountFlushSeconds: number
  demoData: boolean
  webhooksAllowInsecure: boolean
  webhookRetryBaseMs: number
  /** Webhook deliveries in flight at once per process, in their own lane of the worker. */
  webhookConcurrency: number
  /** Deliveries in flight at once to one endpoint, across every process. */
  webhookEndpointConcurrency: number
  logLevel: string
  /** Fastify's `trustProxy`: false, the number of proxy hops in front, or the proxies' addresses/CIDRs. */
  trustProxy: false | number | string[]
  /** 32 bytes (base64 or hex) sealing stored Stripe secrets; required once an organization's Stripe keys are stored. */
  encryptionKey: string | undefined
  /** The install's default Stripe keys, for every organization without settings of its own (a single-merchant install). */
  stripeSecretKey: string | undefined
  stripePublishableKey: string | undefined
  stripeWebhookSecret: string | undefined
  /** Where the Stripe client sends its requests instead of api.stripe.com (a local fake in tests). */
  stripeApiUrl: string | undefined
  /** How long a session may stay `confirmed` on Stripe before reconciliation asks Stripe about its intent. */
  stripeReconcileAfterSeconds: number
  /** Days between the retries of a failed renewal (Polar's dunning: 2, 5, 7, 7); after the last, the subscription ends. */
  renewalRetryDays: number[]
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

function encryptionKeyProblems(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return []
  try {
    parseEncryptionKey(value)
    return []
  } catch {
    return ['ENCRYPTION_KEY: must be 32 bytes, as 64 hex characters or base64 (generate one with `openssl rand -base64 32`)']
  }
}

/** The only reader of the environment: every bad key is reported at once. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw = Object.fromEntries(
    Object.keys(envSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  )
  const parsed = envSchema.safeParse(raw)
  // Checked apart from the schema so the key, a secret, is never echoed in the message.
  const keyProblems = encryptionKeyProblems(raw.ENCRYPTION_KEY)
  if (!parsed.success) {
    throw new ConfigError([
      ...parsed.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify(raw[String(i.path[0])])}: ${i.message}`),
      ...keyProblems,
    ])
  }
  const e = parsed.data
  const stripeProblems: string[] = [...keyProblems]
  if ((e.STRIPE_SECRET_KEY === undefined) !== (e.STRIPE_PUBLISHABLE_KEY === undefined)) {
    stripeProblems.push('STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY: set both (the default Stripe account of every organization) or neither')
  } else if (e.STRIPE_SECRET_KEY && e.STRIPE_PUBLISHABLE_KEY && e.STRIPE_SECRET_KEY.split('_')[1] !== e.STRIPE_PUBLISHABLE_KEY.split('_')[1]) {
    stripeProblems.push('STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY: one is a test key and the other a live key; use a pair from the same mode')
  }
  if (e.STRIPE_WEBHOOK_SECRET && !e.STRIPE_SECRET_KEY) stripeProblems.push('STRIPE_WEBHOOK_SECRET: set STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY too')
  if (stripeProblems.length) throw new ConfigError(stripeProblems)
  const embedded = e.DATABASE_URL === undefined
  const publicUrl = e.PUBLIC_URL ?? `http://localhost:${e.PORT}`
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    publicUrl,
    linkBaseUrl: e.LINK_BASE_URL ?? `${publicUrl}/buy`,
    checkoutTtlSeconds: e.CHECKOUT_TTL_SECONDS,
    checkoutRetentionDays: e.CHECKOUT_RETENTION_DAYS,
    linkVisitRateLimit: e.LINK_VISIT_RATE_LIMIT,
    redisUrl: e.REDIS_URL,
    visitCountFlushSeconds: e.VISIT_COUNT_FLUSH_SECONDS,
    // The embedded database is the local/demo mode: demo data and local webhooks are on by default there.
    demoData: e.DEMO_DATA ?? embedded,
    webhooksAllowInsecure: e.WEBHOOKS_ALLOW_INSECURE ?? embedded,
    webhookRetryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
    webhookConcurrency: e.WEBHOOK_CONCURRENCY,
    webhookEndpointConcurrency: e.WEBHOOK_ENDPOINT_CONCURRENCY,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    encryptionKey: e.ENCRYPTION_KEY,
    stripeSecretKey: e.STRIPE_SECRET_KEY,
    stripePublishableKey: e.STRIPE_PUBLISHABLE_KEY,
    stripeWebhookSecret: e.STRIPE_WEBHOOK_SECRET,
    stripeApiUrl: e.STRIPE_API_URL,
    stripeReconcileAfterSeconds: e.STRIPE_RECONCILE_AFTER_SECONDS,
    renewalRetryDays: e.RENEWAL_RETRY_DAYS,
  }
}
