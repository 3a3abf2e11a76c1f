import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadModel } from './load-model.js'
import { randomOnnx } from './test-support/helpers.js'

const PART = 64 * 1024
let model = randomOnnx(5 * PART)
let lastModified = 'Mon, 01 Jan 2024 00:00:00 GMT'
let status = 200
let cutNext = 0
const seen: string[] = []
let server: Server
let base: string
let cacheDir: string

/** A static file server with Range support, versioned by Last-Modified only (no ETag). */
function handle(req: IncomingMessage, res: ServerResponse): void {
  seen.push(`${req.method ?? ''} ${req.headers.range ?? ''}`)
  if (status !== 200) return void res.writeHead(status).end()
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
  const start = m ? Number(m[1]) : 0
  const end = m?.[2] ? Number(m[2]) + 1 : model.bytes.length
  const headers = {
    'last-modified': lastModified,
    'accept-ranges': 'bytes',
    'content-length': end - start,
  }
  const range = { 'content-range': `bytes ${start}-${end - 1}/${model.bytes.length}` }
  res.writeHead(m ? 206 : 200, m ? { ...headers, ...range } : headers)
  if (req.method === 'HEAD') return void res.end()
  const body = model.bytes.subarray(start, end)
  if (cutNext > 0 && req.method === 'GET') {
    cutNext--
    return void res.write(body.subarray(0, 1000), () => res.socket?.destroy())
  }
  res.end(body)
}

beforeAll(async () => {
  server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.closeAllConnections()
  server.close()
})
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), 'model-https-'))
  seen.length = 0
  status = 200
  return () => rm(cacheDir, { recursive: true, force: true })
})

describe('loadModel from https', () => {
  it('downloads in ranged parts, resumes a cut one, and revalidates by Last-Modified', async () => {
    const uri = `${base}/m.onnx`
    cutNext = 1
    const first = await loadModel({
      uri,
      cacheDir,
      partSizeBytes: PART,
      retryBaseDelayMs: 5,
    })
    expect(first.sha256).toBe(model.sha256)
    const parts = Math.ceil(model.bytes.length / PART)
    expect(seen.filter((s) => s.startsWith('GET bytes='))).toHaveLength(parts + 1) // + 1 resume
    const resumed = seen.map((s) => Number(/^GET bytes=(\d+)-/.exec(s)?.[1] ?? 0) % PART)
    expect(resumed).toContain(1000) // a part resumed from the last byte received

    seen.length = 0
    const same = await loadModel({ uri, cacheDir, partSizeBytes: PART })
    expect(same.origin).toBe('cache')
    expect(seen).toEqual(['HEAD '])

    model = randomOnnx(3 * PART)
    lastModified = 'Tue, 02 Jan 2024 00:00:00 GMT'
    const changed = await loadModel({ uri, cacheDir, partSizeBytes: PART })
    expect(changed).toMatchObject({
      origin: 'download',
      sha256: model.sha256,
      version: lastModified,
    })
  })

  it('fails at once with MODEL_NOT_FOUND on 404 and without retrying on 403', async () => {
    status = 404
    await expect(loadModel({ uri: `${base}/x.onnx`, cacheDir })).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
    })
    status = 403
    const load = loadModel({ uri: `${base}/x.onnx`, cacheDir, offlineFallback: false })
    await expect(load).rejects.toMatchObject({
      code: 'DOWNLOAD_FAILED',
      message: /HEAD .* answered 403/,
    })
    expect(seen).toHaveLength(2)
  })
})
