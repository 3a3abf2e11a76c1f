/** A real HTTP reverse proxy on 127.0.0.1 that counts the requests passing through it. */
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A running proxy: its URL, and the requests it forwarded as `METHOD /path`. */
export interface CountingProxy {
  readonly url: string
  readonly requests: readonly string[]
  /** How many forwarded requests match `method` and whose path contains `pathPart`. */
  count(method: string, pathPart?: string): number
  close(): Promise<void>
}

/** Forwards every request to `target` (http://host:port) unchanged, recording it. */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target)
  const requests: string[] = []
  const server = createServer((req, res) => {
    requests.push(`${req.method ?? '?'} ${req.url ?? ''}`)
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      }
    )
    out.on('error', () => res.destroy())
    req.pipe(out)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (method, pathPart = '') =>
      requests.filter((r) => r.startsWith(`${method} `) && r.includes(pathPart)).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
}
