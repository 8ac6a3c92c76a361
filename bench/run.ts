/**
 * `npm run bench`: the link visit (GET /buy/{link secret} → 307 with a session inserted) under load,
 * Kassa beside a bare `node:http` baseline doing the same one read and one insert, on PostgreSQL and
 * on PGlite, then on PostgreSQL again with a million existing sessions. Every server and the load
 * generator run in their own processes; load goes to 127.0.0.1 only.
 *
 * Every request is tagged (`reference_id`), and after each run the sessions in the database are
 * matched against the responses: each 307 has exactly one session, each session is a 307 or a request
 * cut off when the run stopped, and the row count moved by exactly that much. Anything else fails the
 * bench (exit code 1).
 *
 * Then, on PostgreSQL, one Kassa server per kind of visit through the front door (issue 10): `new`,
 * `reused` (the `kassa_visit` cookie of an open session), `preview` (a link previewer, fixed URLs: one per link), `prefetch`
 * (`Sec-Purpose: prefetch`), `limited` (LINK_VISIT_RATE_LIMIT=1, fixed URLs: 429s), each checked against
 * the answers and rows it may make, with CPU and SQL statements per response.
 *
 * Env (all optional): BENCH_DURATION (seconds per measured run, 10), BENCH_WARMUP (seconds, 2),
 * BENCH_CONNECTIONS (50), BENCH_LINKS (200), BENCH_SESSIONS (existing sessions for the last run,
 * 1000000), BENCH_PG_URL (an admin connection, postgres://postgres@127.0.0.1:5432/postgres; the bench
 * creates and drops the database BENCH_DB_NAME, kassa_bench), BENCH_SKIP (comma list of page, hostile, postgres,
 * pglite, logging, kinds, million, renewals), BENCH_ROUNDS (Kassa/baseline pairs per database, alternating who goes first, 2), BENCH_PROFILE=1
 * (or kassa, baseline, all: write a CPU profile of each such server, from ready to stop, into $TMPDIR/kassa-bench-profiles/;
 * see bench/profile-summary.ts), BENCH_STRICT=1 (a missed
 * target also fails the bench).
 */
