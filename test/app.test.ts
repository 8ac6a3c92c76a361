import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config'
import { sql } from 'kysely'
import { openPostgres } from '../src/db/index'
import { createOrg, createTestApp, testDatabase, testDatabaseUrl } from './helpers'

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({})
    expect(c).toMatchObject({ port: 8000, databaseUrl: undefined, dataDir: './data', publicUrl: 'http://localhost:8000', linkBaseUrl: 'http://localhost:8000/buy', checkoutTtlSeconds: 86400, demoData: true, webhooksAllowInsecure: true })
    const pg = loadConfig({ DATABASE_URL: 'postgres://u@h/db', PORT: '9000', PUBLIC_URL: 'https://pay.example.com/' })
    expect(pg).toMatchObject({ port: 9000, publicUrl: 'https://pay.example.com', linkBaseUrl: 'https://pay.example.com/buy', demoData: false, webhooksAllowInsecure: false })
  })

  it('lists every bad key in one message', () => {
    let err: unknown
    try {
      loadConfig({ PORT: 'abc', DATABASE_URL: 'mysql://x', PUBLIC_URL: 'ftp://x' })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    const msg = (err as Error).message
    expect(msg).toContain('PORT="abc"')
    expect(msg).toContain('DATABASE_URL="mysql://x": must be a postgres:// or postgresql:// URL')
    expect(msg).toContain('PUBLIC_URL="ftp://x"')
  })

  it('CHECKOUT_RETENTION_DAYS: 30 by default, 0 keeps sessions forever, anything but whole days is refused', () => {
    expect(loadConfig({}).checkoutRetentionDays).toBe(30)
    expect(loadConfig({ CHECKOUT_RETENTION_DAYS: '' }).checkoutRetentionDays).toBe(30)
    expect(loadConfig({ CHECKOUT_RETENTION_DAYS: '0' }).checkoutRetentionDays).toBe(0)
    expect(loadConfig({ CHECKOUT_RETENTION_DAYS: '90' }).checkoutRetentionDays).toBe(90)
    for (const bad of ['-1', '1.5', 'abc', '1e3', '30d']) {
      expect(() => loadConfig({ CHECKOUT_RETENTION_DAYS: bad }), bad).toThrow(
        `CHECKOUT_RETENTION_DAYS=${JSON.stringify(bad)}: must be a whole number of days (0 keeps sessions forever)`,
      )
    }
    expect(() => loadConfig({ CHECKOUT_RETENTION_DAYS: '36501' })).toThrow('CHECKOUT_RETENTION_DAYS="36501": must be at most 36500 days')
  })
})

