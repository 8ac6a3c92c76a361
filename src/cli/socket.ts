import { chmodSync, closeSync, openSync, statSync, unlinkSync } from 'node:fs'
import { ensurePrivateDir } from '../lib/data-dir'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { relative, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { AdminCommand, errorMessage, type AdminResult } from './commands'

/**
 * The admin socket: `$DATA_DIR/admin.sock`, a Unix socket only its owner can open (mode 0600).
 *
 * The embedded database (PGlite) is one process's files, and two processes opening them would corrupt them.
 * So whoever opens them (the server, or a CLI when no server runs) first binds this socket and keeps it bound
 * until the database is closed: binding is atomic, so the socket is the lock. Whoever finds it bound sends
 * its admin command over it instead of opening the files. A socket file left by a crashed process refuses
 * connections (ECONNREFUSED): it is removed, under a short lock file so two processes cannot both remove
 * and re-bind, and bound again.
 *
 * Protocol: newline-delimited JSON, one response line per request line.
 *   → {"type": "ping"}                       ← {"ok": true, "holder": "server", "pid": 123, "draining": false}
 *   → {"type": "command", "command": {…}}    ← {"ok": true, "result": {"output": {…}, "notes": […]}}
 *                                            ← {"ok": false, "error": {"kind": …, "message": "…"}}
 * `kind` "unavailable" means the holder is shutting down and did NOT run the command: ask again.
 * Before running a command the holder sends {"accepted": true}: a connection lost before that line is safe to
 * retry (the command never started); one lost after it is reported, since the command may have run.
 */

export type HolderKind = 'server' | 'cli'
export interface HolderInfo {
  holder: HolderKind | 'unknown'
  pid?: number
  draining?: boolean
}

export type ErrorKind = 'invalid' | 'failed' | 'unavailable' | 'bad_request'
export type AdminResponse =
  | { ok: true; result: AdminResult }
  | { ok: true; holder: HolderKind; pid: number; draining: boolean }
  | { ok: false; error: { kind: ErrorKind; message: string } }

export type AdminHandler = (command: AdminCommand) => Promise<AdminResult>

export interface AdminSocket {
  readonly path: string
  /** Stop running new commands (they are answered "unavailable") and wait for the running ones. */
  drain(): Promise<void>
  /** Close the socket, which removes its file: the data directory is free. Call after closing the database. */
  release(): Promise<void>
}

const MAX_LINE = 64 * 1024
const UNAVAILABLE: AdminResponse = { ok: false, error: { kind: 'unavailable', message: 'shutting down' } }
// Linux allows 107 bytes in a socket path (macOS 103).
const MAX_SOCKET_PATH = 100

export function adminSocketPath(dataDir: string): string {
  const absolute = resolve(dataDir, 'admin.sock')
  if (absolute.length <= MAX_SOCKET_PATH) return absolute
  const rel = relative(process.cwd(), absolute)
  if (rel.length <= MAX_SOCKET_PATH) return rel
  throw new Error(`DATA_DIR is too long for a Unix socket path (${absolute}): use a shorter DATA_DIR`)
}

/** Nobody took the request (refused, or closed before accepting it): the command did not run, ask again. */
export class NoHolderError extends Error {
  constructor(readonly code: string) {
    super(`nobody is listening on the admin socket (${code})`)
  }
}

/** Sends one request and waits for its response line. */
export function sendAdminRequest(path: string, request: unknown, timeoutMs = 120_000): Promise<AdminResponse> {
  return new Promise((resolvePromise, reject) => {
    const conn = createConnection(path)
    let connected = false
    let accepted = false
    let settled = false
    let buffer = ''
    const finish = (err: Error | null, response?: AdminResponse) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      conn.destroy()
      if (err) reject(err)
      else resolvePromise(response!)
    }
    const timer = setTimeout(() => finish(new Error(`no answer on the admin socket ${path} within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs)
    conn.setEncoding('utf8')
    conn.on('connect', () => {
      connected = true
      conn.write(`${JSON.stringify(request)}\n`)
    })
    conn.on('data', (chunk: string) => {
      buffer += chunk
      for (let end = buffer.indexOf('\n'); end >= 0 && !settled; end = buffer.indexOf('\n')) {
        const line = buffer.slice(0, end)
        buffer = buffer.slice(end + 1)
        let message: AdminResponse | { accepted: true }
        try {
          message = JSON.parse(line)
        } catch {
          return finish(new Error('malformed answer on the admin socket'))
        }
        if ('accepted' in message) accepted = true
        else finish(null, message)
      }
    })
    const lost = (code: string) =>
      accepted
        ? new Error(`the process holding the database closed the admin connection (${code}) while running the command: it may or may not have run`)
        : new NoHolderError(code)
    conn.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ECONNREFUSED' || err.code === 'ENOENT')) finish(new NoHolderError(err.code))
      else if (connected && ['ECONNRESET', 'EPIPE'].includes(err.code ?? '')) finish(lost(err.code!))
      else finish(err)
    })
    conn.on('close', () => finish(lost('closed')))
  })
}

type PingResult = HolderInfo | 'stale' | 'gone'

async function ping(path: string): Promise<PingResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await sendAdminRequest(path, { type: 'ping' }, 10_000)
      return 'holder' in r ? { holder: r.holder, pid: r.pid, draining: r.draining } : { holder: 'unknown' }
    } catch (err) {
      if (!(err instanceof NoHolderError)) return { holder: 'unknown' }
      if (err.code === 'ENOENT') return 'gone'
      // Accepted, then closed: someone is there (perhaps shutting down), so never stale.
      if (err.code !== 'ECONNREFUSED') return { holder: 'unknown' }
      // A live process is between bind() and listen() for a few microseconds: look twice before calling it stale.
      if (attempt >= 1) return 'stale'
      await sleep(50)
    }
  }
}

/** Removes a dead process's socket file. Under a lock file, and only after a second look, so a live socket is never removed. */
async function removeStaleSocket(path: string): Promise<void> {
  const lockPath = `${path}.lock`
  let fd: number
  try {
    fd = openSync(lockPath, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    // Someone else is cleaning up; a lock file older than this is from a crash.
    try {
      if (Date.now() - statSync(lockPath).mtimeMs > 10_000) unlinkSync(lockPath)
    } catch {
      /* already gone */
    }
    await sleep(50)
    return
  }
  try {
    if ((await ping(path)) === 'stale') {
      try {
        unlinkSync(path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
  } finally {
    closeSync(fd)
    unlinkSync(lockPath)
  }
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening)
      reject(err)
    }
    const onListening = () => {
      server.off('error', onError)
      resolvePromise()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    // Created 0600 from the start (bind happens synchronously inside listen), not chmod-ed after a window.
    let previous: number | undefined
    try {
      previous = process.umask(0o177)
    } catch {
      /* worker threads cannot change the umask: the chmod below still applies */
    }
    try {
      server.listen(path)
    } finally {
      if (previous !== undefined) process.umask(previous)
    }
  })
}

function serve(holder: HolderKind, handler: AdminHandler, onError?: (err: unknown, command: AdminCommand) => void) {
  let draining = false
  const running = new Set<Promise<unknown>>()
  const connections = new Set<Socket>()

  const answer = async (line: string, accept: () => void): Promise<AdminResponse> => {
    let request: { type?: unknown; command?: unknown }
    try {
      request = JSON.parse(line)
    } catch {
      return { ok: false, error: { kind: 'bad_request', message: 'the request is not JSON' } }
    }
    if (request?.type === 'ping') return { ok: true, holder, pid: process.pid, draining }
    if (request?.type !== 'command') return { ok: false, error: { kind: 'bad_request', message: 'unknown request type' } }
    if (draining) return UNAVAILABLE
    const parsed = AdminCommand.safeParse(request.command)
    if (!parsed.success) return { ok: false, error: { kind: 'bad_request', message: `malformed command: ${parsed.error.message}` } }
    accept()
    try {
      return { ok: true, result: await handler(parsed.data) }
    } catch (err) {
      const { kind, message } = errorMessage(err)
      if (kind === 'failed') onError?.(err, parsed.data)
      return { ok: false, error: { kind, message } }
    }
  }

  const server = createServer((conn) => {
    connections.add(conn)
    conn.on('close', () => connections.delete(conn))
    conn.on('error', () => {})
    conn.setEncoding('utf8')
    let buffer = ''
    let queue: Promise<unknown> = Promise.resolve()
    conn.on('data', (chunk: string) => {
      buffer += chunk
      if (buffer.length > MAX_LINE) return void conn.destroy()
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        const line = buffer.slice(0, end)
        buffer = buffer.slice(end + 1)
        if (!line.trim()) continue
        // One connection's requests run in order; each is tracked so drain() waits for it.
        const send = (message: unknown) => {
          if (!conn.destroyed) conn.write(`${JSON.stringify(message)}\n`)
        }
        const task = queue.then(() => answer(line, () => send({ accepted: true }))).then(send)
        const settled = task.catch(() => {})
        queue = settled
        running.add(settled)
        void settled.finally(() => running.delete(settled))
      }
    })
  })

  const drain = async () => {
    draining = true
    while (running.size) await Promise.allSettled([...running])
  }
  return { server, connections, drain }
}

export type AcquireResult = { acquired: true; socket: AdminSocket } | { acquired: false; holder: HolderInfo }

/**
 * Binds the admin socket if nobody holds it (clearing a dead process's socket file), else reports who does.
 * `handler` runs commands sent by other processes while we hold it.
 */
export async function acquireAdminSocket(opts: {
  dataDir: string
  holder: HolderKind
  handler: AdminHandler
  onError?: (err: unknown, command: AdminCommand) => void
}): Promise<AcquireResult> {
  ensurePrivateDir(opts.dataDir)
  const path = adminSocketPath(opts.dataDir)
  for (let attempt = 0; attempt < 50; attempt++) {
    const { server, connections, drain } = serve(opts.holder, opts.handler, opts.onError)
    try {
      await listen(server, path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
      const found = await ping(path)
      if (found === 'stale') await removeStaleSocket(path)
      if (found === 'stale' || found === 'gone') continue
      return { acquired: false, holder: found }
    }
    chmodSync(path, 0o600)
    // If the process exits without releasing (a crash path calling process.exit), leave no socket behind.
    const onExit = () => {
      try {
        unlinkSync(path)
      } catch {
        /* already gone */
      }
    }
    process.on('exit', onExit)
    let released: Promise<void> | undefined
    const socket: AdminSocket = {
      path,
      drain,
      release: () =>
        (released ??= (async () => {
          await drain()
          await new Promise<void>((r) => {
            server.close(() => r())
            // Nothing runs any more: whoever is still connected (a request maybe on its way) hears "ask again".
            for (const c of connections) {
              c.end(`${JSON.stringify(UNAVAILABLE)}\n`)
              setTimeout(() => c.destroy(), 1000).unref()
            }
          })
          process.off('exit', onExit)
        })()),
    }
    return { acquired: true, socket }
  }
  throw new Error(`could not bind the admin socket ${path}: it keeps changing hands`)
}

/**
 * The server's claim on the data directory. A CLI holding it is done within seconds, and a server shutting
 * down soon: wait for them. Another running server is an error: two servers cannot share embedded files.
 */
export async function holdDataDir(opts: {
  dataDir: string
  handler: AdminHandler
  onError?: (err: unknown, command: AdminCommand) => void
  waitMs?: number
}): Promise<AdminSocket> {
  const deadline = Date.now() + (opts.waitMs ?? 30_000)
  for (;;) {
    const r = await acquireAdminSocket({ ...opts, holder: 'server' })
    if (r.acquired) return r.socket
    const { holder, pid, draining } = r.holder
    const who = `${holder === 'unknown' ? 'another process' : `a Kassa ${holder === 'cli' ? 'admin command' : 'server'}`}${pid ? ` (pid ${pid})` : ''}`
    if (holder === 'server' && !draining) {
      throw new Error(`${who} is already using it: stop that one, or give this one another DATA_DIR`)
    }
    if (Date.now() > deadline) throw new Error(`it is still held by ${who}`)
    await sleep(200)
  }
}