import { spawn, fork, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { loadConfig } from '../src/config'
import { migrate, openPGlite, openPostgres, type Database } from '../src/db/index'
import { READY_RE, TAG_PARAM, VISIT_KINDS, type BenchDataset, type VisitKind } from './common'
import type { LoadMessage, LoadRequest, PhaseResult, SetupResult } from './load'
import { bulkInsertSessions, seed } from './seed'
import { INSERT_SQL, sessionValues, visitRead, type LinkForVisit } from './visit-sql'

const here = path.dirname(fileURLToPath(import.meta.url))
const env = process.env
const num = (name: string, dflt: number) => {
  const v = env[name]
  if (v === undefined || v === '') return dflt
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${v}: not a number`)
  return n
}
const DURATION = num('BENCH_DURATION', 10)
const WARMUP = num('BENCH_WARMUP', 2)
const CONNECTIONS = num('BENCH_CONNECTIONS', 50)
const N_LINKS = num('BENCH_LINKS', 200)
const N_SESSIONS = num('BENCH_SESSIONS', 1_000_000)
const ROUNDS = Math.max(1, Math.floor(num('BENCH_ROUNDS', 2)))
const SKIP = new Set((env.BENCH_SKIP ?? '').split(',').map((s) => s.trim()).filter(Boolean))
const PROFILE = env.BENCH_PROFILE === '1' ? 'kassa' : (env.BENCH_PROFILE ?? '')
const STRICT = env.BENCH_STRICT === '1'
const ADMIN_URL = env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const DB_NAME = env.BENCH_DB_NAME ?? 'kassa_bench'
if (!/^[a-z_][a-z0-9_]*$/.test(DB_NAME)) throw new Error(`BENCH_DB_NAME=${DB_NAME}: letters, digits and _ only`)
// Issue 10: the front door must cost nothing on a new session: Kassa at least as fast as the bare
// baseline (read + insert + 307), and its p99 within 1.2× of the baseline's.
const TARGET_RPS_RATIO = 1
const TARGET_P99_RATIO = 1.2
// A link previewer's answer (kinds section): cheap, and no database at all (a link-config cache).
const TARGET_PREVIEW_US = 100
// No SQL of its own: what the run counts is the visit counters' flush (one upsert every few seconds,
// whatever the traffic), a few statements in tens of thousands of responses.
const TARGET_PREVIEW_STMT = 0.001

const benchUrl = (() => {
  const u = new URL(ADMIN_URL)
  u.pathname = `/${DB_NAME}`
  return u.toString()
})()

// ---------------------------------------------------------------------------------------------
// Processes: everything started is tracked and killed at the end, whatever happens.

const children = new Set<ChildProcess>()
const tmpDirs: string[] = []
let dbCreated = false

function track(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms)
    child.once('exit', () => {
      clearTimeout(t)
      resolve(true)
    })
  })
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  if (!(await waitExit(child, 10_000))) {
    child.kill('SIGKILL')
    await waitExit(child, 5_000)
  }
}

let cleanedUp: Promise<void> | undefined
function cleanup(): Promise<void> {
  cleanedUp ??= (async () => {
    await Promise.all([...children].map(stopChild))
    if (dbCreated) {
      const admin = new pg.Client({ connectionString: ADMIN_URL })
      try {
        await admin.connect()
        await admin.query(`drop database if exists ${DB_NAME} with (force)`)
        dbCreated = false
      } catch (err) {
        process.stderr.write(`could not drop database ${DB_NAME}: ${String(err)}\n`)
      } finally {
        await admin.end().catch(() => undefined)
      }
    }
    for (const d of tmpDirs) rmSync(d, { recursive: true, force: true })
  })()
  return cleanedUp
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    process.stderr.write(`\n${signal}: stopping everything…\n`)
    void cleanup().finally(() => process.exit(130))
  })
}
// Last resort (e.g. process.exit from somewhere): no child outlives the bench.
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
})

// ---------------------------------------------------------------------------------------------
// Servers and load

type ServerKind = 'kassa' | 'baseline'
interface DbTarget {
  kind: 'postgres' | 'pglite'
  /** What the servers get in BENCH_DB. */
  spec: string
}

interface RunningServer {
  child: ChildProcess
  port: number
  logBytes: () => number
}

async function startServer(kind: ServerKind, db: DbTarget, extraEnv: Record<string, string>, profileFile?: string): Promise<RunningServer> {
  const script = path.join(here, kind === 'kassa' ? 'kassa-server.ts' : 'baseline-server.ts')
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', script], {
      env: {
        ...process.env,
        BENCH_DB: db.spec,
        BENCH_PARENT_PID: String(process.pid),
        BENCH_COUNT_SQL: '1',
        // new-session runs: no flood limit (every request comes from 127.0.0.1); the `limited` kind sets 1
        LINK_VISIT_RATE_LIMIT: '0',
        ...(profileFile ? { BENCH_PROFILE_FILE: profileFile } : {}),
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
  let stderr = ''
  let logBytes = 0
  child.stderr!.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-8000)
  })
  const port = await new Promise<number>((resolve, reject) => {
    let out: string | null = ''
    const timer = setTimeout(() => reject(new Error(`${kind} did not become ready within 60 s\n${stderr}`)), 60_000)
    // Before READY: look for it. After: count (and drop) whatever the server logs.
    child.stdout!.on('data', (b: Buffer) => {
      if (out === null) {
        logBytes += b.length
        return
      }
      out += b.toString()
      const m = READY_RE.exec(out)
      if (m) {
        clearTimeout(timer)
        logBytes += out.length - m.index - m[0].length
        out = null
        resolve(Number(m[1]))
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${kind} exited before it was ready (code ${code}, signal ${signal})\n${stderr}`))
    })
  })
  child.once('exit', (code, signal) => {
    if (code !== 0 && !['SIGTERM', 'SIGKILL', 'SIGINT'].includes(signal ?? '')) process.stderr.write(`${kind} exited with code ${code}\n${stderr}\n`)
  })
  return { child, port, logBytes: () => logBytes }
}

function runLoad(req: LoadRequest, onMeasureStart: () => void): Promise<{ setup: SetupResult | null; warmup: PhaseResult | null; measure: PhaseResult }> {
  const child = track(fork(path.join(here, 'load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  return new Promise((resolve, reject) => {
    let done = false
    child.on('message', (m: LoadMessage) => {
      if (m.type === 'measure-start') onMeasureStart()
      else if (m.type === 'done') {
        done = true
        resolve({ setup: m.setup, warmup: m.warmup, measure: m.measure })
      } else {
        done = true
        reject(new Error(`load generator failed: ${m.message}`))
      }
    })
    child.once('exit', (code) => {
      if (!done) reject(new Error(`load generator exited with code ${code}`))
    })
    child.send(req)
  })
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc (Linux): the server process, all postgres processes, the whole machine.

const TICK = 100 // USER_HZ

function procTicks(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return Number(f[11]) + Number(f[12])
  } catch {
    return 0
  }
}

/**
 * CPU ticks of the postgres processes that work for the bench, by pid: the backends connected to the
 * bench database and the shared background processes (WAL writer, checkpointer…), not the backends
 * of other databases on the same server. Backends come and go; see `postgresDelta`.
 */
function postgresTicks(): Map<number, number> {
  const ticks = new Map<number, number>()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8')
      if (!s.includes('(postgres)')) continue
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ')
      const clientBackend = /\(\d+\)|\[local\]/.test(cmd)
      if (clientBackend && !cmd.includes(` ${DB_NAME} `)) continue
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
      ticks.set(Number(d), Number(f[11]) + Number(f[12]))
    } catch {
      // gone
    }
  }
  return ticks
}

