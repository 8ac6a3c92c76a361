import { z } from 'zod'
import { NullableTimestamp, Timestamp, Uuid, listOf, paginationQuery, sortingQuery, stringList } from '../http/schemas'
import { ALL_SCOPES } from '../auth/scopes'
import { EmbedHostsInput, EMBED_HOSTS_DESCRIPTION } from './embed-hosts-schema'

export const ScopeSchema = z.enum(ALL_SCOPES).describe('A scope, as Polar names it. A `:write` scope also grants the matching `:read`.')

const Scopes = z
  .array(ScopeSchema)
  .max(ALL_SCOPES.length * 2)
  .transform((scopes) => [...new Set(scopes)])

const Comment = z.string().max(1000)

const DAY = 86_400
const MAX_EXPIRES_IN_SECONDS = 100 * 365 * DAY
const ISO_DURATION =
  /^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i
const UNIT_SECONDS = [365 * DAY, 30 * DAY, 7 * DAY, DAY, 3600, 60, 1]

/** Seconds in a pydantic-style timedelta: a number of seconds or an ISO 8601 duration (`P30D`, `PT12H`). */
export function parseDuration(v: number | string): number | undefined {
  if (typeof v === 'number') return v
  const s = v.trim()
  if (/^\d+(?:\.\d+)?$/.test(s)) return Number(s)
  const m = ISO_DURATION.exec(s)
  if (!m) return undefined
  return m.slice(1).reduce((sum, part, i) => sum + (part ? Number(part) * UNIT_SECONDS[i]! : 0), 0)
}

const ExpiresIn = z
  .union([z.number(), z.string().max(100)])
  .transform((v, ctx) => {
    const seconds = parseDuration(v)
    if (seconds === undefined || !Number.isFinite(seconds)) {
      ctx.issues.push({ code: 'custom', input: v, message: 'Input should be a valid timedelta, an ISO 8601 duration or a number of seconds', params: { type: 'time_delta_parsing' } })
      return z.NEVER
    }
    if (seconds <= 0 || seconds > MAX_EXPIRES_IN_SECONDS) {
      ctx.issues.push({ code: 'custom', input: v, message: 'Input should be a positive duration of at most 100 years', params: { type: 'value_error' } })
      return z.NEVER
    }
    return Math.ceil(seconds)
  })

export const OrganizationAccessToken = z
  .object({
    created_at: Timestamp.describe('Creation timestamp of the object.'),
    modified_at: NullableTimestamp.describe('Last modification timestamp of the object.'),
    id: Uuid.describe('The ID of the token (not the token itself, which is shown only once).'),
    scopes: z.array(z.string()).describe('The scopes the token grants.'),
    expires_at: NullableTimestamp.describe('When the token stops working; null for never.'),
    comment: z.string().describe('What the token is for.'),
    last_used_at: NullableTimestamp.describe('When the token last authenticated a request (to the minute).'),
    organization_id: Uuid.describe('The organization ID.'),
  })
  .describe('An organization access token. The token value is never shown again after its creation.')
export type OrganizationAccessToken = z.infer<typeof OrganizationAccessToken>

export const OrganizationAccessTokenCreate = z
  .object({
    organization_id: Uuid.nullish().describe('The organization; implied by the caller (token or dashboard session).'),
    comment: Comment.describe('What the token is for.'),
    expires_in: ExpiresIn.nullish().describe(
      'Lifetime of the token: an ISO 8601 duration (`P30D`, `PT12H`; Y counts 365 days and M 30, as pydantic) or a number of seconds. Null or absent: never expires.',
    ),
    scopes: Scopes.describe(
      "The scopes the token grants. Stricter than Polar: only Kassa's scopes are accepted, and a token can only grant scopes it has itself (403 otherwise).",
    ),
  })
  .describe('Create an organization access token.')
export type OrganizationAccessTokenCreate = z.infer<typeof OrganizationAccessTokenCreate>

export const OrganizationAccessTokenUpdate = z
  .object({
    comment: Comment.nullish().describe('What the token is for.'),
    scopes: Scopes.nullish().describe('The scopes the token grants, replacing the current ones; effective at once.'),
  })
  .describe('Update an organization access token: only the keys sent are changed.')
export type OrganizationAccessTokenUpdate = z.infer<typeof OrganizationAccessTokenUpdate>

export const OrganizationAccessTokenCreateResponse = z.object({
  organization_access_token: OrganizationAccessToken,
  token: z.string().describe('The token (`polar_oat_…`), shown this once: Kassa stores only its hash.'),
})

export const OrganizationAccessTokenList = listOf(OrganizationAccessToken)

export const OrganizationAccessTokenListQuery = z.object({
  organization_id: stringList(Uuid).optional().describe('Filter by organization ID.'),
  ...paginationQuery,
  sorting: sortingQuery(['created_at', 'comment', 'last_used_at', 'organization_id'], 'created_at'),
})
export type OrganizationAccessTokenListQuery = z.infer<typeof OrganizationAccessTokenListQuery>

