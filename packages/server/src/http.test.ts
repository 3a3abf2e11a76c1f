import { readFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import { connect } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { serve } from '@hono/node-server'
import { IMAGES_DIR } from '@resnet/test-support'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from './app.js'
import type { BatcherOptions } from './batcher.js'
import { WorkerDecoder } from './image-decoder.js'
import type { InferenceModel } from './model.js'
import { ServingState } from './serving-state.js'
import { expectOverloadSplit, openFixtureModel } from './test-support.js'

// The server over real HTTP on 127.0.0.1 with the MobileNetV2 fixture, decoding in a worker
// thread as the app does.
const decoder = new WorkerDecoder()
let model: InferenceModel
let photo: Buffer
const servers: Server[] = []

beforeAll(async () => {
  model = await openFixtureModel()
  photo = await readFile(`${IMAGES_DIR}kimono.jpg`)
})
afterAll(async () => {
  for (const s of servers) s.close()
  await model.close()
  await decoder.close()
})

async function start(batching: BatcherOptions): Promise<{ url: string; state: ServingState }> {
  const state = new ServingState(batching)
  state.setModel(model)
  const app = createApp({ state, logger: pino({ level: 'silent' }), decoder })
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => {
      resolve(s as Server)
    })
  })
  servers.push(server)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, state }
}

const post = (url: string, init: RequestInit = {}) => {
  const form = new FormData()
  form.append('image', new Blob([photo]))
  return fetch(`${url}/predict`, { method: 'POST', body: form, ...init })
}

const metric = (text: string, line: RegExp): number => Number(line.exec(text)?.[1] ?? NaN)

const BOUNDARY = '----Raw-Socket-Boundary-7MA4YWxk' // mixed case, as browsers and curl send

/** A predict request written by hand, so a test controls when (and whether) its body is sent. */
function rawPredict(url: string, image: Buffer): { socket: Socket; head: string; body: Buffer } {
  const body = Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n` +
        'Content-Type: image/jpeg\r\n\r\n'
    ),
    image,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ])
  const { port } = new URL(url)
  const head =
    `POST /predict HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
    `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\n` +
    `Content-Length: ${body.length}\r\n\r\n`
  return { socket: connect(Number(port), '127.0.0.1'), head, body }
}

