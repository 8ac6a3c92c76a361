import net from 'node:net'

/**
 * The hosts allowed to embed an organization's checkout, as Polar has them
 * (`server/polar/organization/embed_hosts.py`): an entry is a host and an optional port without a scheme
 * (`example.com`, `*.example.com`, `localhost:3000`, `192.168.1.43:5500`), which admits HTTPS, and HTTP too
 * when the host is local; an app origin (`chrome-extension://abcdef`) carries its scheme. `*.example.com`
 * matches any subdomain, never `example.com` itself. Entries and origins go through the same URL parser, so
 * both normalize alike (lower case, punycode, default ports dropped).
 */

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 }
const WEB_SCHEMES = new Set(Object.keys(DEFAULT_PORTS))
const WILDCARD_PREFIX = '*.'
const WILDCARD_LABEL = 'wildcard'
// A scheme the URL parser has no default port for: it reports the port as written.
const PORT_PROBE_SCHEME = 'x-kassa-probe'
const MAX_HOST_LENGTH = 253
export const MAX_EMBED_HOSTS = 50
export const MAX_EMBED_HOST_LENGTH = 300
const HOST_LABEL = /^[A-Za-z0-9-]+$/
const WRITTEN_PORT = /:\d+$/

// Addresses a browser reaches only from the developer's own machine or network (Python's `not is_global`).
const nonGlobal = new net.BlockList()
for (const [a, p] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24],
  ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['240.0.0.0', 4],
] as const) nonGlobal.addSubnet(a, p, 'ipv4')
for (const [a, p] of [['::', 128], ['::1', 128], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10]] as const) nonGlobal.addSubnet(a, p, 'ipv6')

/**
 * Wildcards on these would admit every site registered under them. Polar asks the public suffix list
 * (`tld.is_tld`); Kassa refuses every single-label suffix and the common two-label registry suffixes.
 */
const REGISTRY_SUFFIXES = new Set(
  ('co.uk org.uk ac.uk gov.uk me.uk ltd.uk plc.uk net.uk com.au net.au org.au edu.au gov.au co.nz org.nz net.nz co.jp ne.jp or.jp ac.jp go.jp ' +
    'co.kr or.kr com.br net.br org.br com.cn net.cn org.cn com.mx org.mx co.in net.in org.in co.za org.za com.tr net.tr org.tr com.pl net.pl ' +
    'com.ar com.co com.sg com.hk com.tw co.il co.id com.my com.ph com.vn com.ua com.es com.pt co.at or.at co.th').split(' '),
)
const LOCAL_ONLY_SUFFIXES = new Set(['localhost', 'local'])

export class InvalidEmbedHost extends Error {
  constructor(readonly value: string, reason: string) {
    super(`${pyRepr(value)} is not a valid embed host: ${reason}`)
  }
}

/** How Python writes a string in a message (Polar's messages quote the entry with `!r`). */
function pyRepr(s: string): string {
  return s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

const ipOf = (host: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined => {
  const h = host.replace(/^\[|\]$/g, '')
  const family = net.isIP(h)
  return family ? { address: h, family: family === 4 ? 'ipv4' : 'ipv6' } : undefined
}

/** `localhost`, any `.localhost` or `.local` name, and loopback or private addresses. */
export function isLocalHost(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local')) return true
  const ip = ipOf(host)
  if (!ip) return false
  // An IPv4-mapped IPv6 address (the URL parser writes it in hex) is as local as the IPv4 address it carries.
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip.address)?.[1]
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip.address)
  const v4 = dotted ?? (hex ? [parseInt(hex[1]!, 16) >> 8, parseInt(hex[1]!, 16) & 255, parseInt(hex[2]!, 16) >> 8, parseInt(hex[2]!, 16) & 255].join('.') : undefined)
  return v4 ? nonGlobal.check(v4, 'ipv4') : nonGlobal.check(ip.address, ip.family)
}

const isHostPart = (host: string) => ipOf(host) !== undefined || host.replace(/\.$/, '').split('.').every((l) => HOST_LABEL.test(l))

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value)
  } catch {
    return undefined
  }
}

export interface ParsedOrigin {
  scheme: string
  host: string
  port: number | null
}

/** `scheme://host[:port]`, the default port left out: what a browser's `location.origin` says. */
export function originString(o: ParsedOrigin): string {
  return o.port === null || o.port === DEFAULT_PORTS[o.scheme] ? `${o.scheme}://${o.host}` : `${o.scheme}://${o.host}:${o.port}`
}

/**
 * An origin from an `embed_origin` value. Path, query, fragment and credentials are dropped
 * (`postMessage` compares the origin only); `null`, `file:` and anything without a host carry no origin.
 */
export function parseOrigin(value: string): ParsedOrigin | undefined {
  if (value.length > MAX_EMBED_HOST_LENGTH) return undefined
  const url = parseUrl(value.trim())
  if (!url || !url.hostname || url.hostname.includes('*') || !/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())) return undefined
  const scheme = url.protocol.slice(0, -1).toLowerCase()
  const port = url.port ? Number(url.port) : (DEFAULT_PORTS[scheme] ?? null)
  return { scheme, host: url.hostname.toLowerCase(), port }
}

