import type { Executor } from '../db/index'
import { fieldError } from '../http/errors'
import { getOrganization, matchOrigin, parseOrigin } from '../organizations/service'

/**
 * `embed_origin`, the page allowed to frame a session and to receive its `POLAR_CHECKOUT` messages. Kassa
 * always holds it to the organization's `embed_hosts` (Polar does so for organizations created since August
 * 2026, and for all since 17 August 2026: `server/polar/checkout/service.py` `checkout_link_create`).
 */

/**
 * A link visit's `?embed_origin=`: the normalized origin when `embed_hosts` admits it, else null. Polar
 * answers 403 `EmbedHostNotAllowed` there; Kassa keeps the link working (DESIGN.md: a bad query value never
 * breaks it) and opens a session that is simply not embeddable, so the page refuses to be framed.
 */
export function visitEmbedOrigin(value: string | undefined, embedHosts: readonly string[]): string | null {
  if (!value) return null
  return matchOrigin(value, embedHosts) ?? null
}

/**
 * The merchant API's `embed_origin` (create and update): undefined leaves it, null clears it, and an origin
 * is stored normalized. Stricter than Polar, which stores whatever the API is given: an origin the
 * organization's `embed_hosts` does not admit is a 422, since the page would refuse to be framed by it.
 */
export async function checkedEmbedOrigin(db: Executor, organizationId: string, value: string | null | undefined): Promise<string | null | undefined> {
  if (value == null) return value
  const loc = ['body', 'embed_origin']
  if (!parseOrigin(value)) throw fieldError(loc, 'Value error, embed_origin must be an origin, such as https://example.com.', value)
  const org = await getOrganization({ db }, organizationId)
  const origin = matchOrigin(value, org?.embed_hosts ?? [])
  if (!origin) {
    throw fieldError(loc, `Value error, ${value} is not allowed to embed this checkout: add its host to the organization's embed_hosts.`, value)
  }
  return origin
}
