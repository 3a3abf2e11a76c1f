import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BODY_BUFFER_BYTES, directGet, releaseBodyBuffer, requestTarget } from './direct-get.js'
import type { SignedRequest } from './direct-get.js'

const closers: (() => void)[] = []
afterEach(() => {
  for (const close of closers.splice(0)) close()
})

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(() => server.close())
  return (server.address() as AddressInfo).port
}

const httpServer = (handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> =>
  listen(createServer(handle))

/** A server that writes `reply(socket)` by hand: heads and bodies no Node server would send. */
const rawServer = (reply: (socket: net.Socket) => void): Promise<number> =>
  listen(
    net.createServer((socket) => {
      socket.once('data', () => {
        reply(socket)
      })
      socket.on('error', () => undefined)
    })
  )

const get = (port: number, extra: Partial<SignedRequest> = {}): SignedRequest => ({
  method: 'GET',
  protocol: 'http:',
  hostname: '127.0.0.1',
  port,
  path: '/bucket/model.onnx',
  headers: { 'x-amz-date': '20261125T000000Z' },
  ...extra,
})

/** Reads a body the way the loader does: hash each chunk, then give its buffer back. */
async function consume(body: AsyncIterable<Uint8Array>): Promise<{ sha: string; sizes: number[] }> {
  const hash = createHash('sha256')
  const sizes: number[] = []
  for await (const chunk of body) {
    hash.update(chunk)
    sizes.push(chunk.length)
    releaseBodyBuffer(chunk) // reused at once: a bug in the hold counting corrupts later bytes
  }
  return { sha: hash.digest('hex'), sizes }
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('directGet', () => {
  it('reads a Content-Length body of many reads into whole buffers, reused without corruption', async () => {
    const data = randomBytes(5 * BODY_BUFFER_BYTES + 12345)
    let seen: IncomingMessage | undefined
    const port = await httpServer((req, res) => {
      seen = req
      res.writeHead(200, { 'content-length': data.length, etag: '"abc"' })
      // many small writes: the body arrives in many socket reads
      for (let at = 0; at < data.length; at += 16 * 1024)
        res.write(data.subarray(at, at + 16 * 1024))
      res.end()
    })
    const response = await directGet(
      get(port, { query: { 'x-id': 'GetObject', versionId: 'v 1' } })
    )
    expect(response.statusCode).toBe(200)
    expect(response.headers.etag).toBe('"abc"')
    const { sha: got, sizes } = await consume(response.body)
    expect(got).toBe(sha(data))
    // the body comes in few large chunks, not one per 64 KiB socket read
    expect(sizes.length).toBeLessThanOrEqual(
      Math.ceil(data.length / (BODY_BUFFER_BYTES - 64 * 1024)) + 1
    )
    expect(seen?.url).toBe('/bucket/model.onnx?x-id=GetObject&versionId=v%201')
    expect(seen?.headers['x-amz-date']).toBe('20261125T000000Z')
    expect(seen?.headers.connection).toBe('close')
  })

  it('decodes a chunked body (S3 error responses) and parses the status and headers', async () => {
    const xml =
      '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'
    const port = await httpServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/xml', 'x-amz-request-id': 'r1' })
      res.write(xml.slice(0, 20))
      setTimeout(() => res.end(xml.slice(20)), 20)
    })
    const response = await directGet(get(port))
    expect(response.statusCode).toBe(503)
    expect(response.reason).toBe('Service Unavailable')
    expect(response.headers['transfer-encoding']).toBe('chunked')
    expect(response.headers['x-amz-request-id']).toBe('r1')
    let text = ''
    for await (const chunk of response.body) text += Buffer.from(chunk as Uint8Array).toString()
    expect(text).toBe(xml)
  })

  it('parses a head split over several reads and a body ending at close (no length)', async () => {
    const body = randomBytes(300_000)
    const port = await rawServer((socket) => {
      const head = 'HTTP/1.1 200 OK\r\nX-Split: yes\r\nX-Twice: a\r\nx-twice: b\r\n\r\n'
      socket.write(head.slice(0, 10))
      setTimeout(() => socket.write(head.slice(10, 31)), 10)
      setTimeout(() => socket.write(head.slice(31)), 20)
      setTimeout(() => socket.end(body), 30)
    })
    const response = await directGet(get(port))
    expect(response.headers['x-split']).toBe('yes')
    expect(response.headers['x-twice']).toBe('a, b')
    expect((await consume(response.body)).sha).toBe(sha(body))
  })

  it('fails a body cut short with a retryable ECONNRESET, after handing on the bytes that came', async () => {
    const port = await rawServer((socket) => {
      socket.write('HTTP/1.1 206 Partial Content\r\nContent-Length: 200000\r\n\r\n')
      socket.end(Buffer.alloc(50_000, 7))
    })
    const response = await directGet(get(port))
    let received = 0
    // flowing, as when piped into the file writer: every byte that arrived is handed on
    response.body.on('data', (chunk: Uint8Array) => (received += chunk.length))
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
      response.body.on('error', resolve)
    })
    expect(err.code).toBe('ECONNRESET')
    expect(err.message).toMatch(/150000 body bytes missing/)
    expect(received).toBe(50_000)
  })

  it('rejects a garbled status line and a connection closed before any response', async () => {
    const garbled = await rawServer((socket) => {
      socket.end('SSH-2.0-OpenSSH\r\n\r\n')
    })
    await expect(directGet(get(garbled))).rejects.toMatchObject({ code: 'ECONNRESET' })
    const silent = await rawServer((socket) => {
      socket.end()
    })
    const err = await directGet(get(silent)).catch((e: unknown) => e as NodeJS.ErrnoException)
    expect(err).toMatchObject({ code: 'ECONNRESET' })
    expect((err as Error).message).toMatch(/closed/)
  })

  it("stops at an abort, before and during the body, with the SDK handler's AbortError", async () => {
    const stall = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n')
      socket.write(Buffer.alloc(1000)) // and then nothing
    })
    const during = new AbortController()
    const response = await directGet(get(stall), during.signal)
    setTimeout(() => {
      during.abort(new Error('no data for 50 ms (stalled connection)'))
    }, 50)
    const err = await (async () => {
      for await (const chunk of response.body) expect(chunk).toBeDefined()
    })().catch((e: unknown) => e as Error)
    expect(err).toMatchObject({ name: 'AbortError', message: 'Request aborted' })
    expect((err as Error).cause).toMatchObject({ message: /stalled/ })

    const before = new AbortController()
    const silent = await rawServer(() => undefined) // reads the request, never answers
    const pending = directGet(get(silent), before.signal)
    before.abort()
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('speaks TLS, verifying the server certificate against the CA it is given', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'direct-get-tls-'))
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')]
    execFileSync(
      'openssl',
      [
        ...[
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
        ],
        ...['-keyout', key, '-out', cert, '-addext', 'subjectAltName=DNS:localhost'],
      ],
      { stdio: 'ignore' }
    )
    const data = randomBytes(2 * BODY_BUFFER_BYTES)
    const server = createHttpsServer(
      { key: readFileSync(key), cert: readFileSync(cert) },
      (_req, res) => {
        res.writeHead(200, { 'content-length': data.length }).end(data)
      }
    )
    const port = await listen(server)
    const request = get(port, { protocol: 'https:', hostname: 'localhost' })
    await expect(directGet(request)).rejects.toThrow(/self-signed|certificate/)
    const response = await directGet(request, undefined, { ca: readFileSync(cert) })
    expect((await consume(response.body)).sha).toBe(sha(data))
  })

  it('builds the request target as the SDK does: encoded path kept, query escaped', () => {
    const target = requestTarget({
      ...get(1),
      path: '/b/a%20key.onnx',
      query: { 'x-id': 'GetObject', versionId: "3/L4kqtJl(*)'!", flag: null, many: ['1', '2'] },
    })
    expect(target).toBe(
      '/b/a%20key.onnx?x-id=GetObject&versionId=3%2FL4kqtJl%28%2A%29%27%21&flag&many=1&many=2'
    )
  })
})