export interface HostPattern {
  /** null for a web host (HTTPS, and HTTP when local); an app origin's own scheme otherwise. */
  scheme: string | null
  host: string
  port: number | null
  wildcard: boolean
}

export function patternString(p: HostPattern): string {
  const scheme = p.scheme !== null ? `${p.scheme}://` : ''
  const host = p.wildcard ? `${WILDCARD_PREFIX}${p.host}` : p.host
  const port = p.port !== null && p.port !== DEFAULT_PORTS[p.scheme ?? 'https'] ? `:${p.port}` : ''
  return `${scheme}${host}${port}`
}

export function parseHostPattern(value: string): HostPattern | undefined {
  const entry = value.trim()
  const sep = entry.indexOf('://')
  const scheme = sep >= 0 ? entry.slice(0, sep).toLowerCase() : null
  if (scheme !== null && (WEB_SCHEMES.has(scheme) || !/^[a-z][a-z0-9+.-]*$/.test(scheme))) return undefined
  const remainder = sep >= 0 ? entry.slice(sep + 3) : entry
  const wildcard = remainder.startsWith(WILDCARD_PREFIX)
  const host = wildcard ? remainder.slice(WILDCARD_PREFIX.length) : remainder
  if (!host || host.includes('*')) return undefined
  // The URL parser drops a portless colon, so `data:` would read as host `data`.
  const written = host.startsWith('[') ? host.slice(host.indexOf(']') + 1) : host
  if (written.replace(WRITTEN_PORT, '').includes(':')) return undefined
  if (/[/?#@\\\s]/.test(host)) return undefined

  const probeHost = wildcard ? `${WILDCARD_LABEL}.${host}` : host
  const url = parseUrl(`${scheme ?? 'https'}://${probeHost}`)
  if (!url || !url.hostname) return undefined
  const probe = parseUrl(`${PORT_PROBE_SCHEME}://${probeHost}`)
  const port = probe?.port ? Number(probe.port) : null

  const hostname = url.hostname.toLowerCase()
  const parsedHost = wildcard ? hostname.slice(WILDCARD_LABEL.length + 1) : hostname
  if (!parsedHost || parsedHost.length > MAX_HOST_LENGTH || !isHostPart(parsedHost)) return undefined
  return { scheme, host: parsedHost, port, wildcard }
}

// A trailing dot (the fully qualified `com.`) names the same suffix: `*.com.` admits every `https://any.com.`.
const isRegistrySuffix = (written: string) => {
  const host = written.replace(/\.$/, '')
  return (!host.includes('.') && !LOCAL_ONLY_SUFFIXES.has(host)) || REGISTRY_SUFFIXES.has(host)
}

/** One entry, checked and normalized; throws InvalidEmbedHost with Polar's reasons. */
export function validateHostPattern(value: string): string {
  const entry = value.trim()
  if (!entry) throw new InvalidEmbedHost(value, 'it is empty')
  if (['', '*'].includes(entry.replace(/^\*\./, '').trim())) throw new InvalidEmbedHost(value, 'a bare wildcard would let any page embed')
  const sep = entry.indexOf('://')
  if (sep >= 0 && WEB_SCHEMES.has(entry.slice(0, sep).toLowerCase())) {
    throw new InvalidEmbedHost(value, 'write the host on its own. HTTPS is always allowed, and HTTP as well for localhost and private addresses')
  }
  const pattern = value.length <= MAX_EMBED_HOST_LENGTH ? parseHostPattern(value) : undefined
  if (!pattern) {
    throw new InvalidEmbedHost(value, 'write a host and an optional port, with no path. Between the dots, only letters, digits and hyphens')
  }
  if (pattern.wildcard && pattern.scheme === null && isRegistrySuffix(pattern.host)) {
    throw new InvalidEmbedHost(
      value,
      `${pattern.host.replace(/\.$/, '')} is a domain suffix, so this would admit every site registered under it. Name your own site, like myshop.${pattern.host.replace(/\.$/, '')}`,
    )
  }
  return patternString(pattern)
}

/** The whole list: every entry normalized, duplicates dropped, order kept (Polar's `validate_embed_hosts`). */
export function validateEmbedHosts(values: readonly string[]): string[] {
  const hosts: string[] = []
  for (const v of values) {
    const host = validateHostPattern(v)
    if (!hosts.includes(host)) hosts.push(host)
  }
  return hosts
}

export function patternMatches(p: HostPattern, o: ParsedOrigin): boolean {
  if (p.scheme === null) {
    if (o.scheme === 'http') {
      if (!isLocalHost(o.host)) return false
    } else if (o.scheme !== 'https') return false
  } else if (o.scheme !== p.scheme) return false
  const expectedPort = p.port ?? DEFAULT_PORTS[o.scheme] ?? null
  if (o.port !== expectedPort) return false
  return p.wildcard ? o.host.endsWith(`.${p.host}`) : o.host === p.host
}

/** The normalized origin when the list admits it, else undefined (Polar's `match_origin`). */
export function matchOrigin(origin: string, hosts: readonly string[]): string | undefined {
  const parsed = parseOrigin(origin)
  if (!parsed) return undefined
  for (const entry of hosts) {
    const p = parseHostPattern(entry)
    if (p && patternMatches(p, parsed)) return originString(parsed)
  }
  return undefined
}
