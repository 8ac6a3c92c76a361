import { createHash, randomBytes } from 'node:crypto'
import { v7 } from 'uuid'

/** Time-ordered UUIDs (v7): kind to b-tree indexes under heavy inserts. */
export const newId = (): string => v7()

/** `prefix` + 32 random bytes, base64url (43 chars, 256 bits). */
export const newSecret = (prefix: string): string => prefix + randomBytes(32).toString('base64url')

/** Tokens are high-entropy, so a fast hash is enough to store them safely. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex')

