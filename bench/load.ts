/**
 * The load generator, in its own process (forked by run.ts, talks over IPC): autocannon against
 * 127.0.0.1:<port>, first a warm-up, then the measured run. Every request carries a unique tag
 * (`reference_id=<phase tag><seq>`) so run.ts can match sessions to responses exactly.
 */
import autocannon from 'autocannon'
import { PUBLIC_URL, visitPath, type BenchDataset } from './common'

export interface LoadRequest {
  port: number
  data: BenchDataset
  connections: number
  warmupSeconds: number
  durationSeconds: number
  /** Tag prefixes for the two phases, e.g. `r3w-` and `r3m-`. */
  warmupTag: string
  measureTag: string
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
}

export type LoadMessage = { type: 'measure-start' } | { type: 'done'; warmup: PhaseResult | null; measure: PhaseResult } | { type: 'error'; message: string }

const CHECKOUT_PREFIX = `${PUBLIC_URL}/checkout/polar_c_`

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

async function phase(req: LoadRequest, tag: string, seconds: number): Promise<PhaseResult> {
  let next = 0
  const sent = new Set<number>()
  const redirected: number[] = []
  const statuses: Record<string, number> = {}
  let badLocation = 0
  let latencies = new Float64Array(1 << 16)
  let n = 0
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
          return { ...request, path: visitPath(req.data, seq, `${tag}${seq}`) }
        },
        onResponse: (status, _body, context, headers) => {
          const seq = (context as { seq?: number }).seq!
          sent.delete(seq)
          statuses[status] = (statuses[status] ?? 0) + 1
          if (status === 307) {
            const location = (headers as Record<string, string> | undefined)?.location
            if (typeof location === 'string' && location.startsWith(CHECKOUT_PREFIX)) redirected.push(seq)
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
  }
}

// Forked over IPC: if the bench goes away, so does the load.
process.once('disconnect', () => process.exit(1))

process.once('message', (req: LoadRequest) => {
  const send = (m: LoadMessage) => new Promise<void>((resolve) => process.send!(m, () => resolve()))
  void (async () => {
    try {
      const warmup = req.warmupSeconds > 0 ? await phase(req, req.warmupTag, req.warmupSeconds) : null
      await send({ type: 'measure-start' })
      const measure = await phase(req, req.measureTag, req.durationSeconds)
      await send({ type: 'done', warmup, measure })
    } catch (err) {
      await send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) })
    }
    process.exit(0)
  })()
})
