import type { Config } from '../config'
import type { Deps } from '../deps'
import type { JobContext, JobHandlers, RetryOptions } from '../jobs/worker'
import { newId } from '../lib/ids'
import * as repo from './repository'
import { postWebhook, signatureHeaders, type SendResult } from './send'
import { payloadFor } from './service'

export const DELIVER_JOB = repo.DELIVER_JOB
export const WEBHOOK_JOB_KINDS = [DELIVER_JOB]
/** Events whose every attempt failed, in a row, after which an endpoint is disabled. */
export const DISABLE_AFTER_FAILED_EVENTS = 10

export class WebhookDeliveryFailed extends Error {
  override name = 'WebhookDeliveryFailed'
  constructor(result: SendResult) {
    super(result.status !== null ? `endpoint answered HTTP ${result.status}` : (result.error ?? 'endpoint unreachable'))
  }
}

/**
 * One attempt at delivering an event to one endpoint. The POST happens outside any transaction; its
 * outcome is then logged in one statement. A failure throws, so the job retries with backoff (10 attempts,
 * the jobs table's default); the `webhook-id` (the delivery's id) stays the same across them.
 *
 * Idempotent as the worker requires: a delivery already succeeded is not sent again by a retried job
 * (only an explicit redelivery sends it again); a receiver that got a duplicate can tell by `webhook-id`.
 */
export async function deliverWebhook(deps: Deps, payload: { delivery_id: string; redelivery?: boolean }, job: JobContext): Promise<void> {
  const target = await repo.findDeliveryTarget(deps.db, payload.delivery_id)
  if (!target) return
  if (target.status === 'succeeded' && !payload.redelivery) return
  if (target.deleted || !target.enabled) {
    await repo.markSkipped(deps.db, target.id, deps.clock.now())
    return
  }

  const body = payloadFor(target.payload, target.api_version)
  const headers = signatureHeaders(target.secret, target.id, deps.clock.now(), body)
  const result = await postWebhook(target.url, body, headers, { allowInsecure: deps.config.webhooksAllowInsecure, signal: job.signal })

  await repo.recordAttempt(deps.db, {
    id: newId(),
    deliveryId: target.id,
    succeeded: result.ok,
    httpCode: result.status,
    durationMs: result.durationMs,
    response: result.body,
    error: result.error,
    now: deps.clock.now(),
    finalFailure: !result.ok && job.attempts >= job.maxAttempts,
    disableAfter: DISABLE_AFTER_FAILED_EVENTS,
  })
  if (!result.ok) throw new WebhookDeliveryFailed(result)
}

/** How long delivered events and their logs are kept (as long as Stripe keeps events). */
export const WEBHOOK_RETENTION_MS = 30 * 86_400_000
export const PRUNE_WEBHOOKS_JOB = 'webhooks.prune'

/** Deletes finished events older than the retention, in batches, so the outbox does not grow forever. */
export async function pruneWebhookEvents(deps: Pick<Deps, 'db' | 'clock'>, retentionMs = WEBHOOK_RETENTION_MS): Promise<number> {
  const before = new Date(deps.clock.now().getTime() - retentionMs)
  let total = 0
  for (;;) {
    const n = await repo.pruneEvents(deps.db, before, 1000)
    total += n
    if (n < 1000) return total
  }
}

export const webhookJobHandlers: JobHandlers = {
  [DELIVER_JOB]: deliverWebhook,
  [PRUNE_WEBHOOKS_JOB]: async (deps) => {
    await pruneWebhookEvents(deps)
  },
}

/** The retry schedule of deliveries: the first retry after `WEBHOOK_RETRY_BASE_MS`, then doubling with jitter. */
export const webhookRetry = (config: Pick<Config, 'webhookRetryBaseMs'>): NonNullable<RetryOptions['byKind']> => ({
  [DELIVER_JOB]: { baseMs: config.webhookRetryBaseMs },
})
