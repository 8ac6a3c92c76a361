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
 * Security headers of every page (DESIGN.md "Safety defaults"). `frameAncestor`: the one origin allowed to
 * frame the page (an embedded session's stored, allowlisted `embed_origin`); without it no page may frame it.
 * Polar's checkout sends `frame-ancestors *`; Kassa names exactly the embedding origin.
 * `styleHash`: the page's one style is allowed by its hash instead of a nonce, and it runs no script (the
 * preview, which is cached and served as it is to every previewer, so a nonce would be the same for all).
 */
export function pageHeaders(opts: { secretInUrl?: boolean; personal?: boolean; nonce?: string; frameAncestor?: string; styleHash?: string } = {}): Record<string, string> {
  const nonce = opts.nonce ? `'nonce-${opts.nonce}'` : "'none'"
  // The origin was parsed and normalized (scheme://host[:port], host labels of [A-Za-z0-9-] only): it cannot
  // carry a space or a semicolon into the policy. The check guards against a future caller passing anything else.
  const ancestor = opts.frameAncestor && /^[a-z][a-z0-9+.-]*:\/\/[A-Za-z0-9.\-[\]:]+$/.test(opts.frameAncestor) ? opts.frameAncestor : undefined
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; script-src ${opts.styleHash ? "'none'" : nonce}; style-src ${opts.styleHash ? `'sha256-${opts.styleHash}'` : nonce}; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors ${ancestor ?? "'none'"}`,
    ...(ancestor ? {} : { 'x-frame-options': 'DENY' }),
    ...(opts.secretInUrl ? { 'referrer-policy': 'no-referrer' } : {}),
    ...(opts.personal ? { 'cache-control': 'no-store' } : {}),
    'x-robots-tag': 'noindex, nofollow',
  }
}