export const IdParams = z.object({ id: Uuid })

/**
 * Polar's Organization. Kassa keeps only id, name and slug; every other field is a fixed neutral value
 * (documented per field) so that Polar's SDK parses it.
 */
export const Organization = z
  .object({
    created_at: Timestamp.describe('Creation timestamp of the object.'),
    modified_at: NullableTimestamp.describe('Last modification timestamp of the object.'),
    id: Uuid.describe('The organization ID.'),
    name: z.string().describe('Organization name shown in checkout, customer portal, emails etc.'),
    slug: z.string().describe('Unique organization slug.'),
    avatar_url: z.null().describe('Always null in Kassa.'),
    proration_behavior: z.literal('prorate').describe('Always `prorate` in Kassa.'),
    allow_customer_updates: z.boolean().describe('Always true in Kassa.'),
    email: z.null().describe('Always null in Kassa.'),
    website: z.null().describe('Always null in Kassa.'),
    socials: z.array(z.never()).describe('Always empty in Kassa.'),
    status: z.literal('active').describe('Always `active` in Kassa.'),
    details_submitted_at: z.null().describe('Always null in Kassa.'),
    onboarding_resubmission_requested_at: z.null().describe('When Polar asked the organization to review and resubmit its onboarding: Kassa has no onboarding review, always null.'),
    sso_enforced: z.boolean().describe('Always false in Kassa.'),
    default_presentment_currency: z.string().describe('Always `usd` in Kassa.'),
    default_tax_behavior: z.literal('location').describe('Always `location` in Kassa (taxes are 0 for now).'),
    feature_settings: z.null().describe('Always null in Kassa.'),
    dispute_settings: z
      .object({ auto_accept_below_amount: z.number().int().nullable().describe('Disputes below this amount (cents) are accepted automatically: Kassa handles no disputes, always null.') })
      .describe("The organization's dispute settings."),
    subscription_settings: z.object({
      allow_multiple_subscriptions: z.boolean(),
      proration_behavior: z.string(),
      benefit_revocation_grace_period: z.number().int(),
      prevent_trial_abuse: z.boolean(),
      allow_customer_updates: z.boolean(),
    }),
    customer_email_settings: z.record(z.string(), z.boolean()),
    customer_portal_settings: z.object({
      usage: z.object({ show: z.boolean() }),
      subscription: z.object({ update_seats: z.boolean(), update_plan: z.boolean() }),
    }),
    embed_hosts: z.array(z.string()).describe(EMBED_HOSTS_DESCRIPTION),
    account_id: z.null().describe('Always null in Kassa.'),
    payout_account_id: z.null().describe('Always null in Kassa.'),
    capabilities: z.object({
      checkout_payments: z.boolean(),
      subscription_renewals: z.boolean(),
      payouts: z.boolean(),
      refunds: z.boolean(),
      api_access: z.boolean(),
      dashboard_access: z.boolean(),
    }),
  })
  .describe('An organization.')
export type Organization = z.infer<typeof Organization>

export const OrganizationList = listOf(Organization)

/**
 * Polar's fields that Kassa answers with a fixed value (see `toOrganization`). An update may send them back as
 * they are (a client that PATCHes what it read keeps working); any other value is a 422 naming the field,
 * rather than a change silently dropped.
 */
export const FIXED_ORGANIZATION_FIELDS = [
  'avatar_url',
  'email',
  'website',
  'socials',
  'details',
  'country',
  'feature_settings',
  'subscription_settings',
  'customer_email_settings',
  'customer_portal_settings',
  'dispute_settings',
  'default_presentment_currency',
  'default_tax_behavior',
  'sso_enforced',
] as const

export const OrganizationUpdate = z
  .object({
    name: z.string().trim().min(3).max(256).nullish().describe('The organization name shown on the checkout, emails and the dashboard.'),
    embed_hosts: EmbedHostsInput.nullish(),
    ...Object.fromEntries(
      FIXED_ORGANIZATION_FIELDS.map((f) => [f, z.unknown().optional().describe(`Fixed in Kassa: only its current value (or null) is accepted.`)]),
    ) as Record<(typeof FIXED_ORGANIZATION_FIELDS)[number], z.ZodOptional<z.ZodUnknown>>,
  })
  .describe("Update an organization: only the keys sent are changed. Kassa stores `name` and `embed_hosts`; Polar's other fields are fixed in Kassa and accepted only with the value Kassa answers (or null).")
export type OrganizationUpdate = z.infer<typeof OrganizationUpdate>

export const OrganizationListQuery = z.object({
  slug: z.string().optional().describe('Filter by slug.'),
  ...paginationQuery,
  sorting: sortingQuery(['created_at', 'slug', 'name'], 'created_at'),
})
export type OrganizationListQuery = z.infer<typeof OrganizationListQuery>