/** Postgres CPU between two samples: processes that ended in between are lost (they are short-lived). */
function postgresDelta(a: Map<number, number>, b: Map<number, number>): number {
  let total = 0
  for (const [pid, t] of b) total += Math.max(0, t - (a.get(pid) ?? 0))
  return total
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  const idle = (v[3] ?? 0) + (v[4] ?? 0)
  const total = v.reduce((a, b) => a + b, 0)
  return { busy: total - idle, total }
}

interface CpuSample {
  at: number
  server: number
  postgres: Map<number, number>
  machine: { busy: number; total: number }
}
const cpuSample = (pid: number): CpuSample => ({ at: Date.now(), server: procTicks(pid), postgres: postgresTicks(), machine: machineTicks() })

// ---------------------------------------------------------------------------------------------
// The database side of the check: total rows, and the tags of the sessions a run made.

async function inspect(db: DbTarget, organizationId: string, since: Date | null): Promise<{ total: number; tags: string[] }> {
  const q1 = 'select count(*)::int as n from checkouts'
  const q2 = `select metadata->>'${TAG_PARAM}' as tag from checkouts where organization_id = $1 and created_at >= $2 and metadata ? '${TAG_PARAM}'`
  if (db.kind === 'postgres') {
    const c = new pg.Client({ connectionString: db.spec })
    await c.connect()
    try {
      const total = (await c.query<{ n: number }>(q1)).rows[0]!.n
      const tags = since ? (await c.query<{ tag: string }>(q2, [organizationId, since])).rows.map((r) => r.tag) : []
      return { total, tags }
    } finally {
      await c.end()
    }
  }
  const p = await PGlite.create(db.spec.slice('pglite:'.length))
  try {
    const total = (await p.query<{ n: number }>(q1)).rows[0]!.n
    const tags = since ? (await p.query<{ tag: string }>(q2, [organizationId, since])).rows.map((r) => r.tag) : []
    return { total, tags }
  } finally {
    await p.close()
  }
}

/**
 * The two statements alone: one connection, one visit at a time (no concurrency, no HTTP), so the
 * database's own cost per visit can be set against the servers' CPU per request.
 */
async function sqlProbe(db: DbTarget, data: BenchDataset, n = 300): Promise<{ read: number[]; insert: number[] }> {
  const readQuery = await visitRead()
  let run: (text: string, params: unknown[]) => Promise<{ rows: any[] }>
  let close: () => Promise<void>
  if (db.kind === 'postgres') {
    const c = new pg.Client({ connectionString: db.spec })
    await c.connect()
    run = (text, params) => c.query(text, params)
    close = () => c.end()
  } else {
    const p = await PGlite.create(db.spec.slice('pglite:'.length))
    run = (text, params) => p.query(text, params)
    close = () => p.close()
  }
  const read: number[] = []
  const insert: number[] = []
  try {
    for (let i = -50; i < n; i++) {
      const link = data.links[(i + 50) % data.links.length]!
      const t0 = performance.now()
      const row = (await run(readQuery.sql, readQuery.params(link.secret))).rows[0] as LinkForVisit
      const t1 = performance.now()
      const s = sessionValues(row, `utm_source=probe&${TAG_PARAM}=probe-${i}`, '127.0.0.1')!
      const t2 = performance.now()
      await run(INSERT_SQL, s.values)
      const t3 = performance.now()
      if (i >= 0) {
        read.push(t1 - t0)
        insert.push(t3 - t2)
      }
    }
  } finally {
    await close()
  }
  return { read: read.sort((a, b) => a - b), insert: insert.sort((a, b) => a - b) }
}

const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? NaN
const probeLines: string[] = []
async function probe(db: DbTarget, label: string, data: BenchDataset) {
  const r = await sqlProbe(db, data)
  const line = `${pad(label, 26)}  read p50 ${f(q(r.read, 50), 2)} ms, p99 ${f(q(r.read, 99), 2)} ms; insert p50 ${f(q(r.insert, 50), 2)} ms, p99 ${f(q(r.insert, 99), 2)} ms; load1 ${f(os.loadavg()[0]!, 2)}`
  probeLines.push(line)
  console.log(`  SQL probe: ${line.trim()}`)
}

