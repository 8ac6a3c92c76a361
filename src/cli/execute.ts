import { setTimeout as sleep } from 'node:timers/promises'
import type { Config } from '../config'
import { migrate, openDatabase } from '../db/index'
import type { Deps } from '../deps'
import { systemClock } from '../lib/clock'
import { runAdminCommand, type AdminCommand, type AdminResult } from './commands'
import { NoHolderError, acquireAdminSocket, adminSocketPath, sendAdminRequest } from './socket'

/** The command failed where it ran; `message` is for the operator. */
export class AdminCommandError extends Error {
  override name = 'AdminCommandError'
}

/**
 * Runs one admin command wherever the database is:
 * - PostgreSQL: connect, migrate (safe beside running servers), run, close.
 * - Embedded, held by a server or another CLI: send the command over the admin socket.
 * - Embedded, free: hold the socket (the lock), open the files, migrate, run, close, release; meanwhile
 *   answer any other CLI that asks.
 */
export async function executeAdminCommand(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  command: AdminCommand,
  opts: { timeoutMs?: number; onWait?: (message: string) => void } = {},
): Promise<AdminResult> {
  if (config.databaseUrl) {
    const database = await openDatabase(config)
    try {
      await migrate(database).catch((err: Error) => {
        throw new AdminCommandError(`cannot use the PostgreSQL database at DATABASE_URL: ${err.message}`)
      })
      return await runAdminCommand({ db: database.db, clock: systemClock }, command)
    } finally {
      await database.close()
    }
  }

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000)
  let waited = false
  for (;;) {
    let ready!: (deps: Pick<Deps, 'db' | 'clock'>) => void
    let notReady!: (err: unknown) => void
    const opened = new Promise<Pick<Deps, 'db' | 'clock'>>((res, rej) => ((ready = res), (notReady = rej)))
    opened.catch(() => {})
    const acquired = await acquireAdminSocket({
      dataDir: config.dataDir,
      holder: 'cli',
      handler: async (cmd) => runAdminCommand(await opened, cmd),
    })

    if (acquired.acquired) {
      const { socket } = acquired
      let database: Awaited<ReturnType<typeof openDatabase>> | undefined
      try {
        database = await openDatabase(config).catch((err: Error) => {
          throw new AdminCommandError(`cannot open the embedded database in ${config.dataDir}: ${err.message}`)
        })
        await migrate(database)
        const deps = { db: database.db, clock: systemClock }
        ready(deps)
        return await runAdminCommand(deps, command)
      } finally {
        notReady(new Error('the database could not be opened'))
        await socket.drain()
        await database?.close()
        await socket.release()
      }
    }

    try {
      const response = await sendAdminRequest(adminSocketPath(config.dataDir), { type: 'command', command })
      if (response.ok && 'result' in response) return response.result
      if (!response.ok && response.error.kind !== 'unavailable') throw new AdminCommandError(response.error.message)
    } catch (err) {
      if (!(err instanceof NoHolderError)) throw err
    }
    // The holder is shutting down (or just went away): try again, binding the socket ourselves if it is free.
    if (Date.now() > deadline) throw new AdminCommandError(`timed out waiting for the embedded database in ${config.dataDir}`)
    if (!waited) opts.onWait?.(`waiting for the process holding ${config.dataDir} to finish…`)
    waited = true
    await sleep(200)
  }
}
