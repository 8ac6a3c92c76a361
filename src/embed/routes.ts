import { createHash } from 'node:crypto'
import type { FastifyPluginAsync } from 'fastify'
import type { Deps } from '../deps'
import { embedScript } from './script'

/**
 * `GET /embed.js`, the script a merchant's page loads to open checkout links in an overlay. It trusts the
 * messages of this instance's own origin (`PUBLIC_URL`, where the checkout pages live), as Polar's published
 * script trusts only Polar's. Cacheable for an hour and revalidated by ETag: a new version reaches pages soon.
 */
export const embedRoutes: FastifyPluginAsync<{ deps: Deps }> = async (app, { deps }) => {
  const body = embedScript([new URL(deps.config.publicUrl).origin])
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
  app.get('/embed.js', { schema: { hide: true } }, async (req, reply) => {
    reply
      .header('cache-control', 'public, max-age=3600')
      .header('etag', etag)
      // Loaded by other sites: allowed across origins, also for a `crossorigin` script tag.
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('access-control-allow-origin', '*')
    if (req.headers['if-none-match'] === etag) return reply.code(304).send()
    return reply.type('text/javascript; charset=utf-8').send(body)
  })
}
