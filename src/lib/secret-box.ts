import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/**
 * Secrets at rest (Stripe secret keys, webhook signing secrets): AES-256-GCM under the install's
 * ENCRYPTION_KEY, sealed as `v1.<iv>.<tag>.<ciphertext>` (base64url), so a copy of the database alone opens
 * nothing and a tampered value fails to open rather than decrypting to garbage. `aad` binds a sealed value to
 * its owner (the organization id), so one organization's sealed key copied onto another's row does not open.
 */
export class SecretBoxError extends Error {
  override name = 'SecretBoxError'
}

/** ENCRYPTION_KEY: 32 bytes as 64 hex characters or base64 (44 characters with padding, or base64url). */
export function parseEncryptionKey(value: string): Buffer {
  const v = value.trim()
  const key = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, /[-_]/.test(v) ? 'base64url' : 'base64')
  if (key.length !== 32) throw new SecretBoxError('ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64 (generate one with `openssl rand -base64 32`)')
  return key
}

export function sealSecret(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(aad))
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.')
}

export function openSecret(key: Buffer, sealed: string, aad: string): string {
  const [version, iv, tag, ct, extra] = sealed.split('.')
  if (version !== 'v1' || !iv || !tag || ct === undefined || extra !== undefined) throw new SecretBoxError('not a sealed secret')
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
    decipher.setAAD(Buffer.from(aad))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8')
  } catch {
    throw new SecretBoxError('the sealed secret does not open with this ENCRYPTION_KEY (changed key, or a tampered value)')
  }
}
