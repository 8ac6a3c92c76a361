import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyBaseLogger } from 'fastify'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { buildApp } from '../src/app'
import { migrate, openPGlite, type Database } from '../src/db/index'
import { seedDemoData } from '../src/demo'
import { systemClock } from '../src/lib/clock'
import { verifyPassword } from '../src/lib/password'
import { authenticateToken } from '../src/organizations/service'
import { listProducts } from '../src/products/service'
import { testConfig, testDatabase, testDatabaseUrl } from './helpers'

// Every case starts real processes that open PGlite (seconds each, more on a loaded 2-core machine).
vi.setConfig({ testTimeout: 120_000 })

const root = fileURLToPath(new URL('..', import.meta.url))
const TOKEN_RE = /^polar_oat_[A-Za-z0-9_-]{43}$/
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const tempDirs: string[] = []
const children = new Set<ChildProcess>()
afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kassa-cli-'))
  tempDirs.push(dir)
  return dir
}

/** The environment a child gets: ours without any Kassa setting, plus `env`. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env }
  for (const k of ['PORT', 'HOST', 'DATABASE_URL', 'TEST_DATABASE_URL', 'DATA_DIR', 'PUBLIC_URL', 'LINK_BASE_URL', 'DEMO_DATA', 'LOG_LEVEL']) delete base[k]
  return { ...base, ...env }
}

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function run(script: string, args: string[], env: Record<string, string>, input?: string): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env: childEnv(env), stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
  if (input !== undefined) child.stdin!.end(input)
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child)
      resolve({ code, signal, stdout, stderr })
    }),
  )
  return { child, done }
}

/** `node --import tsx src/cli/main.ts …`, as `npm run --silent admin -- …` runs it. */
const cli = (args: string[], env: Record<string, string>, input?: string) => run('src/cli/main.ts', args, env, input).done

/** The one JSON line a successful command prints. */
function jsonLine(r: Run): Record<string, string> {
  expect(r, r.stderr).toMatchObject({ code: 0 })
  const lines = r.stdout.split('\n')
  expect(lines).toHaveLength(2)
  expect(lines[1]).toBe('')
  return JSON.parse(lines[0]!)
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise((r) => server.close(r))
  return port
}

async function startServer(env: Record<string, string>) {
  const port = await freePort()
  const server = run('src/main.ts', [], { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env })
  const base = `http://127.0.0.1:${port}`
  let exited: Run | undefined
  void server.done.then((r) => (exited = r))
  const deadline = Date.now() + 30_000
  for (;;) {
    if (exited) throw new Error(`the server exited during start-up (${exited.code}): ${exited.stderr}`)
    const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false)
    if (ok) return { ...server, base }
    if (Date.now() > deadline) throw new Error('the server did not become healthy within 30 s')
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Builds the app on a database in this process, to check a token the CLI printed. */
async function productsStatus(database: Database, token: string): Promise<number> {
  const app = await buildApp({ config: testConfig(), database, logger: false })
  try {
    const res = await app.inject({ method: 'GET', url: '/v1/products/', headers: { authorization: `Bearer ${token}` } })
    return res.statusCode
  } finally {
    await app.close()
  }
}

describe('admin CLI: usage', () => {
  it.concurrent.each([
    [[], /no command given/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['create-org', '--name', 'Acme'], /--slug is required/],
    [['create-org', '--name', 'Acme', '--slug', 'acme', '--colour', 'red'], /Unknown option '--colour'/],
    [['create-org', '--name', '--slug', 'acme'], /--name.*ambiguous/],
    [['create-token', '--org', 'not-a-uuid'], /--org must be an organization id/],
    [['create-token', '--org', '01a2135c-78cd-721c-8a37-bcc5d4887b7b', '--scopes', ','], /--scopes needs at least one scope/],
    [['create-user', '--email', 'a@b.co', '--org', '01a2135c-78cd-721c-8a37-bcc5d4887b7b'], /create-user: no password given/],
  ])('%j exits 2 with a message on stderr and nothing on stdout', async (args, message) => {
    const r = await cli(args as string[], { DATA_DIR: join(tmpdir(), 'kassa-cli-never-created') })
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(message as RegExp)
    expect(r.stderr).toMatch(/--help/)
  })

  it('--help prints the usage on stdout and exits 0', async () => {
    const r = await cli(['--help'], {})
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/create-org\s+--name NAME --slug SLUG/)
    expect(r.stdout).toMatch(/create-token/)
    expect(r.stdout).toMatch(/create-user/)
  })

  it('a bad configuration stops the server with a message naming the key', async () => {
    const r = await run('src/main.ts', [], { PORT: 'abc', DATA_DIR: tempDataDir() }).done
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/PORT/)
  })

  it('a bad configuration stops the CLI too (exit 78)', async () => {
    const r = await cli(['create-org', '--name', 'Acme', '--slug', 'acme'], { DATA_DIR: tempDataDir(), LOG_LEVEL: 'loud' })
    expect(r.code).toBe(78)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/LOG_LEVEL/)
  })
})

