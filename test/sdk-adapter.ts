import type { Polar } from '@polar-sh/sdk'
import { createPolar } from 'polar-sdk-1/2026-10'

/*
 * The API suite's SDK-driven tests, through Polar's SDK 1.x (issue 18).
 *
 * The suite is written against @polar-sh/sdk 0.49.0 (camelCase, `{ id, xxxUpdate }` request objects, Date
 * objects, a page iterator with `.result`). When `KASSA_SDK=1` (the `sdk-1.x` project of vitest.config.ts),
 * `polarClient` hands the tests this adapter instead: every call goes through a real 1.x client
 * (`createPolar({ accessToken, baseUrl })`), so every request on the wire is the one 1.x sends (its headers,
 * `Polar-Version`, `Content-Type` on bodiless calls, its query and body encoding), and the answer is translated
 * back into 0.49's shape for the unchanged assertions. Only the call shape is translated: keys (camelCase <->
 * snake_case, outside user-keyed maps such as metadata and custom field data), ISO timestamps <-> Date, and
 * the positional arguments of 1.x. 1.x does not validate answers at run time; test/sdk-1x-types.test.ts checks
 * them against its TypeScript models.
 */

type AnyFn = (...args: unknown[]) => Promise<unknown>

/** Maps whose keys belong to the user (or are ids and currencies): their keys and values are left alone. */
const OPAQUE = new Set(['metadata', 'custom_field_data', 'customer_metadata', 'payment_processor_metadata', 'user_metadata'])
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

const toSnake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
const toCamel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

/** 0.49's request object → the JSON 1.x expects (0.49 sends Dates as ISO strings and drops undefined). */
export function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map(toWire)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue
    const snake = toSnake(key)
    out[snake] = OPAQUE.has(snake) ? v : toWire(v)
  }
  return out
}

/** 1.x's JSON answer → what 0.49 hands back: camelCase keys, date-time strings as Dates. */
export function fromWire(value: unknown): unknown {
  if (typeof value === 'string') return ISO_DATE_TIME.test(value) ? new Date(value) : value
  if (Array.isArray(value)) return value.map(fromWire)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) out[toCamel(key)] = OPAQUE.has(key) ? v : fromWire(v)
  return out
}

/** 0.49 names that 1.x renamed. */
const RENAMED: Record<string, Record<string, string>> = { organizations: { listOrganizations: 'list' } }

/** 0.49 parameters whose wire name is not their snake_case (0.49's `typeFilter` is sent as `type`). */
const WIRE_NAMES: Record<string, string> = { type_filter: 'type' }

/** 0.49's single request object → 1.x's positional arguments. */
function toArgs(method: string, request: unknown): unknown[] {
  if (/^list|^iter/.test(method)) {
    if (request === undefined) return []
    const query = toWire(request) as Record<string, unknown>
    return [Object.fromEntries(Object.entries(query).map(([k, v]) => [WIRE_NAMES[k] ?? k, v]))]
  }
  if (/^create/.test(method)) return request === undefined ? [] : [toWire(request)]
  const { id, clientSecret, ...rest } = (request ?? {}) as Record<string, unknown>
  const key = id ?? clientSecret
  if (key === undefined) throw new Error(`sdk-adapter: ${method} needs an id or clientSecret`)
  const bodies = Object.values(rest)
  if (bodies.length > 1) throw new Error(`sdk-adapter: ${method} got more than one body: ${Object.keys(rest).join(', ')}`)
  return bodies.length === 0 ? [key] : [key, toWire(bodies[0])]
}

/** 0.49's list answer: a page iterator whose `.result` is the page. */
function asPage(page: unknown) {
  const result = fromWire(page)
  return {
    result,
    async *[Symbol.asyncIterator]() {
      yield { result }
    },
  }
}

export function polarOneAs049(accessToken: string, baseUrl: string): Polar {
  const client = createPolar({ accessToken, baseUrl }) as unknown as Record<string, Record<string, AnyFn>>
  const resources = new Map<string, unknown>()
  return new Proxy({} as Polar, {
    get(_, resource: string) {
      // `then`: the client is returned from an async function, which asks whether it is a promise.
      if (typeof resource !== 'string' || resource === 'then') return undefined
      if (!resources.has(resource)) {
        const service = client[resource]
        if (!service) throw new Error(`sdk-adapter: SDK 1.x has no ${resource}`)
        resources.set(
          resource,
          new Proxy({}, {
            get(__, method: string) {
              const name = RENAMED[resource]?.[method] ?? method
              const fn = service[name]
              if (typeof fn !== 'function') throw new Error(`sdk-adapter: SDK 1.x has no ${resource}.${name}`)
              return async (request?: unknown) => {
                const answer = await fn(...toArgs(name, request))
                return /^list/.test(name) ? asPage(answer) : fromWire(answer)
              }
            },
          }),
        )
      }
      return resources.get(resource)
    },
  })
}
