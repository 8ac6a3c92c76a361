import type { Expression } from 'kysely'
import type { Executor } from '../db/index'
import type { Deps } from '../deps'
import { CURRENT_API_VERSION } from '../http/api-version'
import { ResourceNotFound, fieldError } from '../http/errors'
import { iso, isoOrNull, paginated, type Page } from '../http/schemas'
import { enqueue } from '../jobs/queue'
import { newId, newSecret } from '../lib/ids'
import { assertOwnOrganization, type AuthContext } from '../organizations/service'
import * as repo from './repository'
import type {
  WebhookDelivery,
  WebhookDeliveryListQuery,
  WebhookEndpoint,
  WebhookEndpointCreate,
  WebhookEndpointListQuery,
  WebhookEndpointUpdate,
  WebhookEventType,
} from './schemas'
import { assertEndpointUrl } from './url'

export type { WebhookEventType } from './schemas'

type D = Pick<Deps, 'db' | 'clock' | 'config'>

export const WEBHOOK_SECRET_PREFIX = 'polar_whs_'

// ---------------------------------------------------------------------------------------------------
// Emitting events: what other domains call, inside the transaction of their change.
// ---------------------------------------------------------------------------------------------------

export interface EmittedEvent {
  organizationId: string
  type: WebhookEventType
  /**
   * The payload's `data`: the object as the API returns it (a Checkout, an Order, …). It may be a
   * function, called only when some endpoint subscribes, for data that costs queries to build.
   */
  data: object | (() => object | Promise<object>)
  now: Date
}

/**
 * Writes an event to the outbox inside the caller's transaction (`tx`), with a delivery and a delivery
 * job for each enabled endpoint of the organization subscribed to `type`. It commits or rolls back with
 * the change that caused it, so no event is lost and none is sent for a change that never happened.
 * Delivery happens later, in the job worker (`webhooks.deliver`); nothing here waits on the network.
 *
 * Cost: when no endpoint listens (the common case on a hot path), one cheap indexed read and nothing
 * written. When one does: one more statement, which writes the event, its deliveries and their jobs
 * (and checks the endpoints again itself, so an endpoint disabled in between gets nothing).
 * Measured (bench/webhooks.ts) the check is about a bare round trip, where the writing statement alone,
 * even writing nothing, costs 3–5× that to plan and run.
 */
export async function emitEvent(tx: Executor, event: EmittedEvent): Promise<void> {
  if (!(await repo.hasSubscribers(tx, event.organizationId, event.type))) return
  const data = typeof event.data === 'function' ? await event.data() : event.data
  const payload = JSON.stringify({ type: event.type, timestamp: iso(event.now), data })
  await repo.insertEventWithDeliveries(tx, { id: newId(), organizationId: event.organizationId, type: event.type, payload, now: event.now })
}

/**
 * The body sent to one endpoint: the event's payload with the endpoint's `api_version` at the top level,
 * between `timestamp` and `data` as Polar orders them. The payload is written once per event (every
 * endpoint gets the same `data`: Kassa's shapes are the same in every version); only this differs.
 */
export function payloadFor(payload: string, apiVersion: string): string {
  return payload.replace(',"data":', `,"api_version":${JSON.stringify(apiVersion)},"data":`)
}

/** Whether some enabled endpoint of the organization subscribes to `type` (one indexed read). */
export const hasSubscribers = (db: Executor, organizationId: string, type: WebhookEventType): Promise<boolean> =>
  repo.hasSubscribers(db, organizationId, type)

/**
 * The same test as an SQL boolean, to fold into a query a hot path makes anyway (e.g. the link read of
 * a visit: `select …, ${webhookSubscribedSql(sql.ref('l.organization_id'), 'checkout.created')} as notify`),
 * so an organization without endpoints costs no round trip at all.
 */
export const webhookSubscribedSql = (organizationId: Expression<string> | string, type: WebhookEventType) =>
  repo.subscribedCondition(organizationId, type)

// ---------------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------------

/** Outside create and reset, only the prefix and the last four characters are shown. */
const maskSecret = (secret: string) => `${WEBHOOK_SECRET_PREFIX}********${secret.slice(-4)}`

function toEndpoint(row: repo.EndpointRow, opts: { revealSecret?: boolean } = {}): WebhookEndpoint {
  return {
    id: row.id,
    created_at: iso(row.created_at),
    modified_at: isoOrNull(row.modified_at),
    url: row.url,
    name: row.name,
    format: row.format,
    secret: opts.revealSecret ? row.secret : maskSecret(row.secret),
    organization_id: row.organization_id,
    events: row.events as WebhookEndpoint['events'],
    enabled: row.enabled,
    api_version: row.api_version,
    // Kassa's signature is Polar's original one (see send.ts): HMAC keyed with the secret's UTF-8 bytes.
    uses_standard_webhook_signature: false,
  }
}

function assertRawFormat(format: string | null | undefined): void {
  if (format != null && format !== 'raw') {
    throw fieldError(['body', 'format'], "Only the 'raw' format is supported: Kassa does not format Discord or Slack messages.", format, 'literal_error')
  }
}

export async function createEndpoint(deps: D, auth: AuthContext, input: WebhookEndpointCreate, requestVersion: string = CURRENT_API_VERSION): Promise<WebhookEndpoint> {
  assertOwnOrganization(auth, input.organization_id)
  assertRawFormat(input.format)
  const url = await assertEndpointUrl(input.url, deps.config.webhooksAllowInsecure)
  const row = await repo.insertEndpoint(deps.db, {
    id: newId(),
    organization_id: auth.organizationId,
    url,
    name: input.name || null,
    secret: newSecret(WEBHOOK_SECRET_PREFIX),
    events: input.events,
    api_version: input.api_version ?? requestVersion,
    created_at: deps.clock.now(),
  })
  return toEndpoint(row, { revealSecret: true })
}

