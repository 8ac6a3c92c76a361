/**
 * The load generator, in its own process (forked by run.ts, talks over IPC): autocannon against
 * 127.0.0.1:<port>, first a warm-up, then the measured run. Every request carries a unique tag
 * (`reference_id=<phase tag><seq>`) so run.ts can match sessions to responses exactly.
 *
 * Per kind (run.ts's "kinds" section): `new` as above; `reused` first opens one session per link
 * (one plain visit each, keeping its `kassa_visit` cookie and Location), then sends those same URLs
 * with those cookies, and checks every 307 goes to that same session; `preview` sends a link
 * previewer's User-Agent, `prefetch` `Sec-Purpose: prefetch` (unique URLs as `new`); `limited` sends
 * one fixed URL per link, no cookie, to a server with LINK_VISIT_RATE_LIMIT=1.
 */
import autocannon from 'autocannon'
import { PREVIEWER_UA, PUBLIC_URL, VISIT_COOKIE, visitPath, type BenchDataset, type VisitKind } from './common'
import { SQL_COUNT_PATH } from './sql-count'

export interface LoadRequest {
  port: number
  data: BenchDataset
  connections: number
  warmupSeconds: number
  durationSeconds: number
  /** Tag prefixes for the two phases, e.g. `r3w-` and `r3m-`. */
  warmupTag: string
  measureTag: string
  /** `new` unless told. */
  kind?: VisitKind
  /** Tag prefix of the fixed URLs (`reused`, `limited`). */
  setupTag?: string
}

/** The fixed URLs of `reused` and `limited`: one per link; for `reused`, the session each one opened. */
interface Slot {
  path: string
  cookie?: string
  location?: string
}

export interface SetupResult {
  /** Visits made (one per link), and how many answered 307 with a cookie. */
  visits: number
  sessions: number
  problems: string[]
}

export interface PhaseResult {
  tag: string
  durationSeconds: number
  /** Completed responses, all statuses. */
  responses: number
  statuses: Record<string, number>
  /** Seqs of the 307 responses whose Location pointed at a checkout page. */
  redirected: number[]
  /** Seqs sent whose response never came (cut off when the run stopped). */
  inFlight: number[]
  badLocation: number
  errors: number
  timeouts: number
  reqPerSec: number
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number }
  loadCpuSeconds: number
  /** Responses that set a cookie (`reused`: there must be none). */
  setCookie: number
  /** SQL statements the server sent from just before the phase to just after it (BENCH_COUNT_SQL=1), or null. */
  statements: number | null
}

export type LoadMessage =
  | { type: 'measure-start' }
  | { type: 'done'; setup: SetupResult | null; warmup: PhaseResult | null; measure: PhaseResult }
  | { type: 'error'; message: string }

const CHECKOUT_PREFIX = `${PUBLIC_URL}/checkout/polar_c_`

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

const headerOf = (headers: Record<string, string | string[]> | undefined, name: string) => {
  if (!headers) return undefined
  for (const k in headers) if (k.toLowerCase() === name) return headers[k]
  return undefined
}

/** The server's statement count (sql-count.ts), or null when it does not count. */
async function statementCount(port: number): Promise<number | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${SQL_COUNT_PATH}`)
    if (!res.ok) return null
    return ((await res.json()) as { statements: number }).statements
  } catch {
    return null
  }
}

function fixedSlots(req: LoadRequest): Slot[] {
  return req.data.links.map((_, i) => ({ path: visitPath(req.data, i, `${req.setupTag ?? 'fixed-'}${i}`, i) }))
}

/** `reused`: one visit per slot, as a browser's first, keeping the session's cookie and Location. */
async function openSessions(req: LoadRequest, slots: Slot[]): Promise<SetupResult> {
  const problems: string[] = []
  let sessions = 0
  for (const slot of slots) {
    const res = await fetch(`http://127.0.0.1:${req.port}${slot.path}`, { redirect: 'manual' })
    await res.arrayBuffer()
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith(`${VISIT_COOKIE}=`))
    const location = res.headers.get('location') ?? undefined
    if (res.status !== 307 || !cookie || !location?.startsWith(CHECKOUT_PREFIX)) {
      if (problems.length < 5) problems.push(`${slot.path}: ${res.status}, cookie ${cookie ?? 'none'}, location ${location ?? 'none'}`)
      continue
    }
    slot.cookie = cookie
    slot.location = location
    sessions++
  }
  return { visits: slots.length, sessions, problems }
}

