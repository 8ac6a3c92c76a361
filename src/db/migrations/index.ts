import type { Migration } from 'kysely'
import * as foundation from './2026-11-25T1500-create-foundation'
import * as checkouts from './2026-11-25T1600-create-checkouts'
import * as webhooks from './2026-11-25T1700-create-webhooks'
import * as sessions from './2026-11-25T1800-create-sessions'
import * as rateLimits from './2026-12-02T1000-create-rate-limits'
import * as sdk1xFields from './2026-12-03T1000-sdk-1x-fields'
import * as embedHosts from './2026-12-03T1100-add-organization-embed-hosts'
import * as adHocPrices from './2026-12-03T1200-checkout-ad-hoc-prices'
import * as retentionIndex from './2026-12-04T1000-checkouts-retention-index'
import * as linkVisitCounts from './2026-12-04T1300-create-link-visit-counts'
import * as jobsConcurrencyKey from './2026-12-04T1400-jobs-concurrency-key'
import * as linkConfigNotify from './2026-12-04T1500-link-config-notify'
import * as stripePayments from './2026-12-05T1000-stripe-payments'
import * as subscriptionLifecycle from './2026-12-05T1100-subscription-lifecycle'

// Listed here rather than read from the folder, so the migrations travel with the bundle and
// their order is reviewed like code. Names sort by date.
export const migrations: Record<string, Migration> = {
  '2026-11-25T1500-create-foundation': foundation,
  '2026-11-25T1600-create-checkouts': checkouts,
  '2026-11-25T1700-create-webhooks': webhooks,
  '2026-11-25T1800-create-sessions': sessions,
  '2026-12-02T1000-create-rate-limits': rateLimits,
  '2026-12-03T1000-sdk-1x-fields': sdk1xFields,
  '2026-12-03T1100-add-organization-embed-hosts': embedHosts,
  '2026-12-03T1200-checkout-ad-hoc-prices': adHocPrices,
  '2026-12-04T1000-checkouts-retention-index': retentionIndex,
  '2026-12-04T1300-create-link-visit-counts': linkVisitCounts,
  '2026-12-04T1400-jobs-concurrency-key': jobsConcurrencyKey,
  '2026-12-04T1500-link-config-notify': linkConfigNotify,
  '2026-12-05T1000-stripe-payments': stripePayments,
  '2026-12-05T1100-subscription-lifecycle': subscriptionLifecycle,
}
