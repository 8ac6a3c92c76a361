/**
 * Where a server's CPU goes: `tsx bench/profile-summary.ts <file.cpuprofile> [top]`, for the profiles
 * `BENCH_PROFILE=1 npm run bench` writes (one per Kassa process, in $TMPDIR/kassa-bench-profiles).
 * Self time by package (node_modules/<pkg>, src/<folder>, node internals, GC, idle) and the top
 * functions, as a share of the busy (non-idle) time.
 */
import { readFileSync } from 'node:fs'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

const file = process.argv[2]
if (!file) {
  console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]')
  process.exit(2)
}
const top = Number(process.argv[3] ?? 30)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map<number, number>()
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))

function group(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)'
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (nm) return nm[1]!
  const src = /\/(src|bench)\/([^/]+)/.exec(url)
  if (src) return `${src[1]}/${src[2]!.replace(/\.ts$/, '')}`
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`
  return url
}

const groups = new Map<string, number>()
const fns = new Map<string, number>()
let busy = 0
for (const [id, t] of self) {
  const n = byId.get(id)!
  const { functionName, url, lineNumber } = n.callFrame
  if (functionName === '(idle)') continue
  busy += t
  const g = group(url, functionName)
  groups.set(g, (groups.get(g) ?? 0) + t)
  const key = `${functionName || '(anonymous)'}  ${g}${url ? `:${lineNumber + 1}` : ''}`
  fns.set(key, (fns.get(key) ?? 0) + t)
}
const total = profile.endTime - profile.startTime
const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)}%`
console.log(`${file}\nwall ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${((100 * busy) / total).toFixed(0)}%)\n\nself time by package:`)
for (const [g, t] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${pct(t)}  ${g}`)
console.log(`\ntop ${top} functions (self):`)
for (const [k, t] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(t)}  ${k}`)
