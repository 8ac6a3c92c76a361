import { describe, expect, it } from 'vitest'
import { createOrg, createTestApp, tokenWithScopes } from './helpers'

// @polar-sh/sdk 0.49.0 has no organization access token endpoints: these go through inject.
describe('organization access tokens cannot reach beyond their own scopes', async () => {
  const ctx = await createTestApp()
  const { app } = ctx
  const url = '/v1/organization-access-tokens/'

  async function setup() {
    const org = await createOrg(ctx)
    const manager = await tokenWithScopes(ctx, org.organizationId, ['organization_access_tokens:write', 'products:write'])
    const create = async (scopes: string[]) => {
      const res = await app.inject({ method: 'POST', url, headers: org.headers, payload: { comment: 'target', scopes } })
      expect(res.statusCode, res.body).toBe(201)
      return res.json().organization_access_token.id as string
    }
    return { org, manager, create }
  }

  it('cannot downgrade, rename or revoke a token holding a scope it lacks', async () => {
    const { org, manager, create } = await setup()
    const powerful = await create(['orders:read', 'products:read'])
    const expected = { error: 'NotPermitted', detail: 'A token cannot update a token with scopes it does not have: orders:read.' }

    const downgrade = await app.inject({ method: 'PATCH', url: `${url}${powerful}`, headers: manager, payload: { scopes: ['products:read'] } })
    expect(downgrade.statusCode).toBe(403)
    expect(downgrade.json()).toEqual(expected)
    const rename = await app.inject({ method: 'PATCH', url: `${url}${powerful}`, headers: manager, payload: { comment: 'mine now' } })
    expect(rename.statusCode).toBe(403)
    const revoke = await app.inject({ method: 'DELETE', url: `${url}${powerful}`, headers: manager })
    expect(revoke.statusCode).toBe(403)
    expect(revoke.json()).toEqual({ error: 'NotPermitted', detail: 'A token cannot revoke a token with scopes it does not have: orders:read.' })

    // Unchanged, still live.
    const listed = (await app.inject({ method: 'GET', url, headers: org.headers })).json().items
    expect(listed.find((t: { id: string }) => t.id === powerful)).toMatchObject({ comment: 'target', scopes: ['orders:read', 'products:read'] })
  })

  it('cannot widen a token it may manage', async () => {
    const { manager, create } = await setup()
    const narrow = await create(['products:read'])
    const widen = await app.inject({ method: 'PATCH', url: `${url}${narrow}`, headers: manager, payload: { scopes: ['products:read', 'checkouts:write'] } })
    expect(widen.statusCode).toBe(403)
    expect(widen.json()).toEqual({ error: 'NotPermitted', detail: 'A token cannot grant scopes it does not have: checkouts:write.' })
  })

  it('updates and revokes tokens within its scopes (a :write covers the :read)', async () => {
    const { manager, create } = await setup()
    const narrow = await create(['products:read'])
    const res = await app.inject({ method: 'PATCH', url: `${url}${narrow}`, headers: manager, payload: { comment: 'renamed', scopes: ['products:write'] } })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ comment: 'renamed', scopes: ['products:write'] })
    expect((await app.inject({ method: 'DELETE', url: `${url}${narrow}`, headers: manager })).statusCode).toBe(204)
    // Gone now: a 404, not a 403.
    expect((await app.inject({ method: 'DELETE', url: `${url}${narrow}`, headers: manager })).statusCode).toBe(404)
  })

  it('an all-scopes token (and the dashboard) manages every token', async () => {
    const { org, create } = await setup()
    const any = await create(['orders:read', 'webhooks:write'])
    expect((await app.inject({ method: 'PATCH', url: `${url}${any}`, headers: org.headers, payload: { scopes: ['orders:read'] } })).statusCode).toBe(200)
    expect((await app.inject({ method: 'DELETE', url: `${url}${any}`, headers: org.headers })).statusCode).toBe(204)
  })

  it('another organization’s token is a 404 whatever its scopes', async () => {
    const { create } = await setup()
    const target = await create(['products:read'])
    const other = await createOrg(ctx)
    expect((await app.inject({ method: 'DELETE', url: `${url}${target}`, headers: other.headers })).statusCode).toBe(404)
  })
})
