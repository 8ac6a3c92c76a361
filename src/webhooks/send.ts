import http from 'node:http'
import https from 'node:https'
import { performance } from 'node:perf_hooks'
import { Webhook } from 'standardwebhooks'
import { checkUrlSyntax, guardedLookup } from './url'

export const DELIVERY_TIMEOUT_MS = 10_000
/** The part of a response body kept in the delivery log. */
export const RESPONSE_LOG_BYTES = 2048
/** Read (and discard) at most this much of a response, so a keep-alive socket can be reused. */
const RESPONSE_READ_BYTES = 64 * 1024

const USER_AGENT = 'Kassa-Webhooks (+https://www.standardwebhooks.com)'

// Keep-alive, with the idle timeout Node's global agents use.
const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: 5000 }),
  'https:': new https.Agent({ keepAlive: true, timeout: 5000 }),
}

/**
 * The Standard Webhooks headers. The HMAC key is the UTF-8 bytes of the whole secret string
 * (`polar_whs_…`), as Polar does: `validateEvent(body, headers, secret)` from `@polar-sh/sdk/webhooks`
 * verifies with the secret as given; with `standardwebhooks` directly, pass `base64(secret)`.
 */
export function signatureHeaders(secret: string, webhookId: string, at: Date, body: string): Record<string, string> {
  const signer = new Webhook(Buffer.from(secret, 'utf8').toString('base64'))
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signer.sign(webhookId, at, body),
  }
}

export interface SendResult {
  ok: boolean
  /** null when no HTTP answer came (refused, timed out, address not allowed). */
  status: number | null
  /** The first 2 KB of the response body. */
  body: string | null
  error: string | null
  durationMs: number
}

const decoder = () => new TextDecoder('utf-8', { fatal: false })

/**
 * One POST of a webhook body. Never throws: every outcome is a result to log. A 2xx is a success;
 * anything else (3xx included: redirects are not followed) is a failure.
 */
export function postWebhook(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  opts: { allowInsecure: boolean; timeoutMs?: number; signal?: AbortSignal },
): Promise<SendResult> {
  const started = performance.now()
  const elapsed = () => Math.max(0, Math.round(performance.now() - started))
  const checked = checkUrlSyntax(rawUrl, opts.allowInsecure)
  if ('problem' in checked) {
    return Promise.resolve({ ok: false, status: null, body: null, error: `URL refused: ${checked.problem.msg}`, durationMs: 0 })
  }
  const { url, policy } = checked
  const timeoutMs = opts.timeoutMs ?? DELIVERY_TIMEOUT_MS
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout
  const transport = url.protocol === 'https:' ? https : http

  return new Promise<SendResult>((resolve) => {
    let settled = false
    let status: number | null = null
    const kept: Buffer[] = []
    let keptBytes = 0
    let readBytes = 0

    const finish = (error: unknown) => {
      if (settled) return
      settled = true
      const text = kept.length ? decoder().decode(Buffer.concat(kept)) : status === null ? null : ''
      if (status !== null) {
        // An answer came: the status decides, even if the body was cut short.
        resolve({ ok: status >= 200 && status < 300, status, body: text, error: null, durationMs: elapsed() })
      } else {
        resolve({ ok: false, status: null, body: null, error: describeError(error, timeout, timeoutMs), durationMs: elapsed() })
      }
    }

    let req: http.ClientRequest
    try {
      req = transport.request(
        url,
        {
          method: 'POST',
          agent: agents[url.protocol as 'http:' | 'https:'],
          headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': USER_AGENT },
          lookup: guardedLookup(policy) as never,
          signal,
        },
        (res) => {
          status = res.statusCode ?? null
          res.on('data', (chunk: Buffer) => {
            readBytes += chunk.length
            if (keptBytes < RESPONSE_LOG_BYTES) {
              const part = chunk.subarray(0, RESPONSE_LOG_BYTES - keptBytes)
              kept.push(part)
              keptBytes += part.length
            }
            if (readBytes > RESPONSE_READ_BYTES) {
              finish(null)
              res.destroy()
            }
          })
          res.on('end', () => finish(null))
          res.on('error', (err) => finish(err))
          res.on('close', () => finish(null))
        },
      )
    } catch (err) {
      finish(err)
      return
    }
    req.on('error', (err) => finish(err))
    req.end(body)
  })
}

function describeError(err: unknown, timeout: AbortSignal, timeoutMs: number): string {
  if (timeout.aborted) return `Timed out after ${timeoutMs / 1000} s`
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    if (err.name === 'AbortError') return 'Aborted: the delivery job ran out of time'
    return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message
  }
  return String(err ?? 'unknown error')
}
