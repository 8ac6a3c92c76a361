import type { Executor } from '../db/index'
import type { Deps } from '../deps'
import { AlreadyCanceledSubscription, BadRequest, ResourceNotFound, ResourceUnavailable, fieldError, missingField } from '../http/errors'
import type { AuthContext } from '../organizations/service'
import { emitEvent, type WebhookEventType } from '../webhooks/service'
import { customerState } from './customer-state'
import * as repo from './repository'
import { UNSUPPORTED_UPDATE_KEYS, type CustomerCancellationReason, type Subscription, type SubscriptionUpdate } from './schemas'
import { getSubscriptionOrThrow, hydrate } from './service'

/**
 * Cancellation, as Polar's subscription service does it (`_perform_cancellation`, `uncancel`, and `cycle`
 * for a subscription whose cancellation is due). Each change locks the subscription's row in its own
 * transaction, so concurrent requests apply one after the other and the second sees the first's result
 * (a second cancel is refused, not applied twice).
 */

type D = Pick<Deps, 'db' | 'clock'>

export interface Cancellation {
  reason?: CustomerCancellationReason | null
  comment?: string | null
}

/** Polar's `Subscription.can_cancel(immediately)`: billable (trialing, active, past due), not ended, and for a cancel at period end not already set to end. */
function canCancel(row: repo.SubscriptionRow, immediately: boolean): boolean {
  if (!repo.isBillableStatus(row.status) || row.ended_at) return false
  return immediately || !(row.cancel_at_period_end || row.ends_at)
}

/** PATCH /v1/subscriptions/{id}: picks the variant of Polar's `SubscriptionUpdate` union the body is. */
export async function updateSubscription(deps: D, auth: AuthContext, id: string, input: SubscriptionUpdate): Promise<Subscription> {
  const unsupported = UNSUPPORTED_UPDATE_KEYS.find((k) => input[k] !== undefined)
  if (unsupported) {
    throw fieldError(['body', unsupported], `Kassa does not support updating ${unsupported} yet: a subscription update can only cancel (cancel_at_period_end), uncancel or revoke.`, input[unsupported])
  }
  const cancellation = { reason: input.customer_cancellation_reason, comment: input.customer_cancellation_comment }
  if (input.revoke !== undefined && input.cancel_at_period_end !== undefined) {
    // Polar's union: no variant has both keys (each forbids extra keys).
    throw fieldError(['body', 'revoke'], 'Send either cancel_at_period_end or revoke, not both.', input.revoke, 'extra_forbidden')
  }
  if (input.revoke) return revokeSubscription(deps, auth, id, cancellation)
  if (input.cancel_at_period_end === true) return cancelSubscription(deps, auth, id, cancellation)
  // Polar's `SubscriptionCancel` accepts a reason and comment with `false` too, and ignores them: so does Kassa.
  if (input.cancel_at_period_end === false) return uncancelSubscription(deps, auth, id)
  if (input.customer_cancellation_reason !== undefined || input.customer_cancellation_comment !== undefined) throw missingField(['body', 'cancel_at_period_end'])
  // An empty update (Polar's `SubscriptionUpdateBase` with nothing set) changes nothing.
  return getSubscriptionOrThrow(deps, auth, id)
}

/** Cancel at period end: the subscription stays as it is (status unchanged) until its current period ends. */
export function cancelSubscription(deps: D, auth: AuthContext, id: string, cancellation: Cancellation = {}): Promise<Subscription> {
  return change(deps, auth, id, (row, now) => {
    if (!canCancel(row, false)) throw new AlreadyCanceledSubscription()
    return {
      cancel_at_period_end: true,
      canceled_at: now,
      ends_at: row.current_period_end,
      // Polar keeps an earlier reason when none is given.
      ...(cancellation.reason ? { customer_cancellation_reason: cancellation.reason } : {}),
      ...(cancellation.comment ? { customer_cancellation_comment: cancellation.comment } : {}),
    }
  })
}

/** Undoes a cancel at period end while the subscription has not ended (Polar: 410 once ended, 400 when there is nothing to undo). */
export function uncancelSubscription(deps: D, auth: AuthContext, id: string): Promise<Subscription> {
  return change(deps, auth, id, (row) => {
    // Polar's statuses and error names (410 `ResourceUnavailable`, 400 `BadRequest`), with a detail that says why.
    if (row.ended_at) throw new ResourceUnavailable('This subscription has ended: it can no longer be uncanceled.')
    if (!(row.cancel_at_period_end && repo.isBillableStatus(row.status))) throw new BadRequest('This subscription is not set to be canceled at the end of the period: there is nothing to uncancel.')
    return { cancel_at_period_end: false, canceled_at: null, ends_at: null, customer_cancellation_reason: null, customer_cancellation_comment: null }
  })
}

