/** Scopes as Polar names them. A `:write` scope also grants the matching `:read`. */
export const ALL_SCOPES = [
  'organizations:read',
  'organizations:write',
  'products:read',
  'products:write',
  'discounts:read',
  'discounts:write',
  'custom_fields:read',
  'custom_fields:write',
  'checkout_links:read',
  'checkout_links:write',
  'checkouts:read',
  'checkouts:write',
  'orders:read',
  'refunds:read',
  'refunds:write',
  'subscriptions:read',
  'subscriptions:write',
  'customers:read',
  'customers:write',
  'metrics:read',
  'webhooks:read',
  'webhooks:write',
  'organization_access_tokens:read',
  'organization_access_tokens:write',
] as const

export type Scope = (typeof ALL_SCOPES)[number]

export const isScope = (s: string): s is Scope => (ALL_SCOPES as readonly string[]).includes(s)

export function hasScope(granted: ReadonlySet<string>, needed: Scope): boolean {
  if (granted.has(needed)) return true
  return needed.endsWith(':read') && granted.has(needed.replace(/:read$/, ':write'))
}
