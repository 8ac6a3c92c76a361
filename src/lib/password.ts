import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/**
 * scrypt at OWASP's current recommendation (Password Storage Cheat Sheet: N=2^17, r=8, p=1): 128 MiB and
 * about 0.3 s per hash on one core of our 2-core machine. The parameters travel in the hash string, so a hash
 * made with older ones still verifies and is upgraded at the next login (`needsRehash`).
 */
export const SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const
const KEYLEN = 32
// scrypt needs 128·N·r bytes (plus a little): allow twice that, for the current and any older parameters.
const maxmemFor = (n: number, rr: number) => 2 * 128 * n * rr

// A stored hash is ours, but a corrupted or hand-edited row must not make a login allocate gigabytes.
const MAX_N = 2 ** 20
const MAX_R = 32
const MAX_P = 16

function derive(password: string, salt: Buffer, n: number, rr: number, pp: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEYLEN, { N: n, r: rr, p: pp, maxmem: maxmemFor(n, rr) }, (err, key) => (err ? reject(err) : resolve(key))),
  )
}

/** `scrypt$N$r$p$salt$hash`, base64url parts. */
export async function hashPassword(password: string): Promise<string> {
  const { N, r, p } = SCRYPT
  const salt = randomBytes(16)
  const key = await derive(password, salt, N, r, p)
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

function parse(stored: string) {
  const [alg, n, rr, pp, salt, hash, extra] = stored.split('$')
  if (alg !== 'scrypt' || !salt || !hash || extra !== undefined) return undefined
  const [N, r, p] = [Number(n), Number(rr), Number(pp)]
  const power = Number.isInteger(N) && N > 1 && (N & (N - 1)) === 0
  if (!power || N > MAX_N || !Number.isInteger(r) || r < 1 || r > MAX_R || !Number.isInteger(p) || p < 1 || p > MAX_P) return undefined
  return { N, r, p, salt: Buffer.from(salt, 'base64url'), hash: Buffer.from(hash, 'base64url') }
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parse(stored)
  if (!h) return false
  const key = await derive(password, h.salt, h.N, h.r, h.p)
  return key.length === h.hash.length && timingSafeEqual(key, h.hash)
}

/** True when `stored` was made with weaker parameters than today's: hash the password again after a login. */
export function needsRehash(stored: string): boolean {
  const h = parse(stored)
  if (!h) return true
  return h.N < SCRYPT.N || h.r < SCRYPT.r || h.p < SCRYPT.p || h.hash.length < KEYLEN
}
