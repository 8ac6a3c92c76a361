#!/usr/bin/env node
// Builds the merchant dashboard (dashboard/ → dashboard/dist) with Vite.
//
//   node scripts/build-dashboard.mjs              always build (`npm run build`)
//   node scripts/build-dashboard.mjs --if-stale   build only when dashboard/dist is missing or older than
//                                                 its sources (`prestart`, so `npm ci && npm start` works)
//
// The build goes to a temporary folder that then replaces dist/, so a server that is running (or a second
// `npm start` at the same moment) never sees a half-written dist/.
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dashboard = join(root, 'dashboard')
const dist = join(dashboard, 'dist')
const ifStale = process.argv.includes('--if-stale')

/** Newest modification time under `path` (skipping build output and dependencies). */
function newest(path) {
  let st
  try {
    st = statSync(path)
  } catch {
    return 0
  }
  if (!st.isDirectory()) return st.mtimeMs
  let max = 0
  for (const entry of readdirSync(path)) {
    if (entry === 'dist' || entry === 'node_modules' || entry.startsWith('.build-')) continue
    max = Math.max(max, newest(join(path, entry)))
  }
  return max
}

function isStale() {
  const built = join(dist, 'index.html')
  if (!existsSync(built)) return 'dashboard/dist is missing'
  const builtAt = statSync(built).mtimeMs
  const sources = Math.max(newest(dashboard), newest(join(root, 'package-lock.json')))
  return sources > builtAt ? 'dashboard sources changed since the last build' : undefined
}

const reason = ifStale ? isStale() : 'requested'
if (!reason) process.exit(0)

let vite
try {
  vite = await import('vite')
} catch {
  process.stderr.write(
    `Cannot build the dashboard (${reason}): Vite is not installed. Run \`npm ci\` (with dev dependencies), then \`npm run build\`.\n`,
  )
  process.exit(1)
}

const started = Date.now()
const tmp = join(dashboard, `.build-${process.pid}`)
try {
  await vite.build({
    root: dashboard,
    configFile: join(dashboard, 'vite.config.ts'),
    logLevel: ifStale ? 'warn' : 'info',
    build: { outDir: tmp, emptyOutDir: true },
  })
  const old = join(dashboard, `.build-${process.pid}-old`)
  if (existsSync(dist)) renameSync(dist, old)
  renameSync(tmp, dist)
  rmSync(old, { recursive: true, force: true })
} catch (err) {
  rmSync(tmp, { recursive: true, force: true })
  process.stderr.write(`Dashboard build failed: ${err?.stack ?? err}\n`)
  process.exit(1)
}
process.stderr.write(`Dashboard built (${reason}) in ${Date.now() - started} ms → dashboard/dist\n`)
