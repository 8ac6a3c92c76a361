import { chmodSync, mkdirSync, statSync } from 'node:fs'

/**
 * `DATA_DIR` holds the embedded database and the admin socket (which runs admin commands for whoever can
 * connect): only its owner may enter it. Created 0700; an existing directory that we own and that others
 * could enter is tightened to 0700.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const st = statSync(dir)
  const mine = typeof process.getuid !== 'function' || st.uid === process.getuid()
  if (mine && (st.mode & 0o077) !== 0) chmodSync(dir, 0o700)
}
