import { sql, type Expression, type SqlBool } from 'kysely'
import type { Executor } from '../db/index'
import { likePattern } from '../db/helpers'
import type { NewRow, Row, RowUpdate, WebhookDeliveryStatus } from '../db/types'
import type { Page } from '../http/schemas'

export type EndpointRow = Row<'webhook_endpoints'>

/** Endpoints of the organization that are not deleted: the one place tenancy and soft delete apply. */
const liveEndpoints = (db: Executor, organizationId: string) =>
  db.selectFrom('webhook_endpoints').where('organization_id', '=', organizationId).where('deleted_at', 'is', null)

export async function insertEndpoint(db: Executor, row: NewRow<'webhook_endpoints'>): Promise<EndpointRow> {
  return db.insertInto('webhook_endpoints').values(row).returningAll().executeTakeFirstOrThrow()
}

export async function findEndpoint(db: Executor, organizationId: string, id: string): Promise<EndpointRow | undefined> {
  return liveEndpoints(db, organizationId).selectAll().where('id', '=', id).executeTakeFirst()
}

export async function listEndpoints(db: Executor, organizationId: string, page: Page): Promise<{ rows: EndpointRow[]; total: number }> {
  const q = liveEndpoints(db, organizationId)
  const [count, rows] = await Promise.all([
    q.select(sql<number>`count(*)::int`.as('total')).executeTakeFirstOrThrow(),
    q.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(page.limit).offset((page.page - 1) * page.limit).execute(),
  ])
  return { rows, total: Number(count.total) }
}

export async function updateEndpoint(db: Executor, organizationId: string, id: string, patch: RowUpdate<'webhook_endpoints'>): Promise<EndpointRow | undefined> {
  return db
    .updateTable('webhook_endpoints')
    .set(patch)
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst()
}

/** An SQL condition: the organization has an enabled endpoint subscribed to `type`. */
export const subscribedCondition = (organizationId: Expression<string> | string, type: string) => sql<SqlBool>`exists (
  select 1 from webhook_endpoints we
  where we.organization_id = ${organizationId} and we.enabled and we.deleted_at is null and ${type}::text = any(we.events)
)`

export async function hasSubscribers(db: Executor, organizationId: string, type: string): Promise<boolean> {
  const row = await sql<{ subscribed: boolean }>`select ${subscribedCondition(organizationId, type)} as subscribed`.execute(db)
  return row.rows[0]?.subscribed === true
}

export const DELIVER_JOB = 'webhooks.deliver'
/** The concurrency key of an endpoint's deliveries: the worker runs only a few of them at once. */
export const endpointConcurrencyKey = (endpointId: string) => `webhook-endpoint:${endpointId}`

/**
 * The outbox write, in one statement: the event, a delivery per enabled endpoint subscribed to its type,
 * and a delivery job for each (the job's dedupe key names the delivery). Writes nothing when no endpoint
 * listens, but costs several round trips' worth to plan, so callers check `hasSubscribers` first.
 */
export async function insertEventWithDeliveries(
  db: Executor,
  event: { id: string; organizationId: string; type: string; payload: string; now: Date },
): Promise<void> {
  const { id, organizationId, type, payload, now } = event
  await sql`
    with targets as (
      select we.id, we.api_version from webhook_endpoints we
      where we.organization_id = ${organizationId}::uuid and we.enabled and we.deleted_at is null and ${type}::text = any(we.events)
    ), event as (
      insert into webhook_events (id, organization_id, type, payload, created_at)
      select ${id}::uuid, ${organizationId}::uuid, ${type}::text, ${payload}::text, ${now}::timestamptz
      where exists (select 1 from targets)
      returning id
    ), delivery as (
      insert into webhook_deliveries (id, event_id, endpoint_id, organization_id, api_version, created_at)
      select kassa_uuid_v7(${now}::timestamptz), event.id, targets.id, ${organizationId}::uuid, targets.api_version, ${now}::timestamptz
      from event cross join targets
      returning id, endpoint_id
    )
    insert into jobs (id, kind, payload, dedupe_key, concurrency_key, run_at, created_at)
    select kassa_uuid_v7(${now}::timestamptz), ${DELIVER_JOB}::text, jsonb_build_object('delivery_id', delivery.id),
      ${`${DELIVER_JOB}:`}::text || delivery.id, ${endpointConcurrencyKey('')}::text || delivery.endpoint_id,
      ${now}::timestamptz, ${now}::timestamptz
    from delivery
  `.execute(db)
}

export interface DeliveryTarget {
  id: string
  status: WebhookDeliveryStatus
  attempts: number
  payload: string
  api_version: string
  endpoint_id: string
  url: string
  secret: string
  enabled: boolean
  deleted: boolean
}

/** A delivery with what sending it needs: the event's body and the endpoint's URL and secret. */
export async function findDeliveryTarget(db: Executor, deliveryId: string): Promise<DeliveryTarget | undefined> {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_events as ev', 'ev.id', 'd.event_id')
    .innerJoin('webhook_endpoints as we', 'we.id', 'd.endpoint_id')
    .select(['d.id', 'd.status', 'd.attempts', 'ev.payload', 'd.api_version', 'd.endpoint_id', 'we.url', 'we.secret', 'we.enabled'])
    .select(sql<boolean>`we.deleted_at is not null`.as('deleted'))
    .where('d.id', '=', deliveryId)
    .executeTakeFirst()
}

export async function markSkipped(db: Executor, deliveryId: string, now: Date): Promise<void> {
  await db.updateTable('webhook_deliveries').set({ status: 'skipped', modified_at: now }).where('id', '=', deliveryId).where('status', '!=', 'succeeded').execute()
}

