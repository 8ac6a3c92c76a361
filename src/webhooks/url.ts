import dns from 'node:dns'
import net from 'node:net'
import { fieldError } from '../http/errors'

/**
 * Where a webhook may be sent. Kassa POSTs to URLs its tenants choose, so without these rules an
 * endpoint could make the server call its own admin ports or the cloud metadata service (SSRF):
 *
 * - `https` to a host whose every address is public;
 * - with `WEBHOOKS_ALLOW_INSECURE` (local development, on by default on the embedded database):
 *   `https` to public, loopback and private addresses (`insecure`), and `http` to localhost, loopback
 *   or private addresses only (`local`);
 * - never, in any mode: link-local and cloud-metadata addresses ({@link isForbiddenAddress}), however spelled.
 *
 * The rules are checked when an endpoint is created or updated (early feedback) and again on every
 * delivery, on the very addresses the connection uses ({@link guardedLookup}), so a DNS record changed
 * after the check (DNS rebinding) cannot reach a private address either.
 */
export type AddressPolicy = 'public' | 'local' | 'insecure'

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

/** The eight hextets of an IPv6 address (a dotted IPv4 tail folded in), or undefined. */
function hextetsOf(address: string): number[] | undefined {
  let lower = address.toLowerCase()
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(lower)
  if (dotted) {
    const o = dotted[2]!.split('.').map(Number)
    lower = `${dotted[1]}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`
  }
  const [head, tail] = lower.split('::') as [string, string | undefined]
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const all = tail === undefined ? h : [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t]
  if (all.length !== 8) return undefined
  return all.map((x) => Number.parseInt(x || '0', 16))
}

const v4 = (a: number, b: number) => `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`

/**
 * The IPv4 address an IPv6 address carries: IPv4-mapped (`::ffff:0:0/96`, dotted or hex), NAT64
 * (`64:ff9b::/96`) and 6to4 (`2002::/16`). IPv4-compatible `::/96`, local NAT64 `64:ff9b:1::/48` and
 * Teredo `2001::/32` are refused whole ({@link alwaysBlocked}), so they need no decoding.
 */
function embeddedIpv4(address: string): string | undefined {
  const n = hextetsOf(address)
  if (!n) return undefined
  if (n.slice(0, 5).every((x) => x === 0) && n[5] === 0xffff) return v4(n[6]!, n[7]!)
  if (n[0] === 0x64 && n[1] === 0xff9b && n.slice(2, 6).every((x) => x === 0)) return v4(n[6]!, n[7]!)
  if (n[0] === 0x2002) return v4(n[1]!, n[2]!)
  return undefined
}

/**
 * Refused in every mode, `WEBHOOKS_ALLOW_INSECURE` included: link-local and the cloud metadata services
 * (AWS's IPv6 one is `fd00:ec2::254`), and the IPv6 transition prefixes whose embedded IPv4 we do not decode.
 */
const alwaysBlocked = new net.BlockList()
alwaysBlocked.addSubnet('169.254.0.0', 16, 'ipv4')
for (const [net6, prefix] of [
  ['fe80::', 10], // link-local
  ['fd00:ec2::254', 128], // AWS metadata over IPv6
  ['::', 96], // IPv4-compatible (deprecated); `::1`, loopback, is let through below
  ['64:ff9b:1::', 48], // local-use NAT64
  ['2001::', 32], // Teredo: an obfuscated IPv4 inside
] as const) {
  alwaysBlocked.addSubnet(net6, prefix, 'ipv6')
}

/** Link-local, metadata, or a transition form of one: never a webhook target. */
export function isForbiddenAddress(address: string): boolean {
  const family = net.isIP(address)
  if (family === 0) return true
  if (family === 4) return alwaysBlocked.check(address, 'ipv4')
  if (loopback.check(address, 'ipv6')) return false
  if (alwaysBlocked.check(address, 'ipv6')) return true
  const inner = embeddedIpv4(address)
  return inner !== undefined && alwaysBlocked.check(inner, 'ipv4')
}

/** Whether an address (v4 or v6, IPv4-mapped included) is loopback, private, link-local or otherwise not public. */
export function isNonPublicAddress(address: string): boolean {
  const family = net.isIP(address)
  if (family === 0) return true
  if (isForbiddenAddress(address)) return true
  if (family === 4) return blocked.check(address, 'ipv4')
  if (blocked.check(address, 'ipv6')) return true
  const inner = embeddedIpv4(address)
  return inner !== undefined && blocked.check(inner, 'ipv4')
}

export const isLoopbackAddress = (address: string): boolean => {
  const family = net.isIP(address)
  if (family === 0) return false
  if (family === 4) return loopback.check(address, 'ipv4')
  if (loopback.check(address, 'ipv6')) return true
  const inner = embeddedIpv4(address)
  return inner !== undefined && loopback.check(inner, 'ipv4')
}