/** Resolves with the first response's status line and headers read from a raw socket. */
const responseHead = (socket: Socket): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = ''
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      if (end >= 0) resolve(text.slice(0, end))
    })
    socket.on('error', reject)
  })

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('the server over HTTP', () => {
  it('batches concurrent requests (batch-size metric) and answers every one', async () => {
    const { url } = await start({ maxBatchSize: 8, maxQueue: 64 })
    const statuses = await Promise.all(
      Array.from({ length: 24 }, () => post(url).then((r) => r.status))
    )
    expect(statuses).toEqual(new Array(24).fill(200))
    const text = await (await fetch(`${url}/metrics`)).text()
    const runs = metric(text, /^inference_batch_size_count (\d+)/m)
    expect(metric(text, /^inference_batch_size_sum (\d+)/m)).toBe(24)
    expect(runs).toBeLessThan(24)
    expect(text).toMatch(/^model_info\{name="mobilenetv2-int8",version="test",sha256="f{64}"\} 1$/m)
    expect(text).toMatch(
      /^http_requests_total\{route="\/predict",method="POST",status="200"\} 24$/m
    )
    expect(text).toMatch(/^inference_stage_duration_seconds_count\{stage="queue"\} 24$/m)
  })

  it('answers overload with 503 + Retry-After at once, and every accepted request succeeds', async () => {
    const { url } = await start({ maxBatchSize: 2, maxQueue: 4 })
    const responses = await Promise.all(Array.from({ length: 40 }, () => post(url)))
    const accepted = await expectOverloadSplit(responses)
    for (const r of accepted)
      expect(((await r.json()) as { predictions: unknown[] }).predictions).toHaveLength(5)
  })

  it('uses the ALB trace id as the request id when no X-Request-Id is sent', async () => {
    const { url } = await start({ maxBatchSize: 8, maxQueue: 64 })
    const res = await fetch(`${url}/healthz`, {
      headers: { 'X-Amzn-Trace-Id': 'Root=1-67891233-abcdef012345678912345678' },
    })
    expect(res.headers.get('x-request-id')).toBe('Root=1-67891233-abcdef012345678912345678')
  })

  it('refuses an overloaded request before reading its body: 503 while the upload has not started', async () => {
    const { url, state } = await start({ maxBatchSize: 1, maxQueue: 1 })
    // the first request holds the only queue place while its body is still on its way
    const slow = rawPredict(url, photo)
    slow.socket.write(slow.head)
    await until(() => state.batcher!.reserved === 1, 'the first request to be admitted')
    const refused = rawPredict(url, photo)
    refused.socket.write(refused.head) // headers only: no byte of the body is ever sent
    const head = await responseHead(refused.socket)
    expect(head).toMatch(/^HTTP\/1\.1 503 /)
    expect(head).toMatch(/^retry-after: 1$/im)
    expect(head).toMatch(/^connection: close$/im) // its unread 600 KB body is not drained
    refused.socket.destroy()
    // the admitted one then uploads and is served
    const answer = responseHead(slow.socket)
    slow.socket.write(slow.body)
    expect(await answer).toMatch(/^HTTP\/1\.1 200 /)
    slow.socket.destroy()
    const text = await (await fetch(`${url}/metrics`)).text()
    expect(metric(text, /^rejected_requests_total\{reason="queue_full"\} (\d+)/m)).toBe(1)
  })

  it('keeps the connection of a refused request with a small body: drained, then reused', async () => {
    const { url, state } = await start({ maxBatchSize: 1, maxQueue: 1 })
    const small = await readFile(`${IMAGES_DIR}cat.jpg`)
    const slow = rawPredict(url, photo)
    slow.socket.write(slow.head)
    await until(() => state.batcher!.reserved === 1, 'the first request to be admitted')
    const refused = rawPredict(url, small)
    let text = ''
    let closed = false
    refused.socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')))
    refused.socket.on('close', () => (closed = true))
    refused.socket.write(Buffer.concat([Buffer.from(refused.head), refused.body]))
    await until(() => /\r\n\r\n\{.*\}$/s.test(text), 'the refusal')
    expect(text).toMatch(/^HTTP\/1\.1 503 /)
    expect(text).toMatch(/^retry-after: 1$/im)
    expect(text).not.toMatch(/^connection: close$/im)
    const answer = responseHead(slow.socket)
    slow.socket.write(slow.body)
    expect(await answer).toMatch(/^HTTP\/1\.1 200 /)
    slow.socket.destroy()
    // the same connection carries the next request, now admitted: the refused body was drained
    const refusal = text.length
    refused.socket.write(Buffer.concat([Buffer.from(refused.head), refused.body]))
    await until(() => text.slice(refusal).includes('"predictions"'), 'the second answer')
    expect(text.slice(refusal)).toMatch(/^HTTP\/1\.1 200 /)
    expect(closed).toBe(false)
    refused.socket.destroy()
  })

  it('drops the queued work of clients that disconnect; the others are still served', async () => {
    // a long batch delay keeps the images queued until the clients are gone
    const { url, state } = await start({ maxBatchSize: 8, maxQueue: 64, maxDelayMs: 1500 })
    const clients = Array.from({ length: 3 }, () => rawPredict(url, photo))
    for (const c of clients) c.socket.write(Buffer.concat([Buffer.from(c.head), c.body]))
    await until(() => state.batcher!.queued === 3, 'three queued images')
    const staying = responseHead(clients[2]!.socket)
    clients[0]!.socket.destroy()
    clients[1]!.socket.destroy()
    await until(() => state.batcher!.queued === 1, 'the two abandoned images to be dropped')
    expect(await staying).toMatch(/^HTTP\/1\.1 200 /)
    clients[2]!.socket.destroy()
    const text = await (await fetch(`${url}/metrics`)).text()
    expect(metric(text, /^rejected_requests_total\{reason="client_gone"\} (\d+)/m)).toBe(2)
    // only the image of the client that stayed was ever run
    expect(metric(text, /^inference_batch_size_sum (\d+)/m)).toBe(1)
  })

  it('answers a body that ends before its declared length with 400, and serves the next request', async () => {
    const { url } = await start({ maxBatchSize: 8, maxQueue: 64 })
    const cut = rawPredict(url, photo)
    const answer = responseHead(cut.socket)
    cut.socket.write(cut.head)
    cut.socket.end(cut.body.subarray(0, 1000)) // half-close: the rest never comes, replies can
    expect(await answer).toMatch(/^HTTP\/1\.1 400 /)
    cut.socket.destroy()
    const next = await post(url)
    expect(next.status).toBe(200)
  })

  it('refuses oversized bodies with 413: a declared length at once, a chunked one while reading', async () => {
    const { url } = await start({ maxBatchSize: 8, maxQueue: 64 })
    const declared = rawPredict(url, photo)
    const huge = declared.head.replace(/Content-Length: \d+/, 'Content-Length: 40000000')
    declared.socket.write(huge) // no body byte is sent
    expect(await responseHead(declared.socket)).toMatch(/^HTTP\/1\.1 413 /)
    declared.socket.destroy()
    const chunk = new Uint8Array(1024 * 1024)
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 40) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const chunked = await fetch(`${url}/predict`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'image/jpeg' },
      duplex: 'half',
    })
    expect(chunked.status).toBe(413)
    expect(await chunked.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } })
  })
})