describe('admin CLI on the embedded database', () => {
  it('without a server: opens the data directory itself, and leaves it closed', async () => {
    const dataDir = tempDataDir()
    const org = jsonLine(await cli(['create-org', '--name', 'Acme', '--slug', 'acme'], { DATA_DIR: dataDir }))
    expect(Object.keys(org)).toEqual(['organization_id', 'access_token'])
    expect(org.organization_id).toMatch(UUID_RE)
    expect(org.access_token).toMatch(TOKEN_RE)
    expect(existsSync(join(dataDir, 'admin.sock'))).toBe(false)

    const scoped = jsonLine(
      await cli(['create-token', '--org', org.organization_id!, '--scopes', 'products:read', '--comment', 'ci'], { DATA_DIR: dataDir }),
    )
    expect(Object.keys(scoped)).toEqual(['access_token'])
    expect(scoped.access_token).toMatch(TOKEN_RE)

    expect(existsSync(join(dataDir, 'admin.sock'))).toBe(false)
    // The CLI has exited and closed the files: this process can open them.
    const database = await openPGlite(join(dataDir, 'pglite'))
    try {
      expect(await productsStatus(database, org.access_token!)).toBe(200)
      expect(await productsStatus(database, scoped.access_token!)).toBe(200)
      const auth = await authenticateToken({ db: database.db, clock: systemClock }, scoped.access_token!)
      expect(auth?.organizationId).toBe(org.organization_id)
      expect([...auth!.scopes]).toEqual(['products:read'])
    } finally {
      await database.close()
    }
  })

  it('clears a socket left by a crashed process', async () => {
    const dataDir = tempDataDir()
    const sock = join(dataDir, 'admin.sock')
    // A process that binds the socket and dies without cleaning up.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`])
    expect(statSync(sock).isSocket()).toBe(true)

    const org = jsonLine(await cli(['create-org', '--name', 'Phoenix', '--slug', 'phoenix'], { DATA_DIR: dataDir }))
    expect(org.organization_id).toMatch(UUID_RE)
    expect(existsSync(sock)).toBe(false)
  })

  it('creates DATA_DIR private (0700)', async () => {
    const dataDir = join(tempDataDir(), 'new', 'data')
    jsonLine(await cli(['create-org', '--name', 'Fresh', '--slug', 'fresh'], { DATA_DIR: dataDir }))
    expect(statSync(dataDir).mode & 0o777).toBe(0o700)
  })

  it('with a server running: hands the command to it over the socket', async () => {
    const dataDir = tempDataDir()
    // A DATA_DIR others could enter is tightened at start.
    chmodSync(dataDir, 0o755)
    const server = await startServer({ DATA_DIR: dataDir, DEMO_DATA: '0' })
    expect(statSync(dataDir).mode & 0o777).toBe(0o700)
    const sock = join(dataDir, 'admin.sock')
    expect(statSync(sock).isSocket()).toBe(true)
    expect(statSync(sock).mode & 0o777).toBe(0o600)

    const org = jsonLine(await cli(['create-org', '--name', 'Acme', '--slug', 'acme'], { DATA_DIR: dataDir }))
    expect(org.access_token).toMatch(TOKEN_RE)
    // The server (which holds the database) knows the token at once: the command ran there.
    const res = await fetch(`${server.base}/v1/products/`, { headers: { authorization: `Bearer ${org.access_token}` } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ items: [], pagination: { total_count: 0, max_page: 0 } })

    // The password from standard input (the first line), no warning.
    const piped = await cli(['create-user', '--email', 'ops@acme.test', '--org', org.organization_id!], { DATA_DIR: dataDir }, 'correct horse\nignored\n')
    const user = jsonLine(piped)
    expect(user).toEqual({ user_id: expect.stringMatching(UUID_RE), email: 'ops@acme.test' })
    expect(piped.stderr).not.toMatch(/warning/)
    expect(piped.stdout + piped.stderr).not.toContain('correct horse')
    const login = await fetch(`${server.base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ops@acme.test', password: 'correct horse' }) })
    expect(login.status).toBe(200)
    // --password still works, with a warning.
    const again = await cli(['create-user', '--email', 'OPS@acme.test', '--password', 'another one', '--org', org.organization_id!], { DATA_DIR: dataDir })
    expect(jsonLine(again)).toEqual(user)
    expect(again.stderr).toMatch(/already had an account.*password is unchanged/)
    expect(again.stderr).toMatch(/warning: --password shows up in your shell history and in the process list/)
    // Empty piped input is no password.
    const empty = await cli(['create-user', '--email', 'x@acme.test', '--org', org.organization_id!], { DATA_DIR: dataDir }, '\n')
    expect(empty).toMatchObject({ code: 2, stdout: '' })
    expect(empty.stderr).toMatch(/no password given/)

    // Errors come back over the socket as they would locally.
    const taken = await cli(['create-org', '--name', 'Acme', '--slug', 'acme'], { DATA_DIR: dataDir })
    expect(taken).toMatchObject({ code: 1, stdout: '' })
    expect(taken.stderr).toMatch(/--slug: An organization with the slug "acme" already exists/)
    const unknownScope = await cli(['create-token', '--org', org.organization_id!, '--scopes', 'products:read,coffee:make'], { DATA_DIR: dataDir })
    expect(unknownScope).toMatchObject({ code: 1, stdout: '' })
    expect(unknownScope.stderr).toMatch(/--scopes: Unknown scope\(s\): coffee:make/)
    const unknownOrg = await cli(['create-token', '--org', '01a2135c-78cd-721c-8a37-bcc5d4887b7b'], { DATA_DIR: dataDir })
    expect(unknownOrg).toMatchObject({ code: 1, stdout: '' })
    expect(unknownOrg.stderr).toMatch(/--org: Organization not found/)

    // A second server on the same files is refused, naming the first.
    const second = await run('src/main.ts', [], { PORT: String(await freePort()), HOST: '127.0.0.1', DATA_DIR: dataDir, DEMO_DATA: '0' }).done
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(new RegExp(`a Kassa server \\(pid ${server.child.pid}\\) is already using it`))

    server.child.kill('SIGTERM')
    const exit = await server.done
    expect(exit, exit.stderr).toMatchObject({ code: 0 })
    expect(existsSync(sock)).toBe(false)

    // The server closed the files: the password was stored as a scrypt hash.
    const database = await openPGlite(join(dataDir, 'pglite'))
    try {
      const row = await database.db.selectFrom('users').select('password_hash').where('email', '=', 'ops@acme.test').executeTakeFirstOrThrow()
      expect(row.password_hash).toMatch(/^scrypt\$/)
      expect(await verifyPassword('correct horse', row.password_hash)).toBe(true)
    } finally {
      await database.close()
    }
  })
})

describe('admin CLI on PostgreSQL', () => {
  it.skipIf(!testDatabaseUrl)('connects, migrates, runs and closes', async () => {
    const slug = `cli-${process.pid}-${Date.now().toString(36)}`
    const env = { DATABASE_URL: testDatabaseUrl!, DATA_DIR: tempDataDir() }
    const org = jsonLine(await cli(['create-org', '--name', 'Acme PG', '--slug', slug], env))
    const token = jsonLine(await cli(['create-token', '--org', org.organization_id!, '--scopes', 'products:write'], env))
    const user = jsonLine(await cli(['create-user', '--email', `${slug}@acme.test`, '--org', org.organization_id!], env, 'long enough\n'))
    expect(user.email).toBe(`${slug}@acme.test`)
    const taken = await cli(['create-org', '--name', 'Acme PG', '--slug', slug], env)
    expect(taken).toMatchObject({ code: 1, stdout: '' })
    // No socket on PostgreSQL: processes share the database directly.
    expect(existsSync(join(env.DATA_DIR, 'admin.sock'))).toBe(false)

    const database = await testDatabase()
    expect(await productsStatus(database, org.access_token!)).toBe(200)
    expect(await productsStatus(database, token.access_token!)).toBe(200)
  })
})

describe('demo data', () => {
  it('fills an empty database once, through the services', async () => {
    const database = await openPGlite()
    afterAll(() => database.close())
    await migrate(database)
    const logged: unknown[] = []
    const log = { info: (...args: unknown[]) => logged.push(args), error: () => {}, warn: () => {} } as unknown as FastifyBaseLogger
    let printed = ''
    const config = testConfig()

    const demo = await seedDemoData({ db: database.db, config, log, out: { write: (s: string) => (printed += s) } })
    expect(demo).toBeDefined()
    const deps = { db: database.db, clock: systemClock }
    const auth = await authenticateToken(deps, demo!.accessToken)
    expect(auth?.organizationId).toBe(demo!.organizationId)

    const org = await database.db.selectFrom('organizations').select(['name', 'slug']).executeTakeFirstOrThrow()
    expect(org).toEqual({ name: 'Demo Store', slug: 'demo' })

    const { items } = await listProducts(deps, auth!, { page: 1, limit: 10, sorting: ['created_at'] })
    const byName = Object.fromEntries(items.map((p) => [p.name, p]))
    expect(Object.keys(byName).sort()).toEqual(['Kassa Sticker Pack', 'Pro Plan', 'Starter Guide', 'Support the Project'])
    expect(byName['Kassa Sticker Pack']).toMatchObject({ is_recurring: false, prices: [{ amount_type: 'fixed', price_amount: 1200, price_currency: 'usd' }] })
    expect(byName['Pro Plan']).toMatchObject({
      is_recurring: true,
      recurring_interval: 'month',
      trial_interval: 'day',
      trial_interval_count: 7,
      prices: [{ amount_type: 'fixed', price_amount: 2900 }],
      attached_custom_fields: [{ required: false, custom_field: { type: 'select', name: 'How did you hear about us?' } }],
    })
    expect(byName['Support the Project']).toMatchObject({ prices: [{ amount_type: 'custom', minimum_amount: 500, preset_amount: 1500 }] })
    expect(byName['Starter Guide']).toMatchObject({ prices: [{ amount_type: 'fixed', price_amount: 0 }] })

    const discount = await database.db
      .selectFrom('discounts')
      .select(['code', 'type', 'basis_points', 'duration', 'organization_id'])
      .executeTakeFirstOrThrow()
    expect(discount).toEqual({ code: 'LAUNCH20', type: 'percentage', basis_points: 2000, duration: 'once', organization_id: demo!.organizationId })

    const user = await database.db.selectFrom('users').select(['email', 'password_hash']).executeTakeFirstOrThrow()
    expect(user.email).toBe('demo@kassa.local')
    expect(await verifyPassword(demo!.user.password!, user.password_hash)).toBe(true)

    // What a newcomer needs, on the terminal; the token and password never in the structured log.
    expect(printed).toContain(demo!.organizationId)
    expect(printed).toContain(demo!.accessToken)
    expect(printed).toContain('demo@kassa.local')
    expect(printed).toContain(demo!.user.password!)
    expect(printed).toContain(`npm run --silent admin -- create-token --org ${demo!.organizationId}`)
    const logText = JSON.stringify(logged)
    expect(logText).toContain(demo!.organizationId)
    expect(logText).not.toContain(demo!.accessToken)
    expect(logText).not.toContain(demo!.user.password!)
    if (demo!.linkUrl) expect(logText).not.toContain(demo!.linkUrl)

    // Second start: the database has an organization, nothing happens.
    expect(await seedDemoData({ db: database.db, config, log, out: false })).toBeUndefined()
    const counts = await Promise.all(
      (['organizations', 'products', 'discounts', 'users', 'custom_fields'] as const).map((t) =>
        database.db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ),
    )
    expect(counts.map((c) => Number(c.n))).toEqual([1, 4, 1, 1, 1])
  })
})
