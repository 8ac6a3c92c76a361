import { z } from 'zod'
import { InvalidEmbedHost, MAX_EMBED_HOSTS, MAX_EMBED_HOST_LENGTH, validateEmbedHosts } from './embed-hosts'

export const EMBED_HOSTS_DESCRIPTION =
  "Hosts allowed to embed this organization's checkout. An entry is a host and an optional port, without a scheme: " +
  'HTTPS is always allowed, and HTTP too for local hosts — `localhost`, any `.localhost` or `.local` name, and loopback or ' +
  'private addresses. `*.example.com` matches any subdomain, but not `example.com` itself. An app origin such as ' +
  '`chrome-extension://abcdef` carries its scheme, having no host to match on. Kassa always enforces the list: an empty ' +
  `list lets no page embed the checkout. Stricter than Polar: at most ${MAX_EMBED_HOSTS} entries of at most ${MAX_EMBED_HOST_LENGTH} characters.`

/** Polar's `EmbedHostsInput`: the list is checked as a whole, so an issue's `loc` is `["body", "embed_hosts"]`. */
export const EmbedHostsInput = z
  .array(z.string().max(MAX_EMBED_HOST_LENGTH))
  .max(MAX_EMBED_HOSTS)
  .transform((values, ctx) => {
    try {
      return validateEmbedHosts(values)
    } catch (err) {
      if (!(err instanceof InvalidEmbedHost)) throw err
      ctx.issues.push({ code: 'custom', input: values, message: `Value error, ${err.message}`, params: { type: 'value_error' } })
      return z.NEVER
    }
  })
  .describe(EMBED_HOSTS_DESCRIPTION)
