import type { Executor } from '../db/index'
import type { Address as AddressRow, Metadata } from '../db/types'
import type { Deps } from '../deps'
import { ResourceNotFound } from '../http/errors'
import { iso, isoOrNull, paginated, type Page } from '../http/schemas'
import { newId } from '../lib/ids'
import type { AuthContext } from '../organizations/service'
import * as repo from './repository'
import type { Customer, CustomerListQuery } from './schemas'

export function toCustomer(row: repo.CustomerRow): Customer {
  return {
    id: row.id,
    created_at: iso(row.created_at),
    modified_at: isoOrNull(row.modified_at),
    metadata: row.metadata,
    external_id: row.external_id,
    email: row.email,
    email_verified: false,
    type: 'individual',
    name: row.name,
    billing_name: null,
    billing_address: row.billing_address,
    tax_id: row.tax_id ? [row.tax_id, null] : null,
    locale: null,
    organization_id: row.organization_id,
    default_payment_method_id: null,
    deleted_at: isoOrNull(row.deleted_at),
    avatar_url: null,
    first_user_event_at: null,
  }
}

export async function getCustomerOrThrow(deps: Pick<Deps, 'db'>, auth: AuthContext, id: string): Promise<Customer> {
  const row = await repo.findCustomer(deps.db, auth.organizationId, id)
  if (!row) throw new ResourceNotFound()
  return toCustomer(row)
}

export async function listCustomers(deps: Pick<Deps, 'db'>, auth: AuthContext, query: CustomerListQuery) {
  const page: Page = { page: query.page, limit: query.limit }
  if (query.organization_id && !query.organization_id.includes(auth.organizationId)) return paginated([], 0, page)
  const { rows, total } = await repo.listCustomers(
    deps.db,
    auth.organizationId,
    { email: query.email, query: query.query, active: query.active, metadata: query.metadata, sorting: query.sorting },
    page,
  )
  return paginated(rows.map(toCustomer), total, page)
}

/** A live customer of the organization, in the API shape (for webhooks and other domains). */
export async function getCustomerById(db: Executor, organizationId: string, id: string): Promise<Customer | undefined> {
  const row = await repo.findCustomer(db, organizationId, id)
  return row ? toCustomer(row) : undefined
}

/** The organization's customers by id, deleted ones included (orders and subscriptions embed them). */
export async function getCustomersByIds(db: Executor, organizationId: string, ids: string[]): Promise<Map<string, Customer>> {
  const rows = await repo.findCustomersByIds(db, organizationId, [...new Set(ids)])
  return new Map(rows.map((r) => [r.id, toCustomer(r)]))
}

export interface CustomerForCheckout {
  organizationId: string
  email: string
  name?: string | null
  billingAddress?: AddressRow | null
  taxId?: string | null
  externalId?: string | null
  /** A new customer's metadata (the checkout's `customer_metadata`); an existing customer's is left alone. */
  metadata?: Metadata
  /** The Stripe Customer that paid (Stripe sessions), kept for renewals. */
  stripeCustomerId?: string | null
  now: Date
}

/**
 * The organization's customer for this email (any case), made if there is none. Runs inside the
 * caller's transaction and opens none. Concurrency is settled by the unique index on
 * `(organization_id, lower(email))`: the insert does nothing on conflict and the existing row is read
 * back, so two settlements for one email end on the same customer and neither fails.
 * A customer without a name gets the one given here.
 */
export async function upsertCustomerForCheckout(tx: Executor, input: CustomerForCheckout): Promise<{ customer: Customer; created: boolean; updated: boolean }> {
  const email = input.email.trim()
  if (!email) throw new Error('upsertCustomerForCheckout: an email is required')
  const name = input.name?.trim() || null
  const inserted = await repo.insertCustomerIfAbsent(tx, {
    id: newId(),
    organization_id: input.organizationId,
    email,
    name,
    billing_address: input.billingAddress ? JSON.stringify(input.billingAddress) : null,
    tax_id: input.taxId ?? null,
    external_id: input.externalId ?? null,
    metadata: JSON.stringify(input.metadata ?? {}),
    stripe_customer_id: input.stripeCustomerId ?? null,
    created_at: input.now,
  })
  if (inserted) return { customer: toCustomer(inserted), created: true, updated: false }

  // Under READ COMMITTED the conflicting row is committed by now (the insert waited for it), and this
  // new statement sees it.
  const existing = await repo.findCustomerByEmail(tx, input.organizationId, email)
  if (!existing) throw new Error('upsertCustomerForCheckout: conflicting customer not visible (is the transaction READ COMMITTED?)')
  // The Stripe Customer that paid is kept for the next purchase and off-session renewals (not a change Polar's customer shows).
  if (input.stripeCustomerId && !existing.stripe_customer_id) await repo.setStripeCustomerId(tx, existing.id, input.stripeCustomerId)
  if (name && !existing.name) {
    const named = await repo.fillCustomerName(tx, existing.id, name, input.now)
    if (named) return { customer: toCustomer(named), created: false, updated: true }
  }
  return { customer: toCustomer(existing), created: false, updated: false }
}
