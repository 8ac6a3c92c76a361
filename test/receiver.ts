import http, { type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll } from 'vitest'

export interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
}

/**
 * A webhook receiver on a loopback port that answers every request 204 and keeps what it got, in order;
 * closed after the calling file's tests. `url(path)` is its address with that path (`/hook` by default).
 */
export async function webhookReceiver(): Promise<{ received: Received[]; url: (path?: string) => string }> {
  const received: Received[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })
  const port = (server.address() as AddressInfo).port
  return { received, url: (path = '/hook') => `http://127.0.0.1:${port}${path}` }
}
