import type { Customer } from '../customers/schemas'
import type { Executor } from '../db/index'
import * as repo from './repository'
import { toSubscriptionBase } from './service'

/**
 * The payload of `customer.state_changed`, Polar's `CustomerState` (`server/polar/customer/schemas/state.py`):
 * the customer, its trialing and active subscriptions (Polar's `CustomerStateSubscription`: the subscription's
 * own fields, without its customer and checkout), and its benefit grants and meters (Kassa has neither:
 * always empty).
 */
export async function customerState(db: Executor, customer: Customer) {
  const subscriptions = await repo.findActiveSubscriptionsOfCustomer(db, customer.organization_id, customer.id)
  return {
    ...customer,
    active_subscriptions: subscriptions.map((row) => {
      const s = toSubscriptionBase(row)
      const { id, created_at, modified_at, metadata, status, amount, currency, recurring_interval } = s
      const { current_period_start, current_period_end, trial_start, trial_end, cancel_at_period_end, canceled_at, started_at, ends_at, product_id, discount_id, seats, units } = s
      return {
        id, created_at, modified_at, metadata, custom_field_data: row.custom_field_data, status, amount, currency, recurring_interval,
        current_period_start, current_period_end, trial_start, trial_end, cancel_at_period_end, canceled_at, started_at, ends_at, product_id, discount_id, seats, units,
        meters: [],
      }
    }),
    granted_benefits: [],
    active_meters: [],
  }
}
