import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createTestApp } from './helpers'

/*
 * What SDK 1.x sends, read from the SDK itself: every query parameter of every GET it builds, for the paths Kassa
 * serves, must be a parameter of Kassa's OpenAPI document. Kassa's query schemas drop unknown keys, so a new
 * filter 1.x sends would otherwise be silently ignored and answer every row (orders' `status` did, before
 * issue 18). Where Kassa has no such concept the parameter is still declared and answered as documented
 * (`benefit_id`: no product has benefits).
 */

const servicesDir = join(dirname(createRequire(import.meta.url).resolve('polar-sdk-1/2026-10')), 'services')

function sdkListQueries(): { path: string; params: string[] }[] {
  const out: { path: string; params: string[] }[] = []
  const files = readdirSync(servicesDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.mjs'))
  for (const file of files) {
    const src = readFileSync(join(servicesDir, file), 'utf8')
    for (const m of src.matchAll(/const queryParams = \{([^}]*)\};[\s\S]*?buildRequest\("GET", "([^"]+)"/g)) {
      out.push({ path: m[2]!, params: [...m[1]!.matchAll(/^\s*([a-z_]+):/gm)].map((p) => p[1]!) })
    }
  }
  return out
}

describe('SDK 1.x query parameters', async () => {
  const { app } = await createTestApp()
  const spec = (await app.inject({ url: '/openapi.json' })).json() as {
    paths: Record<string, { get?: { parameters?: { name: string; in: string }[] } }>
  }

  it('reads the SDK (a sanity check of the reader itself)', () => {
    const queries = sdkListQueries()
    expect(queries.length).toBeGreaterThan(30)
    expect(queries.find((q) => q.path === '/v1/orders/')?.params).toEqual(expect.arrayContaining(['status', 'created_after', 'metadata']))
  })

  it('every parameter 1.x sends on a path Kassa serves is one Kassa declares', () => {
    const missing: string[] = []
    let served = 0
    for (const { path, params } of sdkListQueries()) {
      const get = (spec.paths[path] ?? spec.paths[path.replace(/\/$/, '')])?.get
      if (!get) continue
      served++
      const declared = new Set((get.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name))
      for (const p of params) if (!declared.has(p)) missing.push(`${path} ${p}`)
    }
    expect(served).toBeGreaterThanOrEqual(11) // products, links, checkouts, custom fields, customers, discounts, orders, subscriptions, organizations, webhook endpoints and deliveries
    expect(missing).toEqual([])
  })
})
