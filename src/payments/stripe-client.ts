import Stripe from 'stripe'

const clients = new Map<string, Stripe>()

/**
 * The official Stripe client for a secret key, made once per (key, apiUrl) and reused. `apiUrl` points it
 * elsewhere than api.stripe.com (the tests' fake Stripe). Two network retries (the library resends POSTs with
 * the same Idempotency-Key, so a retry replays rather than repeats) and a 20 s timeout.
 */
export function stripeClient(secretKey: string, opts: { apiUrl?: string } = {}): Stripe {
  const cacheKey = `${secretKey}\n${opts.apiUrl ?? ''}`
  const cached = clients.get(cacheKey)
  if (cached) return cached
  const config: Stripe.StripeConfig = { maxNetworkRetries: 2, timeout: 20_000 }
  if (opts.apiUrl) {
    const url = new URL(opts.apiUrl)
    const protocol = url.protocol.replace(/:$/, '')
    if (protocol !== 'http' && protocol !== 'https') throw new Error(`stripeClient: apiUrl must be http(s), got ${opts.apiUrl}`)
    config.host = url.hostname
    config.protocol = protocol
    config.port = url.port || (protocol === 'https' ? 443 : 80)
  }
  const client = new Stripe(secretKey, config)
  clients.set(cacheKey, client)
  return client
}

/** Whether a Stripe key (secret `sk_`, restricted `rk_` or publishable `pk_`) is a test-mode or a live-mode key. */
export function stripeKeyMode(key: string): 'test' | 'live' {
  const m = /^(?:sk|rk|pk)_(test|live)_/.exec(key)
  if (!m) throw new Error('Not a Stripe API key (expected sk_test_…, sk_live_…, rk_… or pk_…)')
  return m[1] as 'test' | 'live'
}