/** PostgreSQL's own counters for the bench database (flushed by backends as they exit). */
async function pgDbStats(db: DbTarget): Promise<{ xact: number; blocks: number } | null> {
  if (db.kind !== 'postgres') return null
  const c = new pg.Client({ connectionString: db.spec })
  await c.connect()
  try {
    const r = await c.query<{ xact: string; blocks: string }>(
      'select xact_commit + xact_rollback as xact, blks_hit + blks_read as blocks from pg_stat_database where datname = current_database()',
    )
    return { xact: Number(r.rows[0]!.xact), blocks: Number(r.rows[0]!.blocks) }
  } finally {
    await c.end()
  }
}

class BenchFailure extends Error {}

/** Matches one phase's responses against the sessions found in the database; throws on any mismatch. */
function verifyPhase(label: string, phase: PhaseResult, tags: string[]): { sessions: number; inFlightInserted: number } {
  const problems: string[] = []
  const seqs = tags.filter((t) => t.startsWith(phase.tag)).map((t) => Number(t.slice(phase.tag.length)))
  const inDb = new Set(seqs)
  if (inDb.size !== seqs.length) problems.push(`${seqs.length - inDb.size} requests made more than one session`)
  const other = Object.entries(phase.statuses).filter(([s]) => s !== '307')
  if (other.length) problems.push(`non-307 responses: ${other.map(([s, n]) => `${n}× ${s}`).join(', ')}`)
  if (phase.badLocation) problems.push(`${phase.badLocation} 307 responses without a checkout Location`)
  const missing = phase.redirected.filter((s) => !inDb.has(s))
  if (missing.length) problems.push(`${missing.length} 307 responses have no session (e.g. ${phase.tag}${missing[0]})`)
  const redirected = new Set(phase.redirected)
  const inFlight = new Set(phase.inFlight)
  const orphans = seqs.filter((s) => !redirected.has(s) && !inFlight.has(s))
  if (orphans.length) problems.push(`${orphans.length} sessions for requests that got no 307 (e.g. ${phase.tag}${orphans[0]})`)
  if (problems.length) throw new BenchFailure(`${label}: sessions do not match 307 responses:\n  - ${problems.join('\n  - ')}`)
  const inFlightInserted = seqs.filter((s) => inFlight.has(s)).length
  return { sessions: seqs.length - inFlightInserted, inFlightInserted }
}

/** What each kind of the kinds section must answer. */
const KIND_STATUSES: Record<Exclude<VisitKind, 'new'>, string[]> = { reused: ['307'], preview: ['200'], prefetch: ['503'], limited: ['307', '429'] }

/**
 * The check of a kinds run other than `new`: only the kind's answers; `reused`: every 307 to the session
 * its cookie names, no new cookie, and no rows beyond the one session per link of the set-up; `preview`
 * and `prefetch`: no rows at all; `limited`: exactly the 307s' rows (give or take requests cut off).
 */
function verifyKind(label: string, kind: Exclude<VisitKind, 'new'>, run: { setup: SetupResult | null; warmup: PhaseResult | null; measure: PhaseResult }, rowsAdded: number): void {
  const problems: string[] = []
  const phases = [run.warmup, run.measure].filter((p): p is PhaseResult => p !== null)
  for (const p of phases) {
    const other = Object.entries(p.statuses).filter(([st]) => !KIND_STATUSES[kind].includes(st))
    if (other.length) problems.push(`${p.tag}: unexpected responses: ${other.map(([st, n]) => `${n}× ${st}`).join(', ')}`)
    if (p.badLocation) problems.push(`${p.tag}: ${p.badLocation} 307 responses to ${kind === 'reused' ? 'another session than the cookie names' : 'no checkout'}`)
    if (kind === 'reused' && p.setCookie) problems.push(`${p.tag}: ${p.setCookie} reused sessions came with a new cookie`)
  }
  const redirects = phases.reduce((a, p) => a + p.redirected.length, 0)
  const cutOff = phases.reduce((a, p) => a + p.inFlight.length, 0)
  if (kind === 'reused' && rowsAdded !== run.setup?.sessions) problems.push(`checkouts grew by ${rowsAdded} rows, but only the ${run.setup?.sessions} set-up visits open sessions`)
  if ((kind === 'preview' || kind === 'prefetch') && rowsAdded !== 0) problems.push(`checkouts grew by ${rowsAdded} rows (must be 0)`)
  if (kind === 'limited' && (rowsAdded < redirects || rowsAdded > redirects + cutOff)) problems.push(`checkouts grew by ${rowsAdded} rows for ${redirects} 307s (${cutOff} cut off)`)
  if (problems.length) throw new BenchFailure(`${label}:\n  - ${problems.join('\n  - ')}`)
}

