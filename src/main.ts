import { buildApp } from './app'
import { ConfigError, loadConfig } from './config'
import { migrate, openDatabase } from './db/index'
import { seedDemoData } from './demo'

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

  const database = await openDatabase(config).catch((err: Error) => {
    process.stderr.write(`Cannot open the database (${config.databaseUrl ? 'DATABASE_URL' : `embedded, in ${config.dataDir}`}): ${err.message}\n`)
    process.exit(1)
  })
  const app = await buildApp({ config, database })
  const log = app.log
  const applied = await migrate(database)
  if (applied.length) log.info({ migrations: applied }, 'database migrated')

  if (config.demoData) await seedDemoData({ db: database.db, config, log })

  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    log.info({ signal }, 'shutting down: finishing in-flight requests')
    const force = setTimeout(() => {
      log.error('shutdown took too long, exiting')
      process.exit(1)
    }, 15_000)
    force.unref()
    try {
      await app.close()
      await database.close()
    } finally {
      process.exit(0)
    }
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))

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
