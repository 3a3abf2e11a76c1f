/**
 * A real HTTP reverse proxy on 127.0.0.1 that misbehaves like a struggling S3 front end: it answers
 * 500/503 with S3 error XML a number of times, truncates bodies (the full Content-Length is
 * announced, fewer bytes are sent, then the connection closes) or flips a byte of a body.
 */
import { createServer, request } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request as the proxy saw it, and the status it answered. */
export interface SeenRequest {
  readonly method: string
  readonly path: string
  readonly range: string | undefined
  readonly fault: 'status' | 'truncate' | 'corrupt' | undefined
}

/** A running flaky proxy. */
export interface FlakyProxy {
  readonly url: string
  readonly requests: readonly SeenRequest[]
  /** The next `times` requests (of `method`, default any) are answered `status` (500 or 503). */
  failNext(times: number, status: 500 | 503, method?: string): void
  /** The next `times` GET bodies stop after `bytes` bytes, though the headers promise more. */
  truncateNext(times: number, bytes: number): void
  /** The next `times` GET bodies have the byte at `offset` inverted. */
  corruptNext(times: number, offset?: number): void
  /** Forgets the faults not yet used. */
  reset(): void
  close(): Promise<void>
}

interface Rule {
  kind: 'status' | 'truncate' | 'corrupt'
  times: number
  method: string | undefined
  value: number
}

const S3_ERRORS: Record<number, string> = {
  500: '<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>',
  503: '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
}

function takeRule(rules: Rule[], method: string): Rule | undefined {
  const rule = rules.find((r) => r.times > 0 && (r.method === undefined || r.method === method))
  if (rule) rule.times--
  return rule
}

function forward(
  target: URL,
  req: IncomingMessage,
  res: ServerResponse,
  rule: Rule | undefined
): void {
  const out = request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      let offset = 0
      answer.on('data', (chunk: Buffer) => {
        const start = offset
        offset += chunk.length
        if (rule?.kind === 'truncate' && offset >= rule.value) {
          answer.destroy()
          res.write(chunk.subarray(0, rule.value - start), () => res.socket?.destroy())
          return
        }
        if (rule?.kind === 'corrupt' && rule.value >= start && rule.value < offset) {
          chunk = Buffer.from(chunk)
          chunk[rule.value - start] = ~chunk[rule.value - start]! & 0xff
        }
        res.write(chunk)
      })
      answer.on('end', () => res.end())
    }
  )
  out.on('error', () => res.destroy())
  req.pipe(out)
}

/** Starts a flaky proxy in front of `target` (`http://host:port`). */
export async function startFlakyProxy(target: string): Promise<FlakyProxy> {
  const upstream = new URL(target)
  const rules: Rule[] = []
  const requests: SeenRequest[] = []
  const server = createServer((req, res) => {
    const method = req.method ?? 'GET'
    const rule = takeRule(rules, method)
    const range = req.headers.range
    requests.push({ method, path: req.url ?? '', range, fault: rule?.kind })
    if (rule?.kind === 'status') {
      req.resume()
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n${S3_ERRORS[rule.value] ?? ''}`
      res
        .writeHead(rule.value, { 'content-type': 'application/xml' })
        .end(method === 'HEAD' ? undefined : body)
      return
    }
    forward(upstream, req, res, rule)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(times, status, method) {
      rules.push({ kind: 'status', times, method, value: status })
    },
    truncateNext(times, bytes) {
      rules.push({ kind: 'truncate', times, method: 'GET', value: bytes })
    },
    corruptNext(times, offset = 0) {
      rules.push({ kind: 'corrupt', times, method: 'GET', value: offset })
    },
    reset() {
      rules.length = 0
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
}
