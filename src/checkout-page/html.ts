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

/** Security headers of every page (DESIGN.md "Safety defaults"). */
export function pageHeaders(opts: { secretInUrl?: boolean; personal?: boolean; nonce?: string } = {}): Record<string, string> {
  const nonce = opts.nonce ? `'nonce-${opts.nonce}'` : "'none'"
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; script-src ${nonce}; style-src ${nonce}; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    'x-frame-options': 'DENY',
    ...(opts.secretInUrl ? { 'referrer-policy': 'no-referrer' } : {}),
    ...(opts.personal ? { 'cache-control': 'no-store' } : {}),
    'x-robots-tag': 'noindex, nofollow',
  }
}
