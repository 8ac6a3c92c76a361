import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import type { TestProject } from 'vitest/node'

/*
 * Vitest's global setup (vitest.config.ts, the root config: it runs once per `vitest run`, for both projects):
 * starts a throwaway Redis (Debian's `redis-server`) on a free loopback port, without persistence, for the
 * tests that need one (test/redis.ts), and stops it at the end. Without `redis-server` on PATH nothing is
 * started and those tests skip, or fail when KASSA_REQUIRE_REDIS=1 (CI); the same when it is there but does
 * not start (with a warning, and the server's output in the failures). KASSA_TEST_REDIS_URL, when set, names
 * a Redis to use instead of starting one.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:port` of the tests' Redis, or null when there is none. */
    kassaRedisUrl: string | null
    /** Why there is none: what test/redis.ts says when KASSA_REQUIRE_REDIS=1. */
    kassaRedisProblem: string | null
  }
}

/** The `redis-server` executable on PATH, if any. */
export function findRedisServer(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'redis-server')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** One PING in Redis's inline protocol: true on `+PONG`. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let answer = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1')
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'))
    })
  })
}

/** Starts redis-server on a free port and waits until it answers PING; rejects with its output if it cannot. */
async function startRedis(bin: string): Promise<{ child: ChildProcess; port: number }> {
  let lastError: Error | undefined
  // a port found free may be taken before redis-server binds it: try another one
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir(), '--loglevel', 'warning'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout!.on('data', (c) => (output += c))
    child.stderr!.on('data', (c) => (output += c))
    let exited: string | undefined
    child.once('exit', (code, signal) => (exited = `exited (${signal ?? code})`))
    child.once('error', (err) => (exited = err.message))
    const deadline = Date.now() + 10_000
    while (!exited && Date.now() < deadline) {
      if (await ping(port)) {
        child.stdout!.removeAllListeners('data').resume()
        child.stderr!.removeAllListeners('data').resume()
        return { child, port }
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    if (!exited) child.kill('SIGKILL')
    lastError = new Error(`redis-server (${bin}) on port ${port} ${exited ?? 'did not answer PING within 10 s'}${output.trim() ? `:\n${output.trim()}` : ''}`)
  }
  throw lastError!
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  project.provide('kassaRedisProblem', null)
  const external = process.env.KASSA_TEST_REDIS_URL
  if (external) {
    project.provide('kassaRedisUrl', external)
    return undefined
  }
  project.provide('kassaRedisUrl', null)
  const bin = findRedisServer()
  if (!bin) {
    project.provide('kassaRedisProblem', 'no redis-server on PATH (install Debian\'s "redis-server" package) and no KASSA_TEST_REDIS_URL')
    return undefined
  }
  let started: Awaited<ReturnType<typeof startRedis>>
  try {
    started = await startRedis(bin)
  } catch (err) {
    const problem = (err as Error).message
    project.provide('kassaRedisProblem', problem)
    if (process.env.KASSA_REQUIRE_REDIS !== '1') console.warn(`Redis tests skipped: ${problem}`)
    return undefined
  }
  const { child, port } = started
  // if vitest dies without its teardown (an uncaught error), the server goes with it
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  project.provide('kassaRedisUrl', `redis://127.0.0.1:${port}`)
  return async () => {
    process.off('exit', killOnExit)
    await stop(child)
  }
}