export async function getEndpointOrThrow(deps: Pick<Deps, 'db'>, auth: AuthContext, id: string): Promise<WebhookEndpoint> {
  const row = await repo.findEndpoint(deps.db, auth.organizationId, id)
  if (!row) throw new ResourceNotFound()
  return toEndpoint(row)
}

export async function listEndpoints(deps: Pick<Deps, 'db'>, auth: AuthContext, query: WebhookEndpointListQuery) {
  const page: Page = { page: query.page, limit: query.limit }
  if (query.organization_id && !query.organization_id.includes(auth.organizationId)) return paginated([], 0, page)
  const { rows, total } = await repo.listEndpoints(deps.db, auth.organizationId, page)
  return paginated(rows.map((r) => toEndpoint(r)), total, page)
}

export async function updateEndpoint(deps: D, auth: AuthContext, id: string, input: WebhookEndpointUpdate): Promise<WebhookEndpoint> {
  assertRawFormat(input.format)
  const existing = await repo.findEndpoint(deps.db, auth.organizationId, id)
  if (!existing) throw new ResourceNotFound()
  const url = input.url != null ? await assertEndpointUrl(input.url, deps.config.webhooksAllowInsecure) : undefined
  const row = await repo.updateEndpoint(deps.db, auth.organizationId, id, {
    ...(url !== undefined ? { url } : {}),
    ...(input.name !== undefined ? { name: input.name || null } : {}),
    ...(input.events != null ? { events: input.events } : {}),
    ...(input.api_version != null ? { api_version: input.api_version } : {}),
    // Enabling again starts a fresh count of failed events.
    ...(input.enabled != null ? { enabled: input.enabled, ...(input.enabled ? { consecutive_failures: 0 } : {}) } : {}),
    modified_at: deps.clock.now(),
  })
  if (!row) throw new ResourceNotFound()
  return toEndpoint(row)
}

export async function resetEndpointSecret(deps: D, auth: AuthContext, id: string): Promise<WebhookEndpoint> {
  const row = await repo.updateEndpoint(deps.db, auth.organizationId, id, { secret: newSecret(WEBHOOK_SECRET_PREFIX), modified_at: deps.clock.now() })
  if (!row) throw new ResourceNotFound()
  return toEndpoint(row, { revealSecret: true })
}

/** Soft delete: the endpoint gets nothing more (pending deliveries are skipped); its log stays readable. */
export async function deleteEndpoint(deps: D, auth: AuthContext, id: string): Promise<void> {
  const now = deps.clock.now()
  const row = await repo.updateEndpoint(deps.db, auth.organizationId, id, { deleted_at: now, enabled: false, modified_at: now })
  if (!row) throw new ResourceNotFound()
}

// ---------------------------------------------------------------------------------------------------
// Delivery log and redelivery
// ---------------------------------------------------------------------------------------------------

function toDelivery(row: repo.AttemptListRow): WebhookDelivery {
  return {
    id: row.id,
    created_at: iso(row.created_at),
    modified_at: null,
    succeeded: row.succeeded,
    http_code: row.http_code,
    response: row.response ?? row.error,
    attempt: row.attempt,
    duration_ms: row.duration_ms,
    webhook_endpoint_id: row.endpoint_id,
    webhook_event: {
      id: row.delivery_id,
      created_at: iso(row.delivery_created_at),
      modified_at: isoOrNull(row.delivery_modified_at),
      last_http_code: row.last_http_code,
      succeeded: row.delivery_status === 'succeeded' ? true : row.delivery_status === 'failed' ? false : null,
      skipped: row.delivery_status === 'skipped',
      api_version: row.api_version,
      payload: payloadFor(row.payload, row.api_version),
      type: row.type as WebhookEventType,
      is_archived: false,
      webhook_endpoint_id: row.endpoint_id,
    },
  }
}

export async function listDeliveries(deps: Pick<Deps, 'db'>, auth: AuthContext, query: WebhookDeliveryListQuery) {
  const page: Page = { page: query.page, limit: query.limit }
  const { rows, total } = await repo.listAttempts(
    deps.db,
    auth.organizationId,
    {
      endpointIds: query.endpoint_id,
      start: query.start_timestamp ? new Date(query.start_timestamp) : undefined,
      end: query.end_timestamp ? new Date(query.end_timestamp) : undefined,
      succeeded: query.succeeded,
      query: query.query,
      httpCodeClass: query.http_code_class,
      eventTypes: query.event_type,
    },
    page,
  )
  return paginated(rows.map(toDelivery), total, page)
}

/**
 * Sends an event to its endpoint again, with the same `webhook-id` and body (a fresh signature and
 * timestamp), with the usual retries. An event for a disabled endpoint is skipped until it is enabled.
 */
export async function redeliverEvent(deps: D & Pick<Deps, 'wakeWorker'>, auth: AuthContext, deliveryId: string): Promise<void> {
  await deps.db.transaction().execute(async (tx) => {
    const delivery = await repo.findRedeliverable(tx, auth.organizationId, deliveryId)
    if (!delivery) throw new ResourceNotFound()
    const now = deps.clock.now()
    await enqueue(
      tx,
      {
        kind: repo.DELIVER_JOB,
        payload: { delivery_id: deliveryId, redelivery: true },
        dedupeKey: `${repo.DELIVER_JOB}:${deliveryId}:${newId()}`,
        concurrencyKey: repo.endpointConcurrencyKey(delivery.endpoint_id),
      },
      now,
    )
  })
  deps.wakeWorker?.()
}
