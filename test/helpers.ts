import type { AddressInfo } from 'node:net'
import { Polar } from '@polar-sh/sdk'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { afterAll } from 'vitest'
import { buildApp } from '../src/app'
import { loadConfig, type Config } from '../src/config'
import { migrate, openPGlite, openPostgres, type Database } from '../src/db/index'
import type { Deps } from '../src/deps'
import { FixedClock, systemClock, type Clock } from '../src/lib/clock'
import { createAccessToken, createOrganization } from '../src/organizations/service'
import { polarOneAs049 } from './sdk-adapter'

/** The PostgreSQL URL the suite runs against, if any; otherwise PGlite in memory. */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined

const g = globalThis as unknown as { __kassaTestDb?: Promise<Database> }

/** One migrated database per test worker, shared by its files; tests isolate by organization. */
export function testDatabase(): Promise<Database> {
  g.__kassaTestDb ??= (async () => {
    const database = testDatabaseUrl ? await openPostgres(testDatabaseUrl) : await openPGlite()
    await migrate(database)
    return database
  })()
  return g.__kassaTestDb
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  // The flood limit is off unless a test is about it (test/visit-limit.test.ts): many tests visit one link hundreds of times from one address.
  return { ...loadConfig({ PUBLIC_URL: 'http://kassa.test', LOG_LEVEL: 'silent', DEMO_DATA: '0', LINK_VISIT_RATE_LIMIT: '0' }), ...overrides }
}

export interface TestContext {
  app: FastifyInstance
  deps: Deps
  database: Database
  clock: Clock
}

/** Builds the app on the shared test database; closed after the file's tests. */
/**
 * A database of the file's own, for tests that drain the shared job queue (settlement, webhook
 * deliveries): on the shared PostgreSQL database, files run concurrently and would run (and wait on)
 * each other's jobs. PGlite: a new in-memory instance; PostgreSQL: a new database, dropped afterwards.
 */
let isolatedCounter = 0
const isolatedUrls = new WeakMap<Database, string>()
/** The PostgreSQL URL of an isolated database (for a second node's own pool); undefined on PGlite. */
export const isolatedDatabaseUrl = (database: Database): string | undefined => isolatedUrls.get(database)
export async function isolatedDatabase(): Promise<Database> {
  if (!testDatabaseUrl) {
    const database = await openPGlite()
    await migrate(database)
    afterAll(() => database.close())
    return database
  }
  const name = `kassa_iso_${process.pid}_${isolatedCounter++}`
  const admin = new URL(testDatabaseUrl)
  admin.pathname = '/postgres'
  const adminDb = await openPostgres(admin.toString(), { max: 1 })
  await sql.raw(`create database ${name}`).execute(adminDb.db)
  const url = new URL(testDatabaseUrl)
  url.pathname = `/${name}`
  const database = await openPostgres(url.toString())
  isolatedUrls.set(database, url.toString())
  await migrate(database)
  afterAll(async () => {
    await database.close()
    // The pool's sockets may still be closing: retry rather than terminate them.
    for (let i = 0; ; i++) {
      try {
        await sql.raw(`drop database if exists ${name}`).execute(adminDb.db)
        break
      } catch (err) {
        if (i >= 50) throw err
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    await adminDb.close()
  })
  return database
}

export async function createTestApp(opts: { clock?: Clock; config?: Partial<Config>; isolated?: boolean; database?: Database } = {}): Promise<TestContext> {
  const database = opts.database ?? (opts.isolated ? await isolatedDatabase() : await testDatabase())
  const config = testConfig(opts.config)
  const clock = opts.clock ?? systemClock
  const app = await buildApp({ config, database, clock, logger: false })
  await app.ready()
  afterAll(() => app.close())
  return { app, deps: { db: database.db, clock, config }, database, clock }
}

let orgCounter = 0

export interface TestOrg {
  organizationId: string
  token: string
  headers: { authorization: string }
}

/** A fresh organization with an all-scopes token: every test gets its own tenant. */
export async function createOrg(ctx: Pick<TestContext, 'deps'>, name = 'Test Org'): Promise<TestOrg> {
  const slug = `org-${process.pid}-${Date.now().toString(36)}-${(orgCounter++).toString(36)}`
  const { organization, accessToken } = await createOrganization(ctx.deps, { name, slug })
  return { organizationId: organization.id, token: accessToken, headers: { authorization: `Bearer ${accessToken}` } }
}

export async function tokenWithScopes(ctx: Pick<TestContext, 'deps'>, organizationId: string, scopes: string[]) {
  const token = await createAccessToken(ctx.deps, { organizationId, scopes })
  return { authorization: `Bearer ${token}` }
}

/** Starts the app on a loopback port (for the SDK and real HTTP clients). */
export async function listen(app: FastifyInstance): Promise<string> {
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

/**
 * Polar's official SDK pointed at Kassa, the way an integrator would use it: 0.49.0 by default, 1.x (through
 * test/sdk-adapter.ts, which keeps 0.49's call shape for the assertions) in vitest's `sdk-1.x` project.
 */
export async function polarClient(app: FastifyInstance, token: string): Promise<Polar> {
  const baseUrl = await listen(app)
  if (sdkLine === '1.x') return polarOneAs049(token, baseUrl)
  return new Polar({ accessToken: token, serverURL: baseUrl })
}

/** Which SDK line `polarClient` hands out: set by vitest.config.ts's projects. */
export const sdkLine: '0.49' | '1.x' = process.env.KASSA_SDK === '1' ? '1.x' : '0.49'

export { FixedClock }
