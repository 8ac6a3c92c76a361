import { checkoutJobHandlers, EXPIRE_JOB, PRUNE_CHECKOUTS_JOB, RECONCILE_SWEEP_JOB } from './checkouts/jobs'
import type { Deps } from './deps'
import { startWorker, type JobLog, type WorkerOptions, type Worker } from './jobs/worker'
import { PRUNE_RATE_LIMITS_JOB, rateLimitJobHandlers } from './rate-limit/jobs'
import { renewalJobHandlers, SCHEDULE_RENEWALS_JOB } from './renewals/service'
import { DELIVER_JOB, PRUNE_WEBHOOKS_JOB, webhookJobHandlers, webhookRetry } from './webhooks/jobs'

export const PAYMENTS_LANE = 'payments'
export const DELIVERIES_LANE = 'deliveries'

/**
 * Kassa's background work: settlement, expiry and maintenance in one lane, webhook deliveries in another,
 * so a payment never waits behind deliveries ("payments first"). Deliveries run `WEBHOOK_CONCURRENCY` at
 * once per process and at most `WEBHOOK_ENDPOINT_CONCURRENCY` to one endpoint across every process, so a
 * slow endpoint holds two slots for its timeout, not the worker. Jobs live in the database: whatever a
 * crashed process had claimed is taken up again once its lock runs out.
 */
export function startBackgroundWork(deps: Deps, log: JobLog, overrides: Partial<WorkerOptions> = {}): Worker {
  const { config } = deps
  return startWorker(deps, { ...checkoutJobHandlers, ...webhookJobHandlers, ...rateLimitJobHandlers, ...renewalJobHandlers }, {
    log,
    retry: { byKind: webhookRetry(config) },
    lanes: [
      { name: PAYMENTS_LANE, concurrency: 10 },
      { name: DELIVERIES_LANE, kinds: [DELIVER_JOB], concurrency: config.webhookConcurrency, perKey: config.webhookEndpointConcurrency },
    ],
    periodic: [
      { kind: EXPIRE_JOB, everyMs: 60_000 },
      { kind: PRUNE_CHECKOUTS_JOB, everyMs: 3_600_000 },
      { kind: RECONCILE_SWEEP_JOB, everyMs: 600_000 },
      { kind: SCHEDULE_RENEWALS_JOB, everyMs: 60_000 },
      { kind: PRUNE_WEBHOOKS_JOB, everyMs: 3_600_000 },
      { kind: PRUNE_RATE_LIMITS_JOB, everyMs: 600_000 },
    ],
    ...overrides,
  })
}
