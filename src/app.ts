import fastifyCompress from '@fastify/compress'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import { constants as zlibConstants } from 'node:zlib'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { jsonSchemaTransform, serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { sql } from 'kysely'
import { z } from 'zod'
import type { Config } from './config'
import type { Database } from './db/index'
import type { Deps } from './deps'
import { checkoutLinkRoutes } from './checkout-links/routes'
import { findLinkForVisit, LINK_CONFIG_CHANNEL, LinkVisitCache } from './checkout-links/service'
import { checkoutPageRoutes, linkRedirectRoutes } from './checkout-page/routes'
import { checkoutRoutes } from './checkouts/routes'
import type { FrontDoor } from './checkouts/visit'
import { VisitCounter } from './checkouts/visit-counts'
import { createVisitLimiter } from './checkouts/visit-limit'
import { customFieldRoutes } from './custom-fields/routes'
import { customerRoutes } from './customers/routes'
import { dashboardRoutes } from './dashboard/routes'
import { discountRoutes } from './discounts/routes'
import { embedRoutes } from './embed/routes'
import { registerAuth } from './auth/hooks'
import { API_VERSIONS, registerApiVersion } from './http/api-version'
import { authenticateToken } from './organizations/service'
import { authenticateSession } from './sessions/service'
import { BODY_LIMIT, registerBodyParsing } from './http/body'
import { clientErrorHandler, frameworkErrors, registerErrorHandler } from './http/error-handler'
import { zodValidatorCompiler } from './http/zod-compiler'
import { genReqId, withLogSerializers } from './http/logging'
import { parseQuery } from './http/query'
import { systemClock, type Clock } from './lib/clock'
import { metricRoutes } from './metrics/routes'
import { orderRoutes } from './orders/routes'
import { organizationAccessTokenRoutes, organizationRoutes } from './organizations/routes'
import { paymentSettingsRoutes } from './payment-settings/routes'
import { sandboxProcessor, type PaymentProcessor } from './payments/processor'
import { productRoutes } from './products/routes'
import { refundRoutes } from './refunds/routes'
import { isHttps, sessionCookieName } from './auth/cookie'
import { sessionRoutes } from './sessions/routes'
import { stripeWebhookRoutes } from './stripe-webhooks/routes'
import { subscriptionRoutes } from './subscriptions/routes'
import { webhookRoutes } from './webhooks/routes'

export interface BuildAppOptions {
  config: Config
  database: Database
  clock?: Clock
  payments?: PaymentProcessor
  wakeWorker?: () => void
  logger?: FastifyServerOptions['logger']
}

export const API_VERSION = '0.1.0'

declare module 'fastify' {
  interface FastifyInstance {
    deps: Deps
    /** The link visit's counters, flood limit and links' cache (tests flush the counters through here). */
    frontDoor: Required<Pick<FrontDoor, 'counts' | 'linkCache'>> & FrontDoor
  }
}

type OpenApiDocument = { paths?: Record<string, Record<string, { security?: unknown[]; parameters?: unknown[] }>> }

/**
 * The headers Polar's SDK 1.x sends, declared on every operation of the API: `Polar-Version` (src/http/api-version.ts)
 * on each, `Polar-Organization` (src/auth/hooks.ts) on those that take a token or a dashboard session.
 */
function withPolarHeaders<T>(doc: T): T {
  const paths = (doc as OpenApiDocument).paths ?? {}
  for (const [path, ops] of Object.entries(paths)) {
    if (!path.startsWith('/v1/')) continue
    for (const op of Object.values(ops)) {
      if (typeof op !== 'object' || op === null) continue
      const authenticated = !(Array.isArray(op.security) && op.security.length === 0)
      op.parameters = [
        ...(op.parameters ?? []),
        { in: 'header', name: 'Polar-Version', required: false, schema: { type: 'string', enum: [...API_VERSIONS] }, description: 'The API version the caller speaks (answered back); any other value is a 404.' },
        ...(authenticated
          ? [{ in: 'header', name: 'Polar-Organization', required: false, schema: { type: 'string', format: 'uuid' }, description: "The organization to act on: it must be the token's (or the dashboard session's); another one is a 403." }]
          : []),
      ]
    }
  }
  return doc
}

export async function buildApp(opts: BuildAppOptions): Promise<FastifyInstance> {
  const deps: Deps = {
    db: opts.database.db,
    clock: opts.clock ?? systemClock,
    config: opts.config,
    payments: opts.payments ?? sandboxProcessor,
    wakeWorker: opts.wakeWorker,
  }
  const app = Fastify({
    logger: withLogSerializers(opts.logger ?? { level: opts.config.logLevel }),
    bodyLimit: BODY_LIMIT,
    // A hop count is Fastify's runtime semantics too; its types only know the function form.
    trustProxy: typeof opts.config.trustProxy === 'number' ? hopsOf(opts.config.trustProxy) : opts.config.trustProxy,
    // genReqId reads x-request-id itself: Fastify would take any value the header carries.
    requestIdHeader: false,
    genReqId,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048, querystringParser: parseQuery },
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>()

  // main.ts starts the job worker with the same deps and hands `wakeWorker` back through here.
  app.decorate('deps', deps)
  app.setValidatorCompiler(zodValidatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerErrorHandler(app)
  registerBodyParsing(app)
  registerApiVersion(app)
  registerAuth(app, deps, { token: authenticateToken, session: authenticateSession })

  // Over https, browsers are told to use nothing else for a year (pages, cookies and the API alike).
  const hsts = isHttps(opts.config.publicUrl) ? 'max-age=31536000' : undefined
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
    reply.header('x-content-type-options', 'nosniff')
    if (hsts) reply.header('strict-transport-security', hsts)
  })

  // The checkout page is ~33 KB of HTML with its CSS and script inline: ~10 KB once compressed.
  await app.register(fastifyCompress, { threshold: 1024, encodings: ['br', 'gzip'], brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 5 } } })
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Kassa API',
        version: API_VERSION,
        description:
          "Kassa speaks Polar's public v1 API for checkout links, checkouts and the catalog behind them. " +
          'Authenticate with an organization access token: `Authorization: Bearer polar_oat_…`. ' +
          "Kassa's dashboard uses the same API with the session cookie of `POST /v1/auth/login` (and an `x-csrf-token` header on changes).",
      },
      servers: [{ url: opts.config.publicUrl }],
      components: {
        securitySchemes: {
          access_token: { type: 'http', scheme: 'bearer' },
          session_cookie: { type: 'apiKey', in: 'cookie', name: sessionCookieName(isHttps(opts.config.publicUrl)) },
        },
      },
      security: [{ access_token: [] }, { session_cookie: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: (doc) => ('openapiObject' in doc ? withPolarHeaders(doc.openapiObject) : doc.swaggerObject),
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())

  app.get('/healthz', { schema: { hide: true, response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }))
  app.get(
    '/readyz',
    { schema: { hide: true, response: { 200: z.object({ status: z.literal('ok') }), 503: z.object({ status: z.literal('unavailable') }) } } },
    async (request, reply) => {
      try {
        await sql`select 1`.execute(deps.db)
        return { status: 'ok' as const }
      } catch (err) {
        request.log.warn({ err }, 'database not reachable')
        return reply.status(503).send({ status: 'unavailable' as const })
      }
    },
  )

  const frontDoor = await startFrontDoor(app, deps, opts.database)

  await app.register(productRoutes, { prefix: '/v1/products', deps })
  await app.register(discountRoutes, { prefix: '/v1/discounts', deps })
  await app.register(customFieldRoutes, { prefix: '/v1/custom-fields', deps })
  await app.register(customerRoutes, { prefix: '/v1/customers', deps })
  await app.register(orderRoutes, { prefix: '/v1/orders', deps })
  await app.register(metricRoutes, { prefix: '/v1/metrics', deps })
  await app.register(subscriptionRoutes, { prefix: '/v1/subscriptions', deps })
  await app.register(refundRoutes, { prefix: '/v1/refunds', deps })
  await app.register(checkoutLinkRoutes, { prefix: '/v1/checkout-links', deps })
  await app.register(linkRedirectRoutes, { prefix: '/v1/checkout-links', deps, frontDoor })
  await app.register(checkoutRoutes, { prefix: '/v1/checkouts', deps })
  await app.register(webhookRoutes, { prefix: '/v1/webhooks', deps })
  await app.register(organizationRoutes, { prefix: '/v1/organizations', deps })
  await app.register(paymentSettingsRoutes, { prefix: '/v1/organizations', deps })
  await app.register(organizationAccessTokenRoutes, { prefix: '/v1/organization-access-tokens', deps })
  await app.register(sessionRoutes, { prefix: '/v1/auth', deps })
  await app.register(stripeWebhookRoutes, { deps })
  await app.register(checkoutPageRoutes, { deps, frontDoor })
  await app.register(embedRoutes, { deps })
  await app.register(dashboardRoutes)

  return app
}

