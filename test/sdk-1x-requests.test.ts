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

/*
 * The same for request bodies: every field of 1.x's request model (each member of a union) must be a property of
 * Kassa's body schema for that route, so no field 1.x sends is dropped without a word. Read with the TypeScript
 * compiler from 1.x's own declarations.
 */
const BODIES: [model: string, method: 'post' | 'patch', path: string][] = [
  ['ProductCreate', 'post', '/v1/products'],
  ['ProductUpdate', 'patch', '/v1/products/{id}'],
  ['DiscountCreate', 'post', '/v1/discounts'],
  ['DiscountUpdate', 'patch', '/v1/discounts/{id}'],
  ['CustomFieldCreate', 'post', '/v1/custom-fields'],
  ['CustomFieldUpdate', 'patch', '/v1/custom-fields/{id}'],
  ['CheckoutLinkCreate', 'post', '/v1/checkout-links'],
  ['CheckoutLinkUpdate', 'patch', '/v1/checkout-links/{id}'],
  ['CheckoutCreate', 'post', '/v1/checkouts'],
  ['CheckoutUpdate', 'patch', '/v1/checkouts/{id}'],
  ['CheckoutUpdatePublic', 'patch', '/v1/checkouts/client/{client_secret}'],
  ['CheckoutConfirmStripe', 'post', '/v1/checkouts/client/{client_secret}/confirm'],
  ['WebhookEndpointCreate', 'post', '/v1/webhooks/endpoints'],
  ['WebhookEndpointUpdate', 'patch', '/v1/webhooks/endpoints/{id}'],
  ['OrganizationUpdate', 'patch', '/v1/organizations/{id}'],
]

async function sdkModelFields(models: string[]): Promise<Map<string, Set<string>>> {
  const ts = (await import('typescript')).default
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs')
  const dir = mkdtempSync(join(process.cwd(), 'test/.sdk-models-'))
  try {
    const file = join(dir, 'models.ts')
    writeFileSync(file, `import type { models } from 'polar-sdk-1/2026-10'\n${models.map((m) => `export type ${m} = models.${m}`).join('\n')}\n`)
    const program = ts.createProgram([file], { strict: true, noEmit: true, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, target: ts.ScriptTarget.ES2022, skipLibCheck: true })
    const checker = program.getTypeChecker()
    const source = program.getSourceFile(file)!
    const out = new Map<string, Set<string>>()
    for (const symbol of checker.getExportsOfModule(checker.getSymbolAtLocation(source)!)) {
      const type = checker.getDeclaredTypeOfSymbol(symbol)
      const members = type.isUnion() ? type.types : [type]
      out.set(symbol.name, new Set(members.flatMap((t) => checker.getPropertiesOfType(t).map((p) => p.name))))
    }
    return out
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

type JsonSchema = { properties?: Record<string, unknown>; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; allOf?: JsonSchema[] }
const schemaFields = (s: JsonSchema | undefined): string[] =>
  !s ? [] : [...Object.keys(s.properties ?? {}), ...[...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])].flatMap(schemaFields)]

describe('SDK 1.x request bodies', async () => {
  const { app } = await createTestApp()
  const spec = (await app.inject({ url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>
  }

  it('every field of every 1.x request model Kassa serves is a field Kassa reads', async () => {
    const fields = await sdkModelFields(BODIES.map(([m]) => m))
    expect(fields.get('CheckoutConfirmStripe')).toContain('confirmation_token_id') // the reader reads
    const missing: string[] = []
    for (const [model, method, path] of BODIES) {
      const body = spec.paths[path]?.[method]?.requestBody?.content['application/json']?.schema
      expect(body, `${method} ${path}`).toBeDefined()
      const kassa = new Set(schemaFields(body))
      for (const f of fields.get(model) ?? []) if (!kassa.has(f)) missing.push(`${model}.${f}`)
    }
    expect(missing).toEqual([])
  })
})
