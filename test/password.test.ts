import { randomBytes, scryptSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hashPassword, needsRehash, SCRYPT, verifyPassword } from '../src/lib/password'
import { createUser } from '../src/organizations/service'
import { createOrg, createTestApp } from './helpers'

/** A hash as Kassa made it before OWASP's current parameters (N=2^15). */
function legacyHash(password: string, N = 2 ** 15): string {
  const salt = randomBytes(16)
  const key = scryptSync(password.normalize('NFKC'), salt, 32, { N, r: 8, p: 1, maxmem: 64 * 1024 * 1024 })
  return ['scrypt', N, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$')
}

describe('password hashes', () => {
  it('uses OWASP’s scrypt parameters (N=2^17, r=8, p=1), stored in the hash', async () => {
    expect(SCRYPT).toEqual({ N: 131072, r: 8, p: 1 })
    const hash = await hashPassword('correct horse')
    expect(hash).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
    expect(await verifyPassword('correct horse', hash)).toBe(true)
    expect(await verifyPassword('correct horsE', hash)).toBe(false)
    expect(needsRehash(hash)).toBe(false)
  })

  it('still verifies a hash made with older parameters, and says it needs a rehash', async () => {
    const old = legacyHash('hunter2')
    expect(await verifyPassword('hunter2', old)).toBe(true)
    expect(needsRehash(old)).toBe(true)
  })

  it.each([
    ['not a hash'],
    ['bcrypt$10$8$1$AAAA$BBBB'],
    [`scrypt$${2 ** 30}$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA`],
    ['scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA'],
    ['scrypt$131072$8$1$AAAA$BBBB$extra'],
  ])('refuses a malformed or oversized stored hash %j without deriving it', async (stored) => {
    expect(await verifyPassword('x', stored)).toBe(false)
    expect(needsRehash(stored)).toBe(true)
  })
})

describe('rehash at login', async () => {
  const ctx = await createTestApp()
  // A /64 of this run's own: rate-limit rows outlive a run on PostgreSQL.
  const net = `fd00:${randomBytes(6).toString('hex').match(/.{4}/g)!.join(':')}`
  const login = (email: string, password: string) =>
    ctx.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password }, remoteAddress: `${net}::1` })
  const storedHash = async (id: string) => (await ctx.deps.db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash

  it('upgrades a weaker hash on a successful login, transparently', async () => {
    const org = await createOrg(ctx)
    const email = `rehash-${process.pid}-${Date.now()}@example.com`
    const user = await createUser(ctx.deps, { email, password: 'old-params pass', organizationId: org.organizationId })
    const old = legacyHash('old-params pass')
    await ctx.deps.db.updateTable('users').set({ password_hash: old }).where('id', '=', user.id).execute()

    // A wrong password changes nothing.
    expect((await login(email, 'wrong')).statusCode).toBe(401)
    expect(await storedHash(user.id)).toBe(old)

    expect((await login(email, 'old-params pass')).statusCode).toBe(200)
    const upgraded = await storedHash(user.id)
    expect(upgraded).toMatch(/^scrypt\$131072\$8\$1\$/)
    expect(await verifyPassword('old-params pass', upgraded)).toBe(true)
    // And the next login is with the new hash, unchanged by it.
    expect((await login(email, 'old-params pass')).statusCode).toBe(200)
    expect(await storedHash(user.id)).toBe(upgraded)
  })
})