/**
 * The link visit's helpers beside the database (issue 10): the visit counters, flushed every
 * `VISIT_COUNT_FLUSH_SECONDS` and once more on close, the flood limit (per process, or shared
 * through `REDIS_URL`), and the links' configuration cache, trusted while its LISTEN is up.
 */
async function startFrontDoor(app: FastifyInstance, deps: Deps, database: Database): Promise<FastifyInstance['frontDoor']> {
  const counts = new VisitCounter()
  const limiter = await createVisitLimiter(app, { max: deps.config.linkVisitRateLimit, redisUrl: deps.config.redisUrl, log: app.log })
  const flush = () => counts.flush(deps.db).catch((err) => app.log.warn({ err, pending: counts.size }, 'visit counts not written; kept for the next flush'))
  const timer = setInterval(flush, deps.config.visitCountFlushSeconds * 1000)
  timer.unref()
  const linkCache = new LinkVisitCache({ load: (secret) => findLinkForVisit(deps.db, secret) })
  let wasLost = false
  const listener = await database.listen(LINK_CONFIG_CHANNEL, {
    onMessage: (payload) => linkCache.invalidate(payload),
    onReady: () => {
      linkCache.ready()
      if (wasLost) app.log.info('link configuration changes are heard again: link visits are cached again')
      wasLost = false
    },
    onLost: (err) => {
      linkCache.lost()
      wasLost = true
      app.log.warn({ err }, 'lost the LISTEN for link configuration changes: link visits read the database until it is back')
    },
  })
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await listener.close()
    await flush()
    await limiter?.close()
  })
  const frontDoor = { counts, linkCache, ...(limiter ? { limiter } : {}) }
  app.decorate('frontDoor', frontDoor)
  return frontDoor
}

/** Trust the `hops` nearest proxies (proxy-addr's hop count: the socket peer is hop 0). */
const hopsOf = (hops: number) => (_address: string, hop: number) => hop < hops
