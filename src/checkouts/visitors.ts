import { isbot } from 'isbot'

/**
 * Who is visiting a link (issue 10, DESIGN.md "A link visit"):
 * - `prefetch`: the browser asks ahead of a navigation that may never happen (speculation rules,
 *   `<link rel=prefetch>`, Firefox's and Safari's own prefetchers). No session; see `PREFETCH_ANSWER`.
 * - `preview`: a link previewer or crawler (Slack, Discord, WhatsApp, Telegram, iMessage, Facebook, X,
 *   LinkedIn, search engines…), as `isbot`'s maintained list knows them. It gets the preview page.
 * - `person`: everyone else, who gets a session as before.
 */
export type VisitorKind = 'person' | 'preview' | 'prefetch'

/**
 * `isbot` also flags every HTTP library (curl, python-requests, Go, Java, Node's fetch…) and headless
 * browsers. Those are integrators, scripts and end-to-end tests that follow the link to get a session,
 * not link previewers: a user agent whose first product token names an HTTP library, or that is a
 * headless browser, is a person here. Previewers are left entirely to `isbot`'s maintained list (a new
 * one is recognised by updating the package); this only says which of its matches are not previewers.
 */
const HTTP_LIBRARY =
  /^(curl|wget|python-requests|python-urllib|python-httpx|aiohttp|httpx|go-http-client|axios|node-fetch|node|undici|got|ky|okhttp|java|apache-httpclient|jakarta commons-httpclient|ruby|faraday|guzzlehttp|libwww-perl|lwp::simple|postmanruntime|insomnia|httpie|k6|autocannon|lightmyrequest|dart|reqwest|hyper|rest-client|restsharp|powershell|winhttp)([/\s(;]|$)/i
const HEADLESS = /\bHeadlessChrome\//

/** Real previewers (test/visitors.test.ts checks these and more against the list). */
export const PREVIEWERS = [
  'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
  'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)',
  'WhatsApp/2.23.20.0 A',
  'TelegramBot (like TwitterBot)',
  'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
  'Twitterbot/1.0',
  'LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
]

/** `Sec-Purpose: prefetch` (and `prefetch;prerender`), `Purpose: prefetch`, `X-Purpose: preview`, `X-Moz: prefetch`. */
const PREFETCH = /^\s*(prefetch|prerender|preview)\b/i

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)

export function classifyVisitor(headers: Record<string, string | string[] | undefined>): VisitorKind {
  for (const name of ['sec-purpose', 'purpose', 'x-purpose', 'x-moz']) {
    const v = header(headers[name])
    if (v && PREFETCH.test(v)) return 'prefetch'
  }
  const ua = header(headers['user-agent'])
  if (!ua || HTTP_LIBRARY.test(ua) || HEADLESS.test(ua)) return 'person'
  return isbot(ua) ? 'preview' : 'person'
}
