import type { Config } from './config'
import type { Db } from './db/index'
import type { Clock } from './lib/clock'

/** What services need from the outside world; built once at start, replaced in tests. */
export interface Deps {
  db: Db
  clock: Clock
  config: Config
}
