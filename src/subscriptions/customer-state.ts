import type { Customer } from '../customers/schemas'
import type { Executor } from '../db/index'
import { iso, isoOrNull } from '../http/schemas'
import * as repo from './repository'

/**
 * The payload of `customer.state_changed`, Polar's `CustomerState` (`server/polar/customer/schemas/state.py`):
 * the customer, its trialing and active subscriptions, and its benefit grants and meters (Kassa has
 * neither: always empty).
 */
export async function customerState(db: Executor, customer: Customer) {
  const subscriptions = await repo.findActiveSubscriptionsOfCustomer(db, customer.organization_id, customer.id)
  return {
    ...customer,
    active_subscriptions: subscriptions.map((s) => ({
      id: s.id,
      created_at: iso(s.created_at),
      modified_at: isoOrNull(s.modified_at),
      metadata: s.metadata,
      custom_field_data: s.custom_field_data,
      status: s.status,
      amount: s.amount,
      currency: s.currency,
      recurring_interval: s.recurring_interval,
      current_period_start: iso(s.current_period_start),
      current_period_end: iso(s.current_period_end),
      trial_start: isoOrNull(s.trial_start),
      trial_end: isoOrNull(s.trial_end),
      cancel_at_period_end: false,
      canceled_at: null,
      started_at: isoOrNull(s.started_at),
      ends_at: null,
      product_id: s.product_id,
      discount_id: s.discount_id,
      meters: [],
    })),
    granted_benefits: [],
    active_meters: [],
  }
}
