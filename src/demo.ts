import type { FastifyBaseLogger } from 'fastify'
import type { Config } from './config'
import type { Db } from './db/index'

// Placeholder: demo data lands with the admin CLI work.
export async function seedDemoData(_: { db: Db; config: Config; log: FastifyBaseLogger }): Promise<void> {}
