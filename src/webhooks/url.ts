import dns from 'node:dns'
import net from 'node:net'
import { fieldError } from '../http/errors'

/**
 * Where a webhook may be sent. Kassa POSTs to URLs its tenants choose, so without these rules an
 * endpoint could make the server call its own admin ports or the cloud metadata service (SSRF):
 *
 * - `https` to a host whose every address is public;
 * - with `WEBHOOKS_ALLOW_INSECURE` (local development, on by default on the embedded database):
 *   `https` to any address, and `http` to localhost or a loopback address.
 *
 * The rules are checked when an endpoint is created or updated (early feedback) and again on every
 * delivery, on the very addresses the connection uses ({@link guardedLookup}), so a DNS record changed
 * after the check (DNS rebinding) cannot reach a private address either.
 */
export type AddressPolicy = 'public' | 'loopback' | 'any'

const blocked = new net.BlockList()
for (const [net4, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services live here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net4, prefix, 'ipv4')
}
for (const [net6, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net6, prefix, 'ipv6')
}

const loopback = new net.BlockList()
loopback.addSubnet('127.0.0.0', 8, 'ipv4')
loopback.addAddress('::1', 'ipv6')

/** The IPv4 address carried inside NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase()
  const hextets = (() => {
    const [head, tail] = lower.split('::') as [string, string | undefined]
    const h = head ? head.split(':') : []
    const t = tail ? tail.split(':') : []
    if (tail === undefined) return h
    return [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t]
  })()
  if (hextets.length !== 8 || hextets.some((x) => x.includes('.'))) return undefined
  const n = hextets.map((x) => Number.parseInt(x || '0', 16))
  const v4 = (a: number, b: number) => `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`
  if (n[0] === 0x64 && n[1] === 0xff9b && n.slice(2, 6).every((x) => x === 0)) return v4(n[6]!, n[7]!)
  if (n[0] === 0x2002) return v4(n[1]!, n[2]!)
  return undefined
}

/** Whether an address (v4 or v6, IPv4-mapped included) is loopback, private, link-local or otherwise not public. */
export function isNonPublicAddress(address: string): boolean {
  const family = net.isIP(address)
  if (family === 0) return true
  if (family === 4) return blocked.check(address, 'ipv4')
  if (blocked.check(address, 'ipv6')) return true
  const inner = embeddedIpv4(address)
  return inner !== undefined && blocked.check(inner, 'ipv4')
}

export const isLoopbackAddress = (address: string): boolean => {
  const family = net.isIP(address)
  return family !== 0 && loopback.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

const isLocalhostName = (host: string) => host === 'localhost' || host.endsWith('.localhost')

/** `[::1]` → `::1`; names lose a trailing dot. */
const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase()

export interface UrlProblem {
  msg: string
  type: string
}

/**
 * The checks that need no DNS: scheme, host, and literal IP addresses. Returns the URL and the policy
 * its resolved addresses must then satisfy, or the problem.
 */
export function checkUrlSyntax(raw: string, allowInsecure: boolean): { url: URL; policy: AddressPolicy } | { problem: UrlProblem } {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return { problem: { msg: 'Input should be a valid URL', type: 'url_parsing' } }
  }
  // `new URL` accepts `https:example.com`; insist on the explicit `scheme://` form.
  if (!(url.protocol === 'https:' || url.protocol === 'http:') || !/^https?:\/\//i.test(raw)) {
    return { problem: { msg: allowInsecure ? "URL scheme should be 'https' or 'http'" : "URL scheme should be 'https'", type: 'url_scheme' } }
  }
  const host = bareHost(url)
  if (!host) return { problem: { msg: 'Input should be a valid URL, empty host', type: 'url_parsing' } }
  const literal = net.isIP(host) !== 0

  if (url.protocol === 'http:') {
    if (!allowInsecure) return { problem: { msg: "URL scheme should be 'https'", type: 'url_scheme' } }
    if (literal ? !isLoopbackAddress(host) : !isLocalhostName(host)) {
      return { problem: { msg: "URL scheme should be 'https': http is only allowed to localhost or a loopback address", type: 'url_scheme' } }
    }
    return { url, policy: 'loopback' }
  }
  if (allowInsecure) return { url, policy: 'any' }
  if ((literal && isNonPublicAddress(host)) || isLocalhostName(host)) {
    return { problem: { msg: 'The URL must not point to a loopback, private or link-local address.', type: 'value_error' } }
  }
  return { url, policy: 'public' }
}

const addressAllowed = (address: string, policy: AddressPolicy) =>
  policy === 'any' || (policy === 'loopback' ? isLoopbackAddress(address) : !isNonPublicAddress(address))

/**
 * Validates an endpoint URL when it is created or updated; throws the 422 for `body.url`. A host that
 * does not exist is refused; a DNS failure of another kind (a timeout) is not, since every delivery
 * checks the addresses again.
 */
export async function assertEndpointUrl(raw: string, allowInsecure: boolean): Promise<string> {
  const checked = checkUrlSyntax(raw, allowInsecure)
  if ('problem' in checked) throw fieldError(['body', 'url'], checked.problem.msg, raw, checked.problem.type)
  const { url, policy } = checked
  const host = bareHost(url)
  if (policy === 'any' || net.isIP(host) !== 0) return url.href
  let addresses: dns.LookupAddress[]
  try {
    addresses = await dns.promises.lookup(host, { all: true, verbatim: true })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOTFOUND' || code === 'ENODATA') throw fieldError(['body', 'url'], `The URL's host "${host}" could not be resolved.`, raw)
    return url.href
  }
  const bad = addresses.find((a) => !addressAllowed(a.address, policy))
  if (bad) {
    throw fieldError(
      ['body', 'url'],
      policy === 'loopback'
        ? `The URL's host resolves to ${bad.address}, which is not a loopback address.`
        : `The URL's host resolves to ${bad.address}, a loopback, private or link-local address.`,
      raw,
    )
  }
  return url.href
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void

/**
 * A `lookup` for `http.request` that refuses addresses the policy does not allow: the check is on the
 * addresses the socket then connects to, so there is no window between check and use.
 */
export function guardedLookup(policy: AddressPolicy) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '')
      const bad = addresses.find((a) => !addressAllowed(a.address, policy))
      if (bad || addresses.length === 0) {
        const e: NodeJS.ErrnoException = new Error(
          bad ? `${hostname} resolves to ${bad.address}, which webhooks may not be sent to` : `${hostname} has no address`,
        )
        e.code = 'EADDRNOTALLOWED'
        return callback(e, '')
      }
      if (options.all) return callback(null, addresses)
      callback(null, addresses[0]!.address, addresses[0]!.family)
    })
  }
}