/** Loopback or a private range (10/8, 172.16/12, 192.168/16, fc00::/7, and their embedded forms). */
export const isLocalAddress = (address: string): boolean => {
  if (isForbiddenAddress(address)) return false
  if (isLoopbackAddress(address)) return true
  const family = net.isIP(address)
  const inner = family === 6 ? (embeddedIpv4(address) ?? address) : address
  return net.isIP(inner) === 4 ? privateV4.check(inner, 'ipv4') : privateV6.check(inner, 'ipv6')
}

const privateV4 = new net.BlockList()
for (const [a, p] of [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) privateV4.addSubnet(a, p, 'ipv4')
const privateV6 = new net.BlockList()
privateV6.addSubnet('fc00::', 7, 'ipv6')

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
  // WHATWG parsing has already normalized `2852039166`, `0xa9.0xfe.0xa9.0xfe` or `0251.0376.0251.0376`
  // to `169.254.169.254`, and `[::ffff:a9fe:a9fe]` to its canonical form: the checks see the real address.
  const host = bareHost(url)
  if (!host) return { problem: { msg: 'Input should be a valid URL, empty host', type: 'url_parsing' } }
  const literal = net.isIP(host) !== 0
  const refused = { problem: { msg: NOT_ALLOWED, type: 'value_error' } }
  if (literal && isForbiddenAddress(host)) return refused

  if (url.protocol === 'http:') {
    if (!allowInsecure) return { problem: { msg: "URL scheme should be 'https'", type: 'url_scheme' } }
    // A name is checked on its resolved addresses (`local`), here and at every connection.
    if (literal && !isLocalAddress(host)) return { problem: { msg: HTTP_LOCAL_ONLY, type: 'url_scheme' } }
    return { url, policy: 'local' }
  }
  if (allowInsecure) return { url, policy: 'insecure' }
  if ((literal && isNonPublicAddress(host)) || isLocalhostName(host)) return refused
  return { url, policy: 'public' }
}

const NOT_ALLOWED = 'The URL must not point to a loopback, private, link-local or cloud metadata address.'
const HTTP_LOCAL_ONLY = "URL scheme should be 'https': http is only allowed to localhost, a loopback or a private address"

const addressAllowed = (address: string, policy: AddressPolicy) =>
  policy === 'insecure' ? !isForbiddenAddress(address) : policy === 'local' ? isLocalAddress(address) : !isNonPublicAddress(address)

/** Resolves a host to all its addresses; injectable so tests need no DNS. */
export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>
const systemResolver: Resolver = (host) => dns.promises.lookup(host, { all: true, verbatim: true })

/**
 * Validates an endpoint URL when it is created or updated; throws the 422 for `body.url`. A host that
 * does not exist is refused; a DNS failure of another kind (a timeout) is not, since every delivery
 * checks the addresses again. The message never names the address a host resolved to: that would
 * tell a tenant about the server's internal network.
 */
export async function assertEndpointUrl(raw: string, allowInsecure: boolean, resolve: Resolver = systemResolver): Promise<string> {
  const checked = checkUrlSyntax(raw, allowInsecure)
  if ('problem' in checked) throw fieldError(['body', 'url'], checked.problem.msg, raw, checked.problem.type)
  const { url, policy } = checked
  const host = bareHost(url)
  if (net.isIP(host) !== 0) return url.href
  let addresses: { address: string }[]
  try {
    addresses = await resolve(host)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    // In insecure (development) mode an unresolvable name is let through, as before: delivery checks it.
    if (policy === 'public' && (code === 'ENOTFOUND' || code === 'ENODATA')) throw fieldError(['body', 'url'], "The URL's host could not be resolved.", raw)
    return url.href
  }
  if (addresses.some((a) => !addressAllowed(a.address, policy))) {
    throw fieldError(
      ['body', 'url'],
      policy === 'local' ? "The URL's host must resolve only to loopback or private addresses for http." : `The URL's host resolves to an address webhooks may not be sent to. ${NOT_ALLOWED}`,
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
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback, lookup: typeof dns.lookup = dns.lookup): void => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '')
      const bad = addresses.find((a) => !addressAllowed(a.address, policy))
      if (bad || addresses.length === 0) {
        const e: NodeJS.ErrnoException = new Error(
          bad ? `${hostname} resolves to an address webhooks may not be sent to` : `${hostname} has no address`,
        )
        e.code = 'EADDRNOTALLOWED'
        return callback(e, '')
      }
      if (options.all) return callback(null, addresses)
      callback(null, addresses[0]!.address, addresses[0]!.family)
    })
  }
}