export interface AttemptRecord {
  id: string
  deliveryId: string
  succeeded: boolean
  httpCode: number | null
  durationMs: number
  response: string | null
  error: string | null
  now: Date
  /** This failure was the event's last attempt: it counts against the endpoint. */
  finalFailure: boolean
  /** Consecutive failed events that disable the endpoint. */
  disableAfter: number
}

/**
 * Logs one attempt and its consequences, in one statement: the attempt row (numbered from the
 * delivery's count), the delivery's status, and the endpoint's run of failed events (reset by a
 * success; a final failure adds one and disables the endpoint at `disableAfter`).
 */
export async function recordAttempt(db: Executor, a: AttemptRecord): Promise<void> {
  const status: WebhookDeliveryStatus = a.succeeded ? 'succeeded' : 'failed'
  await sql`
    with delivery as (
      update webhook_deliveries
      set attempts = attempts + 1, status = ${status}, last_http_code = ${a.httpCode}::integer, modified_at = ${a.now}::timestamptz
      where id = ${a.deliveryId}::uuid
      returning id, endpoint_id, attempts
    ), attempt as (
      insert into webhook_delivery_attempts (id, delivery_id, endpoint_id, attempt, succeeded, http_code, duration_ms, response, error, created_at)
      select ${a.id}::uuid, delivery.id, delivery.endpoint_id, delivery.attempts, ${a.succeeded}::boolean, ${a.httpCode}::integer,
        ${a.durationMs}::integer, ${a.response}::text, ${a.error}::text, ${a.now}::timestamptz
      from delivery
    )
    update webhook_endpoints we
    set consecutive_failures = case when ${a.succeeded}::boolean then 0 else we.consecutive_failures + 1 end,
        enabled = case when ${a.succeeded}::boolean then we.enabled else we.enabled and we.consecutive_failures + 1 < ${a.disableAfter}::integer end
    from delivery
    where we.id = delivery.endpoint_id
      and (${a.succeeded}::boolean and we.consecutive_failures > 0 or ${a.finalFailure}::boolean)
  `.execute(db)
}

export interface DeliveryFilter {
  endpointIds?: string[]
  start?: Date
  end?: Date
  succeeded?: boolean
  query?: string
  httpCodeClass?: '2xx' | '3xx' | '4xx' | '5xx'
  eventTypes?: string[]
}

/** The attempts log of the organization's endpoints (deleted ones included), newest first. */
export async function listAttempts(db: Executor, organizationId: string, filter: DeliveryFilter, page: Page) {
  let q = db
    .selectFrom('webhook_delivery_attempts as a')
    .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
    .innerJoin('webhook_events as ev', 'ev.id', 'd.event_id')
    .where('d.organization_id', '=', organizationId)
  if (filter.endpointIds?.length) q = q.where('a.endpoint_id', 'in', filter.endpointIds)
  if (filter.start) q = q.where('a.created_at', '>=', filter.start)
  if (filter.end) q = q.where('a.created_at', '<', filter.end)
  if (filter.succeeded !== undefined) q = q.where('a.succeeded', '=', filter.succeeded)
  if (filter.query) q = q.where('ev.payload', 'ilike', likePattern(filter.query))
  if (filter.httpCodeClass) {
    const low = Number(filter.httpCodeClass[0]) * 100
    q = q.where('a.http_code', '>=', low).where('a.http_code', '<', low + 100)
  }
  if (filter.eventTypes?.length) q = q.where('ev.type', 'in', filter.eventTypes)
  const [count, rows] = await Promise.all([
    q.select(sql<number>`count(*)::int`.as('total')).executeTakeFirstOrThrow(),
    q
      .select([
        'a.id',
        'a.created_at',
        'a.succeeded',
        'a.http_code',
        'a.duration_ms',
        'a.response',
        'a.error',
        'a.attempt',
        'a.endpoint_id',
        'd.id as delivery_id',
        'd.created_at as delivery_created_at',
        'd.modified_at as delivery_modified_at',
        'd.status as delivery_status',
        'd.last_http_code',
        'd.api_version',
        'ev.type',
        'ev.payload',
      ])
      .orderBy('a.created_at', 'desc')
      .orderBy('a.id', 'desc')
      .limit(page.limit)
      .offset((page.page - 1) * page.limit)
      .execute(),
  ])
  return { rows, total: Number(count.total) }
}

export type AttemptListRow = Awaited<ReturnType<typeof listAttempts>>['rows'][number]

/** A delivery of the organization whose endpoint still exists, for redelivery. */
export async function findRedeliverable(db: Executor, organizationId: string, deliveryId: string): Promise<{ id: string; endpoint_id: string } | undefined> {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as we', 'we.id', 'd.endpoint_id')
    .select(['d.id', 'd.endpoint_id'])
    .where('d.id', '=', deliveryId)
    .where('d.organization_id', '=', organizationId)
    .where('we.deleted_at', 'is', null)
    .executeTakeFirst()
}

/**
 * Deletes up to `limit` events older than `before` whose deliveries are all finished, with their
 * deliveries and attempt logs, in one statement (the foreign keys are checked at its end).
 */
export async function pruneEvents(db: Executor, before: Date, limit: number): Promise<number> {
  const res = await sql<{ id: string }>`
    with old as (
      select e.id from webhook_events e
      where e.created_at < ${before}
        and not exists (select 1 from webhook_deliveries d where d.event_id = e.id and d.status = 'pending')
      order by e.created_at
      limit ${limit}
    ),
    attempts as (
      delete from webhook_delivery_attempts where delivery_id in (select d.id from webhook_deliveries d where d.event_id in (select id from old))
    ),
    deliveries as (
      delete from webhook_deliveries where event_id in (select id from old)
    )
    delete from webhook_events where id in (select id from old) returning id
  `.execute(db)
  return res.rows.length
}