// ---------------------------------------------------------------------------------------------

interface Row {
  db: string
  server: ServerKind
  note: string
  /** Set for the kinds section's runs. */
  kind?: VisitKind
  statuses: Record<string, number>
  rps: number
  p50: number
  p99: number
  responses: number
  redirects: number
  sessions: number
  inFlight: string
  serverCpu: number
  /** Server process CPU per response, µs. */
  serverUs: number
  postgresCpu: number
  postgresUs: number
  /** SQL statements the server sent per request of the measured run (sql-count.ts). */
  stmtPerReq: number
  /** Transactions and buffer accesses in the database per request the server got (pg_stat_database). */
  xactPerVisit: number
  blocksPerVisit: number
  machineBusy: number
  loadCpu: number
  load1: number
  logMB?: number
}

let runCounter = 0

async function measure(
  server: ServerKind,
  db: DbTarget,
  dbLabel: string,
  data: BenchDataset,
  opts: { env?: Record<string, string>; note?: string; kind?: VisitKind } = {},
): Promise<Row> {
  const run = ++runCounter
  const kind = opts.kind
  const label = `${dbLabel} / ${server}${kind ? ` ${kind}` : ''}${opts.note ? ` (${opts.note})` : ''}`
  process.stdout.write(`  run ${run}: ${label} … `)
  const before = await inspect(db, data.organizationId, null)
  const stats0 = await pgDbStats(db)
  const since = new Date(Date.now() - 1000)
  const profileDir = path.join(os.tmpdir(), 'kassa-bench-profiles')
  const profileFile = PROFILE === server || PROFILE === 'all' ? path.join(profileDir, `${run}-${dbLabel.replace(/\W+/g, '_')}-${server}${kind ? `-${kind}` : ''}.cpuprofile`) : undefined
  if (profileFile) mkdirSync(profileDir, { recursive: true })
  const s = await startServer(server, db, { LOG_LEVEL: 'silent', ...opts.env }, profileFile)
  let c0: CpuSample | undefined
  let c1: CpuSample
  let result
  try {
    result = await runLoad(
      {
        port: s.port,
        data,
        connections: CONNECTIONS,
        warmupSeconds: WARMUP,
        durationSeconds: DURATION,
        warmupTag: `r${run}w-`,
        measureTag: `r${run}m-`,
        kind: kind ?? 'new',
        setupTag: `r${run}s-`,
      },
      () => (c0 = cpuSample(s.child.pid!)),
    )
  } finally {
    c1 = cpuSample(s.child.pid!)
    // let requests cut off at the end finish on the server before it stops
    await new Promise((r) => setTimeout(r, 500))
    await stopChild(s.child)
  }
  const load1 = os.loadavg()[0]!
  const stats1 = await pgDbStats(db)
  const after = await inspect(db, data.organizationId, since)
  const m = result.measure
  const rowsAdded = after.total - before.total
  let sessions = rowsAdded
  let inFlightInserted: number | undefined
  if (!kind || kind === 'new') {
    const w = result.warmup ? verifyPhase(`${label} warm-up`, result.warmup, after.tags) : { sessions: 0, inFlightInserted: 0 }
    const v = verifyPhase(label, m, after.tags)
    const expectedDelta = w.sessions + w.inFlightInserted + v.sessions + v.inFlightInserted
    if (rowsAdded !== expectedDelta) {
      throw new BenchFailure(`${label}: checkouts grew by ${rowsAdded} rows, but the run's tagged sessions are ${expectedDelta}`)
    }
    if (v.sessions !== m.redirected.length) throw new BenchFailure(`${label}: ${m.redirected.length} 307s but ${v.sessions} sessions`)
    sessions = v.sessions
    inFlightInserted = v.inFlightInserted
  } else verifyKind(label, kind, result, rowsAdded)
  // every request of the server's life: set-up, warm-up, measured, cut off
  const served = (result.setup?.visits ?? 0) + [result.warmup, m].reduce((a, p) => a + (p ? p.responses + p.inFlight.length : 0), 0)
  const secs = c0 ? (c1.at - c0.at) / 1000 : m.durationSeconds
  const pct = (ticks: number) => (c0 ? (100 * ticks) / TICK / secs : NaN)
  const row: Row = {
    db: dbLabel,
    server,
    note: opts.note ?? '',
    ...(kind ? { kind } : {}),
    statuses: m.statuses,
    rps: m.reqPerSec,
    p50: m.latencyMs.p50,
    p99: m.latencyMs.p99,
    responses: m.responses,
    redirects: m.redirected.length,
    sessions,
    inFlight: `${m.inFlight.length}/${inFlightInserted ?? '–'}`,
    serverCpu: pct(c1.server - (c0?.server ?? 0)),
    serverUs: c0 ? ((c1.server - c0.server) / TICK / m.responses) * 1e6 : NaN,
    postgresCpu: c0 && db.kind === 'postgres' ? pct(postgresDelta(c0.postgres, c1.postgres)) : NaN,
    postgresUs: c0 && db.kind === 'postgres' ? (postgresDelta(c0.postgres, c1.postgres) / TICK / m.responses) * 1e6 : NaN,
    machineBusy: c0 ? (100 * (c1.machine.busy - c0.machine.busy)) / (c1.machine.total - c0.machine.total) : NaN,
    loadCpu: (100 * m.loadCpuSeconds) / m.durationSeconds,
    stmtPerReq: m.statements !== null ? m.statements / (m.responses + m.inFlight.length) : NaN,
    // over every request of the server's life; 1 transaction of the stats query itself is not worth subtracting
    xactPerVisit: stats0 && stats1 ? (stats1.xact - stats0.xact) / served : NaN,
    blocksPerVisit: stats0 && stats1 ? (stats1.blocks - stats0.blocks) / served : NaN,
    load1,
    ...(opts.env?.LOG_LEVEL && opts.env.LOG_LEVEL !== 'silent' ? { logMB: s.logBytes() / 1e6 } : {}),
  }
  const checked =
    !kind || kind === 'new'
      ? `${row.redirects} × 307 = ${row.sessions} sessions ✓`
      : `${statusText(m.statuses)}, ${rowsAdded} rows added${result.setup ? ` (${result.setup.sessions} by the set-up)` : ''} ✓`
  process.stdout.write(
    `${row.rps.toFixed(0)} req/s, p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms; ${checked}` +
      (m.errors ? ` (${m.errors} errors, ${m.timeouts} timeouts)` : '') +
      (profileFile ? `; profile: ${profileFile}` : '') +
      '\n',
  )
  return row
}

