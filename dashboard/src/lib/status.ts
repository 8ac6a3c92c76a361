import { plural } from './format'
import type { CancellationReason, Interval, OrderStatus, RefundReason, Refund, SubscriptionStatus } from './types'

export type Tone = 'neutral' | 'success' | 'warning' | 'danger' | 'info'

export const ORDER_STATUS: Record<OrderStatus, { label: string; tone: Tone }> = {
  pending: { label: 'Pending', tone: 'warning' },
  paid: { label: 'Paid', tone: 'success' },
  refunded: { label: 'Refunded', tone: 'neutral' },
  partially_refunded: { label: 'Partially refunded', tone: 'neutral' },
  void: { label: 'Void', tone: 'danger' },
}

export const BILLING_REASON: Record<string, string> = {
  purchase: 'Purchase',
  subscription_create: 'New subscription',
  subscription_cycle: 'Renewal',
  subscription_update: 'Subscription change',
}

export const SUBSCRIPTION_STATUS: Record<SubscriptionStatus, { label: string; tone: Tone }> = {
  incomplete: { label: 'Incomplete', tone: 'warning' },
  incomplete_expired: { label: 'Expired', tone: 'neutral' },
  trialing: { label: 'Trialing', tone: 'info' },
  active: { label: 'Active', tone: 'success' },
  past_due: { label: 'Past due', tone: 'warning' },
  canceled: { label: 'Canceled', tone: 'neutral' },
  unpaid: { label: 'Unpaid', tone: 'danger' },
  paused: { label: 'Paused', tone: 'neutral' },
}

export const CANCELLATION_REASON: Record<CancellationReason, string> = {
  customer_service: 'Customer service',
  low_quality: 'Low quality',
  missing_features: 'Missing features',
  switched_service: 'Switched to another service',
  too_complex: 'Too complex',
  too_expensive: 'Too expensive',
  unused: 'Not used',
  other: 'Other',
}

export const REFUND_REASON: Record<RefundReason, string> = {
  customer_request: 'Customer request',
  duplicate: 'Duplicate',
  fraudulent: 'Fraudulent',
  service_disruption: 'Service disruption',
  satisfaction_guarantee: 'Satisfaction guarantee',
  dispute_prevention: 'Dispute prevention',
  other: 'Other',
}

export const REFUND_STATUS: Record<Refund['status'], { label: string; tone: Tone }> = {
  pending: { label: 'Pending', tone: 'warning' },
  succeeded: { label: 'Succeeded', tone: 'success' },
  failed: { label: 'Failed', tone: 'danger' },
  canceled: { label: 'Canceled', tone: 'neutral' },
}

/** "month" → "/ month", 3 months → "every 3 months". */
export function perInterval(interval: Interval, count: number): string {
  return count === 1 ? `/ ${interval}` : `every ${plural(count, interval)}`
}
