import type { FastifyInstance } from 'fastify'
import { buildApp } from './app'
import { describeCommand, runAdminCommand } from './cli/commands'
import { holdDataDir, type AdminSocket } from './cli/socket'
import { ConfigError, loadConfig } from './config'
import { migrate, openDatabase, type Database } from './db/index'
import { seedDemoData } from './demo'
import type { Deps } from './deps'
import { startBackgroundWork } from './background'
import type { Worker } from './jobs/worker'
import { systemClock } from './lib/clock'
import { assertSealedSecretsReadable, SealedSecretsUnreadable } from './payment-settings/service'

async function main() {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(78)
    }
    throw err
  }

  let app: FastifyInstance | undefined
  let database: Database | undefined
  let adminSocket: AdminSocket | undefined
  let worker: Worker | undefined

  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    app?.log.info({ signal }, 'shutting down: finishing in-flight requests')
    const force = setTimeout(() => {
      app?.log.error('shutdown took too long, exiting')
      process.exit(1)
    }, 15_000)
    force.unref()
    try {
      await adminSocket?.drain()
      await app?.close()
      await worker?.stop()
      await database?.close()
      // Last: the socket is the embedded database's lock, so it goes only once the files are closed.
      await adminSocket?.release()
    } finally {
      process.exit(0)
    }
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))

  // Embedded: claim the data directory before opening its files. The admin CLI then sends its commands
  // here instead of opening the files itself; commands that arrive during start-up wait until the
  // database is ready.
  let ready!: (deps: Pick<Deps, 'db' | 'clock'>) => void
  const opened = new Promise<Pick<Deps, 'db' | 'clock'>>((r) => (ready = r))
  if (!config.databaseUrl) {
    adminSocket = await holdDataDir({
      dataDir: config.dataDir,
      handler: async (command) => {
        const result = await runAdminCommand(await opened, command)
        app?.log.info({ admin: describeCommand(command) }, 'admin command run')
        return result
      },
      onError: (err, command) => app?.log.error({ err, admin: describeCommand(command) }, 'admin command failed'),
    }).catch((err: Error) => {
      process.stderr.write(`Cannot use the embedded database in ${config.dataDir}: ${err.message}\n`)
      process.exit(1)
    })
  }

  database = await openDatabase(config, {
    onError: (err) => (app ? app.log.warn({ err }, 'an idle database connection failed; it will be replaced') : undefined),
  }).catch((err: Error) => {
    process.stderr.write(`Cannot open the database (${config.databaseUrl ? 'DATABASE_URL' : `embedded, in ${config.dataDir}`}): ${err.message}\n`)
    process.exit(1)
  })
  app = await buildApp({ config, database })
  const log = app.log
  if (config.webhooksAllowInsecure) {
    log.warn('WEBHOOKS_ALLOW_INSECURE is on: webhooks may be sent over http and to loopback and private addresses (never link-local or cloud metadata). Turn it off in production.')
  }
  const applied = await migrate(database)
  if (applied.length) log.info({ migrations: applied }, 'database migrated')
  await assertSealedSecretsReadable({ db: database.db, config }).catch((err) => {
    if (!(err instanceof SealedSecretsUnreadable)) throw err
    process.stderr.write(`Kassa cannot start: ${err.message}\n`)
    process.exit(78)
  })

  if (config.demoData) {
    // The demo is a convenience: a failure is logged, and Kassa starts anyway.
    await seedDemoData({ db: database.db, config, log }).catch((err) => log.error({ err }, 'demo data could not be created'))
  }
  ready({ db: database.db, clock: systemClock })

  // Background work (settlement, expiry, retention, webhook delivery) resumes here after any crash: jobs live in the database.
  worker = startBackgroundWork(app.deps, log)
  app.deps.wakeWorker = () => worker?.wake()

  await app.listen({ port: config.port, host: config.host })
  log.info(
    { database: database.kind === 'pglite' ? `embedded (${config.dataDir})` : 'postgresql', public_url: config.publicUrl },
    `Kassa is listening on ${config.publicUrl} (API docs at ${config.publicUrl}/docs)`,
  )
}

main().catch((err) => {
  process.stderr.write(`Kassa failed to start: ${err?.stack ?? err}\n`)
  process.exit(1)
})
