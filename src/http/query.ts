import { parse } from 'fast-querystring'

/*
 * The query string parser (Fastify's own, fast-querystring), plus Polar's metadata filter: Polar's list
 * endpoints take `?metadata[key]=value` (OpenAPI `deepObject`, server/polar/kit/metadata.py
 * `_get_metadata_query`), repeated for several values of a key. Those keys are folded into one `metadata`
 * object of arrays, `{ key: ['value', …] }`, which the list schemas validate (`MetadataQuery`). Every other
 * key is left as parsed. A query string without "metadata" in it takes the plain path.
 */

const METADATA_KEY = /^metadata\[([^\]]+)\]$/

export function parseQuery(query: string): Record<string, unknown> {
  if (query.length === 0) return {}
  const parsed = parse(query) as Record<string, unknown>
  if (!query.includes('metadata')) return parsed
  let metadata: Record<string, string[]> | undefined
  for (const key of Object.keys(parsed)) {
    const match = METADATA_KEY.exec(key)
    if (!match) continue
    const value = parsed[key]
    delete parsed[key]
    metadata ??= Object.create(null) as Record<string, string[]>
    const name = match[1]!
    metadata[name] = [...(metadata[name] ?? []), ...(Array.isArray(value) ? value : [value])] as string[]
  }
  if (metadata) parsed.metadata = metadata
  return parsed
}