describe('HTTP basics', async () => {
  const ctx = await createTestApp()
  const { app } = ctx

  it('answers health and readiness', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' })
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'ok' })
  })

  it('compresses large answers for clients that accept it', async () => {
    const br = await app.inject({ method: 'GET', url: '/openapi.json', headers: { 'accept-encoding': 'br, gzip' } })
    expect(br.headers['content-encoding']).toBe('br')
    const plain = await app.inject({ method: 'GET', url: '/openapi.json' })
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(br.rawPayload.length).toBeLessThan(plain.rawPayload.length / 3)
  })

  it('serves the OpenAPI document and the docs page', async () => {
    const doc = (await app.inject('/openapi.json')).json()
    expect(doc.openapi).toBe('3.1.0')
    for (const path of ['/v1/products', '/v1/products/{id}', '/v1/custom-fields', '/v1/custom-fields/{id}', '/v1/discounts', '/v1/discounts/{id}']) {
      expect(Object.keys(doc.paths), path).toContain(path)
    }
    expect(doc.paths['/v1/products'].post.requestBody.content['application/json'].schema.properties.name).toBeDefined()
    const docs = await app.inject('/docs/')
    expect(docs.statusCode).toBe(200)
    expect(docs.headers['content-type']).toContain('text/html')
  })

  it('answers unknown routes, big bodies, wrong content types and bad JSON in Polar format', async () => {
    const org = await createOrg(ctx)
    const nf = await app.inject('/v1/nope')
    expect({ status: nf.statusCode, body: nf.json() }).toEqual({ status: 404, body: { error: 'ResourceNotFound', detail: 'Not found' } })

    const big = await app.inject({ method: 'POST', url: '/v1/products/', headers: { ...org.headers, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }) })
    expect({ status: big.statusCode, body: big.json() }).toEqual({ status: 413, body: { error: 'PayloadTooLarge', detail: 'Request body is too large.' } })

    const xml = await app.inject({ method: 'POST', url: '/v1/products/', headers: { ...org.headers, 'content-type': 'application/xml' }, payload: '<product/>' })
    expect({ status: xml.statusCode, body: xml.json() }).toEqual({ status: 415, body: { error: 'UnsupportedMediaType', detail: 'Unsupported content type: send application/json.' } })

    const bad = await app.inject({ method: 'POST', url: '/v1/products/', headers: { ...org.headers, 'content-type': 'application/json' }, payload: '{"name": ' })
    expect(bad.statusCode).toBe(422)
    // FastAPI's loc is where decoding stopped: the end of this truncated body
    expect(bad.json().detail[0]).toMatchObject({ loc: ['body', 9], msg: 'JSON decode error', type: 'json_invalid' })

    const proto = await app.inject({ method: 'POST', url: '/v1/products/', headers: { ...org.headers, 'content-type': 'application/json' }, payload: '{"__proto__": {"x": 1}, "name": "abc", "prices": [{"amount_type": "fixed", "price_amount": 1}]}' })
    expect(proto.statusCode).toBe(422)

    const empty = await app.inject({ method: 'POST', url: '/v1/products/', headers: { ...org.headers, 'content-type': 'application/json' }, payload: '' })
    expect({ status: empty.statusCode, body: empty.json() }).toEqual({ status: 422, body: { error: 'RequestValidationError', detail: [{ loc: ['body'], msg: 'Field required', type: 'missing', input: null }] } })

    const notObject = await app.inject({ method: 'POST', url: '/v1/products/', headers: org.headers, payload: [1, 2] as unknown as object })
    expect(notObject.json()).toEqual({ error: 'RequestValidationError', detail: [{ loc: ['body'], msg: 'Input should be a valid dictionary or object', type: 'dict_type', input: [1, 2] }] })

    const badId = await app.inject({ method: 'GET', url: '/v1/products/not-a-uuid', headers: org.headers })
    expect({ status: badId.statusCode, body: badId.json() }).toEqual({ status: 422, body: { error: 'RequestValidationError', detail: [{ loc: ['path', 'id'], msg: 'Input should be a valid UUID', type: 'uuid_parsing', input: 'not-a-uuid' }] } })

    const badQuery = await app.inject({ method: 'GET', url: '/v1/products/?page=0&sorting=price', headers: org.headers })
    expect(badQuery.statusCode).toBe(422)
    expect(badQuery.json().detail.map((d: { loc: unknown[] }) => d.loc)).toEqual([['query', 'page'], ['query', 'sorting', 0]])
  })

  it('ignores unknown body fields and never lets a client set server-owned ones', async () => {
    const org = await createOrg(ctx)
    const res = await app.inject({
      method: 'POST',
      url: '/v1/products/',
      headers: org.headers,
      payload: { id: '00000000-0000-7000-8000-000000000000', created_at: '2000-01-01T00:00:00Z', is_archived: true, whatever: 1, name: 'Clean', prices: [{ amount_type: 'fixed', price_amount: 5 }] },
    })
    expect(res.statusCode).toBe(201)
    const body = res.json()
    expect(body.id).not.toBe('00000000-0000-7000-8000-000000000000')
    expect(body.created_at).not.toBe('2000-01-01T00:00:00.000Z')
    expect(body.is_archived).toBe(false)
    expect(body.whatever).toBeUndefined()
    expect(res.headers['x-request-id']).toBeTruthy()
  })
})

describe.skipIf(!testDatabaseUrl)('PostgreSQL connections', () => {
  it('an idle connection killed by the server neither crashes the process nor breaks the next query', async () => {
    const url = new URL(testDatabaseUrl!)
    url.searchParams.set('application_name', 'kassa_terminate_test')
    const errors: Error[] = []
    const database = await openPostgres(url.toString(), { onError: (e) => errors.push(e) })
    try {
      await sql`select 1`.execute(database.db)
      const killer = await testDatabase()
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'kassa_terminate_test'`.execute(killer.db)
      for (let i = 0; i < 50 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 50))
      expect(errors.length).toBeGreaterThan(0)
      const r = await sql<{ ok: number }>`select 1 as ok`.execute(database.db)
      expect(r.rows[0]!.ok).toBe(1)
    } finally {
      await database.close()
    }
  })
})
