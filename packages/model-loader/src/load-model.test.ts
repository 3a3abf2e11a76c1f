import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import type { S3Client } from '@aws-sdk/client-s3'
import { MOBILENET_DIR, startLocalS3 } from '@resnet/test-support'
import type { LocalS3 } from '@resnet/test-support'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadModel } from './load-model.js'
import { s3ClientFor } from './test-support/helpers.js'

const MODEL = path.join(MOBILENET_DIR, 'model.onnx')
const LABELS = path.join(MOBILENET_DIR, 'labels.txt')
let s3: LocalS3
let cacheDir: string
let modelSha: string

/** Counts the GetObject calls this client really sends (SDK middleware, not a mock). */
function countGets(client: S3Client): { readonly count: number } {
  const counter = { count: 0 }
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === GetObjectCommand.name) counter.count++
      return next(args)
    },
    { step: 'initialize', name: `countGets${Math.random()}` }
  )
  return counter
}

beforeAll(async () => {
  s3 = await startLocalS3(['models'])
  await s3.put('models', 'mobilenet/model.onnx', MODEL)
  await s3.put('models', 'mobilenet/labels.txt', LABELS)
  await s3.put('models', 'mobilenet/notes.md', Buffer.from('ignored'))
  await s3.put('models', 'single/mobilenet.onnx', MODEL)
  modelSha = createHash('sha256')
    .update(await readFile(MODEL))
    .digest('hex')
})
afterAll(async () => {
  await s3.close()
})
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), 'model-cache-'))
  return () => rm(cacheDir, { recursive: true, force: true })
})

describe('loadModel from S3', () => {
  it('downloads a bundle prefix once, then reuses the cache while the ETags are unchanged', async () => {
    const uri = 's3://models/mobilenet/'
    const first = await loadModel({ uri, cacheDir, s3Client: s3.client })
    expect(first.sha256).toBe(modelSha)
    expect(first.labelsPath).toBeDefined()
    expect(first.configPath).toBeUndefined()
    expect(first.name).toBe('mobilenet')
    expect(first.downloadedBytes).toBeGreaterThan(3_000_000)
    expect(first.origin).toBe('download')
    expect(first.verifiedBy).toEqual(['S3 ETag (MD5)'])
    expect(await readFile(first.labelsPath!, 'utf8')).toBe(await readFile(LABELS, 'utf8'))

    const gets = countGets(s3.client)
    const second = await loadModel({ uri, cacheDir, s3Client: s3.client })
    expect(gets.count).toBe(0)
    expect(second.downloadedBytes).toBe(0)
    expect(second.origin).toBe('cache')
    expect(second.modelPath).toBe(first.modelPath)
    expect(second.version).toBe(first.version)
  })

  it('downloads again, into a new version, when an object changes', async () => {
    await s3.put('models', 'changing/model.onnx', MODEL)
    await s3.put('models', 'changing/labels.txt', Buffer.from('a\nb\n'))
    const uri = 's3://models/changing/'
    const before = await loadModel({ uri, cacheDir, s3Client: s3.client })
    await s3.put('models', 'changing/labels.txt', Buffer.from('c\nd\n'))
    const after = await loadModel({ uri, cacheDir, s3Client: s3.client })
    expect(after.version).not.toBe(before.version)
    expect(after.downloadedBytes).toBeGreaterThan(0)
    expect(await readFile(after.labelsPath!, 'utf8')).toBe('c\nd\n')
  })

  it("sends every request, bodies included, through the client's own request handler", async () => {
    const uri = 's3://models/single/mobilenet.onnx'
    const handled: string[] = []
    const base = s3ClientFor(s3.endpoint)
    const inner = base.config.requestHandler as {
      handle(request: { method: string }, options?: object): Promise<unknown>
    }
    const client = s3ClientFor(s3.endpoint)
    client.config.requestHandler = {
      handle: (request: { method: string; query?: Record<string, string> }, options?: object) => {
        handled.push(`${request.method} ${request.query?.['x-id'] ?? ''}`)
        return inner.handle(request, options)
      },
    } as typeof client.config.requestHandler
    const bundle = await loadModel({ uri, cacheDir, s3Client: client })
    expect(bundle.sha256).toBe(modelSha)
    expect(handled).toContain('HEAD ')
    expect(handled).toContain('GET GetObject')
    base.destroy()
    client.destroy()
  })

  it('loads a single object key as the model, versioned by its ETag', async () => {
    const bundle = await loadModel({
      uri: 's3://models/single/mobilenet.onnx',
      cacheDir,
      s3Client: s3.client,
    })
    expect(bundle.name).toBe('mobilenet')
    expect(bundle.sha256).toBe(modelSha)
    expect(bundle.version).toMatch(/^[0-9a-f]{32}$/) // single-part ETag = MD5
    expect(path.basename(bundle.modelPath)).toBe('model.onnx')
  })

  it('fails with MODEL_NOT_FOUND, without retrying, for a missing key or an empty prefix', async () => {
    const gets = countGets(s3.client)
    await expect(
      loadModel({ uri: 's3://models/none.onnx', cacheDir, s3Client: s3.client })
    ).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' })
    await expect(
      loadModel({ uri: 's3://models/empty/', cacheDir, s3Client: s3.client })
    ).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' })
    expect(gets.count).toBe(0)
    expect(await readdir(cacheDir)).toEqual([])
  })
})

describe('loadModel from https', () => {
  it('caches by ETag and does not download an unchanged file twice', async () => {
    const body = await readFile(MODEL)
    let gets = 0
    const server = createServer((req, res) => {
      res.setHeader('etag', '"v1"')
      res.setHeader('content-length', body.length)
      if (req.method === 'GET') gets++
      res.end(req.method === 'HEAD' ? undefined : body)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/mobile.onnx`
    try {
      const first = await loadModel({ uri, cacheDir })
      const second = await loadModel({ uri, cacheDir })
      expect(first.sha256).toBe(modelSha)
      expect(second.downloadedBytes).toBe(0)
      expect(gets).toBe(1)
    } finally {
      server.close()
    }
  })
})

describe('loadModel from a local path', () => {
  it('uses a bundle directory in place, with its labels, versioned by content', async () => {
    const bundle = await loadModel({ uri: MOBILENET_DIR, cacheDir })
    expect(bundle.modelPath).toBe(MODEL)
    expect(bundle.origin).toBe('local')
    expect(bundle.labelsPath).toBe(LABELS)
    expect(bundle.version).toBe(modelSha.slice(0, 12))
    expect(bundle.name).toBe('mobilenetv2-int8')
    expect(await readdir(cacheDir)).toEqual([])
  })

  it('reports a missing file or a directory without model.onnx as MODEL_NOT_FOUND', async () => {
    await writeFile(path.join(cacheDir, 'labels.txt'), 'x\n')
    await expect(loadModel({ uri: cacheDir, cacheDir })).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
    })
    await expect(loadModel({ uri: '/nope/model.onnx', cacheDir })).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
    })
  })
})
