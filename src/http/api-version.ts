import type { FastifyInstance, FastifyRequest } from 'fastify'

/**
 * The `Polar-Version` request header, as Polar's server handles it (server/polar/kit/versioning.py,
 * `APIVersionMiddleware`): absent means the current version; a version Polar publishes is accepted; any
 * other value, malformed or unknown, is answered `404 {"detail": "Not Found"}`, exactly as Polar answers it.
 * Every API answer names the version it was served in (`Polar-Version` response header), as Polar's does.
 * Kassa serves the same shapes in every accepted version. Only the API (`/v1/…`) is versioned.
 */
export const CURRENT_API_VERSION = '2026-04'
export const API_VERSIONS: ReadonlySet<string> = new Set(['2026-04', '2026-10', '2027-01'])
const HEADER = 'polar-version'

/** The version a request is served in: its `Polar-Version` header (the hook above refused unknown ones), else the current one. */
export function requestApiVersion(request: FastifyRequest): string {
  const raw = request.headers[HEADER]
  const version = Array.isArray(raw) ? raw[0] : raw
  return version !== undefined && API_VERSIONS.has(version) ? version : CURRENT_API_VERSION
}

export function registerApiVersion(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v1/')) return
    const raw = request.headers[HEADER]
    const version = raw === undefined ? CURRENT_API_VERSION : Array.isArray(raw) ? raw[0] : raw
    if (version === undefined || !API_VERSIONS.has(version)) {
      return reply.status(404).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ detail: 'Not Found' }))
    }
    reply.header('Polar-Version', version)
  })
}
