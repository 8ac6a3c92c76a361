/** Escapes text for HTML content and attribute values. Every reflected value goes through it. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** Tagged template that escapes interpolations; nest with `raw()` for trusted markup. */
export class Raw {
  constructor(readonly html: string) {}
  toString() {
    return this.html
  }
}
export const raw = (html: string) => new Raw(html)

export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]!
  values.forEach((v, i) => {
    const part = Array.isArray(v) ? v.map((x) => (x instanceof Raw ? x.html : esc(x))).join('') : v instanceof Raw ? v.html : v === false || v == null ? '' : esc(v)
    out += part + strings[i + 1]!
  })
  return new Raw(out)
}

/**
 * What a page running Stripe.js and the Payment Element must allow, as Stripe's integration security guide lists it
 * (https://docs.stripe.com/security/guide#content-security-policy, "Stripe.js"): the script from js.stripe.com, its
 * frames (the Element's fields, 3-D Secure via hooks.stripe.com) and its calls to api.stripe.com. Google Maps is
 * listed there for the Address Element's autocomplete only, which the page does not use.
 */
export const STRIPE_CSP = {
  script: 'https://js.stripe.com https://*.js.stripe.com',
  frame: 'https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com',
  connect: 'https://api.stripe.com',
} as const

/** Stripe.js, loaded from Stripe as Stripe requires (never bundled or self-hosted); only on a Stripe session's page. */
export const STRIPE_JS_URL = 'https://js.stripe.com/v3/'

/**
 * Security headers of every page (DESIGN.md "Safety defaults"). `frameAncestor`: the one origin allowed to
 * frame the page (an embedded session's stored, allowlisted `embed_origin`); without it no page may frame it.
 * Polar's checkout sends `frame-ancestors *`; Kassa names exactly the embedding origin.
 * `styleHash`: the page's one style is allowed by its hash instead of a nonce, and it runs no script (the
 * preview, which is cached and served as it is to every previewer, so a nonce would be the same for all).
 * `stripe`: a Stripe session's checkout page, which also allows Stripe.js and its frames (`STRIPE_CSP`); every other
 * page's policy is the same as without it.
 */
export function pageHeaders(opts: { secretInUrl?: boolean; personal?: boolean; nonce?: string; frameAncestor?: string; styleHash?: string; stripe?: boolean } = {}): Record<string, string> {
  const nonce = opts.nonce ? `'nonce-${opts.nonce}'` : "'none'"
  // The origin was parsed and normalized (scheme://host[:port], host labels of [A-Za-z0-9-] only): it cannot
  // carry a space or a semicolon into the policy. The check guards against a future caller passing anything else.
  const ancestor = opts.frameAncestor && /^[a-z][a-z0-9+.-]*:\/\/[A-Za-z0-9.\-[\]:]+$/.test(opts.frameAncestor) ? opts.frameAncestor : undefined
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': opts.stripe && !opts.styleHash
      ? `default-src 'none'; script-src ${nonce} ${STRIPE_CSP.script}; style-src ${nonce}; img-src 'self' data:; connect-src 'self' ${STRIPE_CSP.connect}; frame-src ${STRIPE_CSP.frame}; form-action 'self'; base-uri 'none'; frame-ancestors ${ancestor ?? "'none'"}`
      : `default-src 'none'; script-src ${opts.styleHash ? "'none'" : nonce}; style-src ${opts.styleHash ? `'sha256-${opts.styleHash}'` : nonce}; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors ${ancestor ?? "'none'"}`,
    ...(ancestor ? {} : { 'x-frame-options': 'DENY' }),
    ...(opts.secretInUrl ? { 'referrer-policy': 'no-referrer' } : {}),
    ...(opts.personal ? { 'cache-control': 'no-store' } : {}),
    'x-robots-tag': 'noindex, nofollow',
  }
}
