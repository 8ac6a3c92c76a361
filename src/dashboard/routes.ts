import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where `npm run build` puts the dashboard (dashboard/dist at the repository root). */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/dist', import.meta.url))

export interface DashboardOptions {
  /** The built dashboard; defaults to dashboard/dist. */
  distDir?: string
}

/**
 * The dashboard's pages allow only the dashboard's own files: Vite's build has no inline script or style
 * (React sets `style` through the DOM, which CSP allows). QR codes are shown as `data:` images.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join('; ')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

/** Vite names built assets `assets/name-<hash>.ext`: their content never changes under that name. */
const HASHED = /^assets\/.+[-.][A-Za-z0-9_-]{8,}\.[a-z0-9]+$/

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Kassa dashboard</title>
<h1>The dashboard has not been built</h1><p>Run <code>npm run build</code> (or <code>npm start</code>, which builds it when needed), then reload.</p>
<p>The API works without it: <a href="/docs">/docs</a>.</p></html>`

/**
 * Serves the built dashboard at `/dashboard`: files from dist/, and index.html for every other path under
 * `/dashboard` so that the single-page app's own routes (`/dashboard/products/…`) survive a reload.
 */
export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, opts) => {
  const root = resolve(opts.distDir ?? DEFAULT_DASHBOARD_DIR)

  const security = (reply: FastifyReply) =>
    reply
      .header('content-security-policy', DASHBOARD_CSP)
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'same-origin')
      .header('x-robots-tag', 'noindex, nofollow')

  async function sendIndex(request: FastifyRequest, reply: FastifyReply) {
    const file = join(root, 'index.html')
    let body: Buffer
    let etag: string
    try {
      const st = await stat(file)
      etag = `W/"${st.size.toString(16)}-${Math.trunc(st.mtimeMs).toString(16)}"`
      body = await readFile(file)
    } catch {
      return security(reply).code(503).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(NOT_BUILT)
    }
    // Revalidated on every load, so a rebuilt dashboard (new asset hashes) is picked up at once.
    security(reply).header('cache-control', 'no-cache').header('etag', etag)
    if (request.headers['if-none-match'] === etag) return reply.code(304).send()
    return reply.type('text/html; charset=utf-8').send(body)
  }

  async function handle(request: FastifyRequest, reply: FastifyReply) {
    const rest = ((request.params as { '*'?: string })['*'] ?? '').replace(/^\/+/, '')
    // A path that names a file (has an extension) is served as that file or is a 404; anything else is a
    // page of the app.
    const looksLikeFile = /\.[a-z0-9]+$/i.test(rest) || rest.startsWith('assets/')
    if (!looksLikeFile || rest === 'index.html') return sendIndex(request, reply)

    const file = resolve(root, rest)
    if (rest.includes('\0') || !file.startsWith(root + sep)) return notFound(reply)
    try {
      const st = await stat(file)
      if (!st.isFile()) return notFound(reply)
    } catch {
      return notFound(reply)
    }
    security(reply)
      .header('cache-control', HASHED.test(rest) ? 'public, max-age=31536000, immutable' : 'public, max-age=3600')
      .type(TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
    return reply.send(createReadStream(file))
  }

  const notFound = (reply: FastifyReply) =>
    security(reply).code(404).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('Not found')

  app.get('/dashboard', { schema: { hide: true } }, sendIndex)
  app.get('/dashboard/*', { schema: { hide: true } }, handle)
}