const statusText = (st: Record<string, number>) =>
  Object.entries(st)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n}× ${k}`)
    .join(', ')
/** The most frequent status of a run, as `count×status`. */
const mainStatus = (st: Record<string, number>) => {
  const top = Object.entries(st).sort((a, b) => b[1] - a[1])[0]
  return top ? `${top[1]}×${top[0]}` : '–'
}
const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '–')
const pad = (s: string, n: number, right = false) => (right ? s.padStart(n) : s.padEnd(n))

function printTable(rows: Row[], verdicts: string[]) {
  const head = ['database', 'server', 'req/s', 'p50 ms', 'p99 ms', 'answers', 'sessions', 'cut off/ins.', 'server CPU', 'µs/resp', 'pg CPU', 'µs/resp', 'stmt/req', 'xact/req', 'blk/req', 'loadgen', 'busy', 'load1']
  const widths = [26, 22, 6, 6, 6, 9, 8, 12, 10, 7, 6, 7, 8, 8, 7, 7, 5, 5]
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i]!, i >= 2)).join('  ')
  console.log(line(head))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  let inKinds = false
  for (const r of rows) {
    if (r.kind && !inKinds) {
      inKinds = true
      console.log(`-- per kind of visit (one Kassa server each; sessions: rows added over the server's whole run) ${'-'.repeat(60)}`)
    } else if (!r.kind && inKinds) {
      inKinds = false
      console.log(widths.map((w) => '-'.repeat(w)).join('  '))
    }
    console.log(
      line([
        r.db,
        r.server + (r.kind ? ` ${r.kind}` : '') + (r.note ? ` ${r.note.replace('LOG_LEVEL=', 'log=')}` : ''),
        f(r.rps),
        f(r.p50, 1),
        f(r.p99, 1),
        mainStatus(r.statuses),
        String(r.sessions),
        r.inFlight,
        `${f(r.serverCpu)}%`,
        f(r.serverUs),
        Number.isFinite(r.postgresCpu) ? `${f(r.postgresCpu)}%` : '–',
        f(r.postgresUs),
        f(r.stmtPerReq, 2),
        f(r.xactPerVisit, 2),
        f(r.blocksPerVisit, 1),
        `${f(r.loadCpu)}%`,
        `${f(r.machineBusy)}%`,
        f(r.load1, 2),
      ]),
    )
  }
  console.log('')
  for (const v of verdicts) console.log(v)
  if (probeLines.length) {
    console.log('\nSQL probe (the two statements alone: one connection, sequential, 300 visits):')
    for (const l of probeLines) console.log(l)
  }
}