async function phase(req: LoadRequest, tag: string, seconds: number, slots: Slot[]): Promise<PhaseResult> {
  const kind = req.kind ?? 'new'
  let next = 0
  const sent = new Set<number>()
  const redirected: number[] = []
  const statuses: Record<string, number> = {}
  let badLocation = 0
  let setCookie = 0
  let latencies = new Float64Array(1 << 16)
  let n = 0
  const kindHeaders: Record<string, string> = kind === 'preview' ? { 'user-agent': PREVIEWER_UA, 'accept-encoding': 'gzip, deflate' } : kind === 'prefetch' ? { 'sec-purpose': 'prefetch' } : {}
  const statements0 = await statementCount(req.port)
  const cpu0 = process.cpuUsage()

  const options: autocannon.Options = {
    url: `http://127.0.0.1:${req.port}`,
    connections: req.connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: 'GET',
        setupRequest: (request, context) => {
          const seq = next++
          sent.add(seq)
          ;(context as { seq?: number }).seq = seq
          if (slots.length) {
            const slot = slots[seq % slots.length]!
            return { ...request, path: slot.path, headers: { ...request.headers, ...kindHeaders, ...(slot.cookie ? { cookie: slot.cookie } : {}) } }
          }
          return { ...request, path: visitPath(req.data, seq, `${tag}${seq}`), headers: { ...request.headers, ...kindHeaders } }
        },
        onResponse: (status, _body, context, rawHeaders) => {
          const seq = (context as { seq?: number }).seq!
          const headers = rawHeaders as Record<string, string | string[]> | undefined
          sent.delete(seq)
          statuses[status] = (statuses[status] ?? 0) + 1
          if (headerOf(headers, 'set-cookie') !== undefined) setCookie++
          if (status === 307) {
            const location = headerOf(headers, 'location')
            const expected = slots.length ? slots[seq % slots.length]!.location : undefined
            if (typeof location === 'string' && (expected ? location === expected : location.startsWith(CHECKOUT_PREFIX))) redirected.push(seq)
            else badLocation++
          }
        },
      },
    ],
  }
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (err, res) => (err ? reject(err) : resolve(res)))
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      if (n === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2)
        bigger.set(latencies)
        latencies = bigger
      }
      latencies[n++] = responseTime
    })
  })
  const cpu = process.cpuUsage(cpu0)
  // requests cut off at the end may still be running on the server: let them finish before counting
  const statements1 = statements0 === null ? null : (await new Promise((r) => setTimeout(r, 300)), await statementCount(req.port))
  const sorted = latencies.subarray(0, n).sort()
  let sum = 0
  for (let i = 0; i < n; i++) sum += sorted[i]!
  return {
    tag,
    durationSeconds: result.duration,
    responses: n,
    statuses,
    redirected,
    inFlight: [...sent],
    badLocation,
    errors: result.errors,
    timeouts: result.timeouts,
    reqPerSec: n / result.duration,
    latencyMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: percentile(sorted, 100), mean: n ? sum / n : NaN },
    loadCpuSeconds: (cpu.user + cpu.system) / 1e6,
    setCookie,
    statements: statements0 !== null && statements1 !== null ? statements1 - statements0 : null,
  }
}

// Forked over IPC: if the bench goes away, so does the load.
process.once('disconnect', () => process.exit(1))

process.once('message', (req: LoadRequest) => {
  const send = (m: LoadMessage) => new Promise<void>((resolve) => process.send!(m, () => resolve()))
  void (async () => {
    try {
      // A previewer fetches the URL that was shared: one per link (a new query each time is a new page to render).
      const slots = req.kind === 'reused' || req.kind === 'limited' || req.kind === 'preview' ? fixedSlots(req) : []
      const setup = req.kind === 'reused' ? await openSessions(req, slots) : null
      if (setup?.problems.length) throw new Error(`opening the sessions to reuse failed:\n  ${setup.problems.join('\n  ')}`)
      const warmup = req.warmupSeconds > 0 ? await phase(req, req.warmupTag, req.warmupSeconds, slots) : null
      await send({ type: 'measure-start' })
      const measure = await phase(req, req.measureTag, req.durationSeconds, slots)
      await send({ type: 'done', setup, warmup, measure })
    } catch (err) {
      await send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) })
    }
    process.exit(0)
  })()
})
