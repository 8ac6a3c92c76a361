import Fastify from 'fastify'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DASHBOARD_CSP, dashboardRoutes } from '../src/dashboard/routes'

/** The static serving of the built dashboard, on a fake build (no Vite needed). */
describe('dashboard static files', () => {
  const dist = mkdtempSync(join(tmpdir(), 'kassa-dashboard-'))
  const app = Fastify({ routerOptions: { ignoreTrailingSlash: true } })

  beforeAll(async () => {
    mkdirSync(join(dist, 'assets'))
    writeFileSync(join(dist, 'index.html'), '<!doctype html><script type="module" src="/dashboard/assets/index-AbC123_x.js"></script>')
    writeFileSync(join(dist, 'assets', 'index-AbC123_x.js'), 'console.log(1)')
    writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
    writeFileSync(join(tmpdir(), 'kassa-secret.txt'), 'TOP-SECRET-CONTENT')
    await app.register(dashboardRoutes, { distDir: dist })
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
    rmSync(dist, { recursive: true, force: true })
    rmSync(join(tmpdir(), 'kassa-secret.txt'), { force: true })
  })

  test.each(['/dashboard', '/dashboard/', '/dashboard/products/checkout-links/0190', '/dashboard/tokens?page=2'])('%s answers the app with a strict CSP', async (url) => {
    const res = await app.inject({ url })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(res.headers['content-security-policy']).toBe(DASHBOARD_CSP)
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline')
    expect(res.headers['cache-control']).toBe('no-cache')
    expect(res.headers['x-frame-options']).toBe('DENY')
    expect(res.body).toContain('/dashboard/assets/index-AbC123_x.js')
  })

  test('index.html revalidates with its ETag', async () => {
    const first = await app.inject({ url: '/dashboard/' })
    const again = await app.inject({ url: '/dashboard/', headers: { 'if-none-match': String(first.headers.etag) } })
    expect(again.statusCode).toBe(304)
  })

  test('hashed assets are immutable; other files are cached briefly', async () => {
    const js = await app.inject({ url: '/dashboard/assets/index-AbC123_x.js' })
    expect(js.statusCode).toBe(200)
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    const icon = await app.inject({ url: '/dashboard/favicon.svg' })
    expect(icon.headers['content-type']).toBe('image/svg+xml')
    expect(icon.headers['cache-control']).toBe('public, max-age=3600')
  })

  test.each(['/dashboard/assets/missing-12345678.js', '/dashboard/nope.css', '/dashboard/%2e%2e/kassa-secret.txt', '/dashboard/..%2f..%2fkassa-secret.txt', '/dashboard/assets/%2e%2e/%2e%2e/kassa-secret.txt'])(
    '%s is a 404, never the app or a file outside the build',
    async (url) => {
      const res = await app.inject({ url })
      expect(res.statusCode).toBe(404)
      expect(res.body).not.toContain('TOP-SECRET-CONTENT')
    },
  )

  test('without a build, the app says how to build it', async () => {
    const bare = Fastify()
    await bare.register(dashboardRoutes, { distDir: join(dist, 'missing') })
    const res = await bare.inject({ url: '/dashboard/products' })
    expect(res.statusCode).toBe(503)
    expect(res.body).toContain('npm run build')
    await bare.close()
  })
})
