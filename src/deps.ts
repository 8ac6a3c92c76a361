import type { Config } from './config'
import type { Db } from './db/index'
import type { Clock } from './lib/clock'
import type { PaymentProcessor } from './payments/processor'

/** What services need from the outside world; built once at start, replaced in tests. */
export interface Deps {
  db: Db
  clock: Clock
  config: Config
  /** The payment processor; the sandbox unless configured otherwise. */
  payments?: PaymentProcessor
  /** Asks the job worker (when this process runs one) to poll now, e.g. after a confirm. */
  wakeWorker?: () => void
}
