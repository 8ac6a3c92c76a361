import type { FastifyServerOptions, RawRequestDefaultExpression } from 'fastify'
import { randomUUID } from 'node:crypto'

// Every secret Kassa mints starts with one of these prefixes (checkout links, checkout sessions, access
// tokens, dashboard sessions, webhook secrets): a URL or message carrying one is logged with only its head.
const SECRET = /\b(polar_cl_|polar_c_|polar_oat_|polar_whs_|kassa_s_)([A-Za-z0-9_-]+)/g
const KEEP = 8

/** `polar_c_AbCdEfGhIjKl…` → `polar_c_AbCdEfGh…`: enough to tell two apart in a log, too little to use. */
export function redactSecrets(text: string): string {
  return text.replace(SECRET, (_m, prefix: string, rest: string) => `${prefix}${rest.slice(0, KEEP)}…`)
}

/** The URL as the router reads it (percent-escapes decoded), so an escaped secret is recognized too. */
function decodedUrl(url: string): string {
  try {
    return decodeURIComponent(url)
  } catch {
    return url.replace(/%[0-9A-Fa-f]{2}/g, (e) => String.fromCharCode(Number.parseInt(e.slice(1), 16)))
  }
}

/** pino's request serializer, with secrets in the URL cut short (also when the client escaped them). */
export const logSerializers = {
  req(req: { method: string; url: string; hostname?: string; ip?: string; socket?: { remotePort?: number } }) {
    return { method: req.method, url: redactSecrets(decodedUrl(req.url)), host: req.hostname, remoteAddress: req.ip, remotePort: req.socket?.remotePort }
  },
}

/** A client's request id, when it is short and plain; anything else could forge or flood log lines. */
const PLAIN_ID = /^[A-Za-z0-9._-]{1,64}$/

/** Ours are random UUIDs (nothing sorts by them): Node's `randomUUID` is cheaper than a UUIDv7 on every request. */
export function genReqId(req: RawRequestDefaultExpression): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && PLAIN_ID.test(given) ? given : randomUUID()
}

export type LoggerOptions = FastifyServerOptions['logger']

/** The logger options with Kassa's serializers (a caller's own logger options keep theirs on top). */
export function withLogSerializers(logger: LoggerOptions): LoggerOptions {
  if (logger === undefined || logger === false) return logger
  const base = logger === true ? {} : (logger as Record<string, unknown>)
  return { ...base, serializers: { ...logSerializers, ...((base.serializers as object | undefined) ?? {}) } } as LoggerOptions
}
