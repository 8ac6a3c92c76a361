import { findLiveLinkUrl } from '../checkout-links/service'
import { confirmCheckout } from '../checkouts/confirm'
import { loadContext, statusAt } from '../checkouts/context'
import { toCheckoutPublic } from '../checkouts/present'
import type { CheckoutPublic } from '../checkouts/schemas'
import { findCheckoutRowBySecret, updateClientCheckout, type BuyerMeta } from '../checkouts/service'
import type { Deps } from '../deps'
import { getOrderByCheckoutId } from '../orders/service'
import { getOrganization, matchOrigin } from '../organizations/service'
import { processorSettingsFor } from '../payment-settings/service'
import { getSubscriptionById } from '../subscriptions/service'
import type { ParsedForm } from './form'

type D = Pick<Deps, 'db' | 'clock' | 'config' | 'payments' | 'wakeWorker'>

/**
 * What the hosted page shows for a session, decided here so the routes only render. `embedOrigin`: the page
 * allowed to frame it, the session's stored `embed_origin` while the organization's `embed_hosts` still admit it
 * (a host removed from the list stops framing its open sessions too).
 */
export type PageState =
  | { kind: 'missing' }
  | (
      /** `stripe`: the organization pays with Stripe; the page shows the Payment Element with this publishable key. */
      | { kind: 'open'; checkout: CheckoutPublic; now: Date; stripe?: { publishableKey: string } }
      | { kind: 'confirmed'; checkout: CheckoutPublic }
      | { kind: 'succeeded'; checkout: CheckoutPublic; orderId: string | null; trialEnd: string | null }
      /** `restart`: the checkout link again, with the session's original query, when the link still sells. */
      | { kind: 'expired' | 'failed'; checkout: CheckoutPublic; restart?: string }
    ) & { embedOrigin: string | null }

export async function loadPageState(deps: Pick<Deps, 'db' | 'clock' | 'config'>, clientSecret: string): Promise<PageState> {
  const row = await findCheckoutRowBySecret(deps, clientSecret)
  if (!row) return { kind: 'missing' }
  const now = deps.clock.now()
  const org = await getOrganization(deps, row.organization_id)
  const checkout = await toCheckoutPublic(deps, row, await loadContext(deps.db, row), now, org)
  const embedOrigin = (row.embed_origin && org && matchOrigin(row.embed_origin, org.embed_hosts)) || null
  const status = statusAt(row, now)
  if (status === 'open') {
    // Only the publishable key leaves here: the secret key stays with confirm.
    const settings = await processorSettingsFor(deps, row.organization_id)
    return { kind: 'open', checkout, now, embedOrigin, ...(settings.processor === 'stripe' ? { stripe: { publishableKey: settings.publishableKey } } : {}) }
  }
  if (status === 'confirmed') return { kind: 'confirmed', checkout, embedOrigin }
  if (status === 'succeeded') {
    const order = await getOrderByCheckoutId(deps.db, row.organization_id, row.id)
    const sub = order?.subscription_id ? await getSubscriptionById(deps.db, row.organization_id, order.subscription_id) : undefined
    return { kind: 'succeeded', checkout, orderId: order?.id ?? null, trialEnd: sub?.trial_end ?? null, embedOrigin }
  }
  const link = row.checkout_link_id ? await findLiveLinkUrl(deps, row.organization_id, row.checkout_link_id) : undefined
  return { kind: status, checkout, embedOrigin, ...(link ? { restart: `${link}${row.link_query ? `?${row.link_query}` : ''}` } : {}) }
}

/** A valid form post: the same service call the JSON client endpoints make. */
export async function submitCheckoutForm(deps: D, clientSecret: string, form: Extract<ParsedForm, { ok: true }>, meta: BuyerMeta): Promise<void> {
  if (form.action === 'pay') await confirmCheckout(deps, clientSecret, form.input, meta)
  else await updateClientCheckout(deps, clientSecret, form.input, meta)
}
