/**
 * CPU profile of a bench server from READY to SIGTERM (start-up excluded), when BENCH_PROFILE_FILE is
 * set. Read it with `tsx bench/profile-summary.ts <file>` or Chrome DevTools.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'

const file = process.env.BENCH_PROFILE_FILE
let session: Session | undefined

const post = (method: string, params?: object) =>
  new Promise<any>((resolve, reject) => session!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))))

export async function startProfiler(): Promise<void> {
  if (!file) return
  session = new Session()
  session.connect()
  await post('Profiler.enable')
  await post('Profiler.setSamplingInterval', { interval: 200 })
  await post('Profiler.start')
}

export async function stopProfiler(): Promise<void> {
  if (!file || !session) return
  const { profile } = await post('Profiler.stop')
  writeFileSync(file, JSON.stringify(profile))
  session.disconnect()
}