async function setupPostgres(config: ReturnType<typeof loadConfig>): Promise<{ data: BenchDataset }> {
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  try {
    await admin.query(`drop database if exists ${DB_NAME} with (force)`)
    await admin.query(`create database ${DB_NAME}`)
    dbCreated = true
  } finally {
    await admin.end()
  }
  const database = await openPostgres(benchUrl)
  try {
    await migrate(database)
    return { data: await seed(database, config, N_LINKS) }
  } finally {
    await database.close()
  }
}

async function setupPGlite(config: ReturnType<typeof loadConfig>): Promise<{ data: BenchDataset; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kassa-bench-pglite-'))
  tmpDirs.push(dir)
  const database: Database = await openPGlite(dir)
  try {
    await migrate(database)
    return { data: await seed(database, config, N_LINKS), dir }
  } finally {
    await database.close()
  }
}

function nproc(): string {
  try {
    return execFileSync('nproc', { encoding: 'utf8' }).trim()
  } catch {
    return String(os.availableParallelism())
  }
}

async function main() {
  const t0 = Date.now()
  const config = loadConfig({ PUBLIC_URL: 'http://localhost:8000', LOG_LEVEL: 'silent' })
  const loadAtStart = os.loadavg()
  console.log(`Kassa link-visit bench: ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s measured per run, ${N_LINKS} links`)
  console.log(`machine: nproc=${nproc()}, ${os.cpus()[0]?.model ?? '?'}, node ${process.version}; loadavg at start ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')}`)

  const rows: Row[] = []
  const pairs: { label: string; kassa: Row; baseline: Row }[] = []
  let pairNo = 0
  const measurePair = async (db: DbTarget, label: string, data: BenchDataset) => {
    await probe(db, label, data)
    for (let i = 0; i < ROUNDS; i++) {
      // alternate who goes first, so a drift in machine load does not favour one side
      const order: ServerKind[] = pairNo++ % 2 === 0 ? ['kassa', 'baseline'] : ['baseline', 'kassa']
      const got: Partial<Record<ServerKind, Row>> = {}
      for (const k of order) {
        got[k] = await measure(k, db, label, data)
        rows.push(got[k]!)
      }
      pairs.push({ label, kassa: got.kassa!, baseline: got.baseline! })
    }
  }

  let pgData: BenchDataset | undefined
  const pgTarget: DbTarget = { kind: 'postgres', spec: benchUrl }
  if (!SKIP.has('postgres') || !SKIP.has('million') || !SKIP.has('logging') || !SKIP.has('kinds')) {
    process.stdout.write(`PostgreSQL: creating ${DB_NAME}, migrating, seeding … `)
    pgData = (await setupPostgres(config)).data
    console.log('done')
  }
  if (pgData && !SKIP.has('postgres')) await measurePair(pgTarget, 'postgres', pgData)
  if (pgData && !SKIP.has('logging')) {
    rows.push(await measure('kassa', pgTarget, 'postgres', pgData, { env: { LOG_LEVEL: 'info' }, note: 'LOG_LEVEL=info' }))
  }
  if (pgData && !SKIP.has('kinds')) {
    // The front door (issue 10), one kind of visit per Kassa server: new sessions, returning browsers,
    // link previewers, prefetches, and a client over the flood limit.
    console.log('Per kind of visit (PostgreSQL):')
    for (const kind of VISIT_KINDS) {
      rows.push(await measure('kassa', pgTarget, 'postgres', pgData, { kind, ...(kind === 'limited' ? { env: { LINK_VISIT_RATE_LIMIT: '1' }, note: 'limit=1' } : {}) }))
    }
  }

  if (!SKIP.has('pglite')) {
    process.stdout.write('PGlite: migrating, seeding a temporary data directory … ')
    const { data, dir } = await setupPGlite(config)
    console.log('done')
    await measurePair({ kind: 'pglite', spec: `pglite:${dir}` }, 'pglite', data)
  }

  if (pgData && !SKIP.has('million')) {
    process.stdout.write(`PostgreSQL: inserting ${N_SESSIONS.toLocaleString('en')} sessions over the ${N_LINKS} links … `)
    const t = Date.now()
    const database = await openPostgres(benchUrl)
    try {
      await bulkInsertSessions(database, pgData.organizationId, N_LINKS, N_SESSIONS)
    } finally {
      await database.close()
    }
    console.log(`done in ${((Date.now() - t) / 1000).toFixed(1)} s`)
    await measurePair(pgTarget, `postgres +${N_SESSIONS >= 1e6 ? `${N_SESSIONS / 1e6}M` : N_SESSIONS} sessions`, pgData)
  }

  console.log('')
  const verdicts: string[] = []
  let missed = false
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  for (const label of [...new Set(pairs.map((p) => p.label))]) {
    const ps = pairs.filter((p) => p.label === label)
    const rpsRatio = mean(ps.map((p) => p.kassa.rps)) / mean(ps.map((p) => p.baseline.rps))
    const p99Ratio = mean(ps.map((p) => p.kassa.p99)) / mean(ps.map((p) => p.baseline.p99))
    const ok = rpsRatio >= TARGET_RPS_RATIO && p99Ratio <= TARGET_P99_RATIO
    if (!ok) missed = true
    const each = ps.length > 1 ? ` [per round: ${ps.map((p) => `${f((100 * p.kassa.rps) / p.baseline.rps)}%/${f(p.kassa.p99 / p.baseline.p99, 2)}×`).join(', ')}]` : ''
    verdicts.push(
      `${pad(label, 26)}  Kassa/baseline req/s ${f(rpsRatio * 100)}% (target ≥ ${TARGET_RPS_RATIO * 100}%), p99 ${f(p99Ratio, 2)}× (target ≤ ${TARGET_P99_RATIO}×)  ${ok ? 'OK' : 'MISSED'}${each}`,
    )
  }
  for (const r of rows.filter((x) => x.kind)) {
    let target = ''
    if (r.kind === 'preview') {
      const ok = r.serverUs < TARGET_PREVIEW_US && r.stmtPerReq < TARGET_PREVIEW_STMT
      if (!ok) missed = true
      target = `  target < ${TARGET_PREVIEW_US} µs and < ${TARGET_PREVIEW_STMT} stmt/resp (${f(r.stmtPerReq, 5)}: the counters' flush): ${ok ? 'PASS' : 'MISS'}`
    }
    verdicts.push(
      `kind ${pad(r.kind!, 8)}  ${pad(statusText(r.statuses), 22)} ${f(r.rps)} req/s, server ${f(r.serverUs)} µs/resp, postgres ${f(r.postgresUs)} µs/resp, ${f(r.stmtPerReq, 2)} stmt/req${target}`,
    )
  }
  const logged = rows.find((r) => r.note.startsWith('LOG_LEVEL'))
  const silent = pairs.filter((p) => p.label === 'postgres').map((p) => p.kassa)
  if (logged && silent.length) {
    verdicts.push(
      `logging: Kassa with LOG_LEVEL=info: ${f(logged.rps)} req/s, ${f(logged.serverUs)} µs CPU/req (silent: ${f(mean(silent.map((r) => r.rps)))} req/s, ` +
        `${f(mean(silent.map((r) => r.serverUs)))} µs CPU/req); ${f(logged.logMB ?? NaN, 1)} MB of logs`,
    )
  }
  if (ROUNDS > 1) verdicts.push('(ratios over rounds: mean Kassa / mean baseline)')
  printTable(rows, verdicts)
  const loadAtEnd = os.loadavg()
  console.log(
    `\nloadavg at start ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')}, at end ${loadAtEnd.map((l) => l.toFixed(2)).join(' / ')} (1/5/15 min, nproc=${nproc()}); ` +
      `total ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  )
  console.log(
    'server CPU: the server process (100% = one core), and its CPU time per response; pg CPU: the bench database\'s backends and ' +
      'the server\'s background processes (WAL writer, checkpointer…), ' +
      'and per response; stmt/req: SQL statements the server sent per request of the measured run (counted in the server); ' +
      'xact/req, blk/req: transactions and buffer accesses in the bench database per request (pg_stat_database); ' +
      'answers: the most frequent status of the measured run; loadgen: the autocannon process; busy: all cores. "cut off/ins.": requests cut off when the run stopped / ' +
      'of those, the ones whose session was inserted anyway (each matched by its tag).',
  )
  if (!SKIP.has('page')) {
    // The hosted checkout page: weight (compressed) and server render time.
    console.log('\n== checkout page')
    await (await import('./page')).main()
  }
  if (!SKIP.has('hostile')) {
    // Hostile requests (issue 9): each answered in milliseconds, beside /healthz and a normal PATCH.
    console.log('\n== hostile input')
    await (await import('./hostile')).main()
  }
  if (!SKIP.has('renewals')) {
    // Issue 12: a renewal run over 10,000 subscriptions due at once, beside a by-hand baseline.
    console.log('\n== renewals')
    await (await import('./renewals')).main()
  }
  if (missed && STRICT) throw new BenchFailure('a target was missed (BENCH_STRICT=1)')
}

main()
  .then(() => cleanup())
  .then(() => process.exit(0))
  .catch(async (err: unknown) => {
    process.stderr.write(`\nBENCH FAILED: ${err instanceof Error ? (err instanceof BenchFailure ? err.message : (err.stack ?? err.message)) : String(err)}\n`)
    await cleanup()
    process.exit(1)
  })