/** Revoke: cancel now. The subscription ends at once (`status: canceled`, `ended_at` and `ends_at` now). */
export function revokeSubscription(deps: D, auth: AuthContext, id: string, cancellation: Cancellation = {}): Promise<Subscription> {
  return change(deps, auth, id, (row, now) => {
    if (!canCancel(row, true)) throw new AlreadyCanceledSubscription()
    return {
      status: 'canceled',
      canceled_at: now,
      ends_at: now,
      ended_at: now,
      ...(cancellation.reason ? { customer_cancellation_reason: cancellation.reason } : {}),
      ...(cancellation.comment ? { customer_cancellation_comment: cancellation.comment } : {}),
    }
  })
}

/**
 * For the renewal job, inside its transaction: a subscription set to cancel at period end whose period has
 * ended is not renewed but ended, as Polar's `cycle` does when `cancel_at_period_end` is set: status
 * `canceled`, `ended_at` the period's end (when it really ended, however late the job runs; Polar writes the
 * time the job ran), and the events Polar's `_after_subscription_updated` sends for it. Idempotent: returns
 * the ended row, or `undefined` (nothing done) when the subscription is not set to cancel, is already
 * ended, or its period has not ended by `now`.
 */
export async function endSubscriptionAtPeriodEnd(tx: Executor, _deps: Partial<Pick<Deps, 'clock'>>, row: repo.SubscriptionRow, now: Date): Promise<repo.SubscriptionRow | undefined> {
  const ended = await repo.endCanceledSubscription(tx, row.id, now)
  if (!ended) return undefined
  await emitChangeEvents(tx, ended.organization_id, { before: row, after: ended }, now)
  return ended
}

/**
 * The last retry of a failed renewal failed (Polar's dunning): the subscription is revoked, with Polar's events
 * (`subscription.updated`, `subscription.canceled` unless it already was, `subscription.revoked`,
 * `customer.state_changed`). The caller holds the row's lock (the renewal's charge record).
 */
export async function revokeForNonPayment(tx: Executor, row: repo.SubscriptionRow, now: Date): Promise<Subscription> {
  const after = await repo.updateSubscription(tx, row.organization_id, row.id, { status: 'canceled', canceled_at: row.canceled_at ?? now, ends_at: now, ended_at: now, modified_at: now })
  return emitChangeEvents(tx, row.organization_id, { before: row, after }, now)
}

/** Locks the row, applies `apply`'s changes (it throws to refuse), sends the events, answers the new state. */
async function change(deps: D, auth: AuthContext, id: string, apply: (row: repo.SubscriptionRow, now: Date) => repo.SubscriptionChanges): Promise<Subscription> {
  return deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now()
    const before = await repo.findSubscription(tx, auth.organizationId, id, { forUpdate: true })
    if (!before) throw new ResourceNotFound()
    const after = await repo.updateSubscription(tx, auth.organizationId, id, { ...apply(before, now), modified_at: now })
    return emitChangeEvents(tx, auth.organizationId, { before, after }, now)
  })
}

const isRevoked = (status: repo.SubscriptionRow['status']) => status === 'canceled' || status === 'unpaid'

/**
 * Polar's `_after_subscription_updated`, for the changes Kassa makes: `subscription.updated` always, then
 * `subscription.uncanceled` (no longer canceled), `subscription.canceled` (newly canceled, or revoked
 * after a scheduled cancellation: Polar sends it again then), `subscription.revoked` (newly ended), and
 * last `customer.state_changed` (the subscription leaves, or its cancellation shows in, the customer's state).
 */
async function emitChangeEvents(tx: Executor, organizationId: string, { before, after }: { before: repo.SubscriptionRow; after: repo.SubscriptionRow }, now: Date): Promise<Subscription> {
  const subscription = (await hydrate(tx, organizationId, [after]))[0]!
  const wasCanceled = before.canceled_at !== null
  const isCanceled = after.canceled_at !== null
  const becameRevoked = isRevoked(after.status) && !isRevoked(before.status)
  const types: WebhookEventType[] = ['subscription.updated']
  if (!isCanceled && wasCanceled) types.push('subscription.uncanceled')
  if ((isCanceled && !wasCanceled) || (becameRevoked && wasCanceled)) types.push('subscription.canceled')
  if (becameRevoked) types.push('subscription.revoked')
  for (const type of types) await emitEvent(tx, { organizationId, type, data: subscription, now })
  await emitEvent(tx, { organizationId, type: 'customer.state_changed', data: () => customerState(tx, subscription.customer), now })
  return subscription
}
