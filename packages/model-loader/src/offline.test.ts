import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DeleteObjectCommand } from '@aws-sdk/client-s3'
import type { S3Client } from '@aws-sdk/client-s3'
import { startFlakyProxy, startLocalS3 } from '@resnet/test-support'
import type { FlakyProxy, LocalS3 } from '@resnet/test-support'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadModel } from './load-model.js'
import type { LoadModelOptions } from './options.js'
import { memoryLogger, randomOnnx, s3ClientFor } from './test-support/helpers.js'

const MODEL = randomOnnx(200_000)
let s3: LocalS3
let flaky: FlakyProxy
let client: S3Client
let cacheDir: string

const options = (extra: Partial<LoadModelOptions> = {}): LoadModelOptions => ({
  uri: 's3://models/m/',
  cacheDir,
  s3Client: client,
  attempts: 2,
  retries: 1,
  retryBaseDelayMs: 5,
  ...extra,
})

beforeAll(async () => {
  s3 = await startLocalS3(['models'])
  await s3.put('models', 'm/model.onnx', MODEL.bytes)
  flaky = await startFlakyProxy(s3.endpoint)
  client = s3ClientFor(flaky.url, 1)
})
afterAll(async () => {
  client.destroy()
  await flaky.close()
  await s3.close()
})
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), 'model-offline-'))
  return async () => {
    flaky.reset()
    await rm(cacheDir, { recursive: true, force: true })
  }
})

describe('offline start', () => {
  it('starts from the last verified cached copy, with a warning, when S3 answers only 503', async () => {
    const online = await loadModel(options())
    flaky.failNext(1000, 503)
    const logger = memoryLogger()
    const offline = await loadModel(options({ logger }))
    expect(offline).toMatchObject({
      origin: 'offline-cache',
      sha256: MODEL.sha256,
      version: online.version,
    })
    expect(offline.modelPath).toBe(online.modelPath)
    const warning = logger.lines.find((l) => l.level === 'warn' && l.msg.includes('unreachable'))
    expect(warning?.fields.reason).toMatch(/SlowDown|reduce your request rate|503/)
  })

  it('starts from the cached copy when nothing listens at the endpoint (connection refused)', async () => {
    await loadModel(options())
    const dead = await startFlakyProxy(s3.endpoint)
    await dead.close()
    const refused = s3ClientFor(dead.url, 1)
    try {
      const bundle = await loadModel(options({ s3Client: refused }))
      expect(bundle.origin).toBe('offline-cache')
    } finally {
      refused.destroy()
    }
  })

  it('fails when the fallback is off, when there is no cached copy, or when the copy is damaged', async () => {
    flaky.failNext(1000, 503)
    await expect(loadModel(options())).rejects.toMatchObject({ code: 'DOWNLOAD_FAILED' })
    flaky.reset()
    const online = await loadModel(options())
    flaky.failNext(1000, 503)
    await expect(loadModel(options({ offlineFallback: false }))).rejects.toMatchObject({
      code: 'DOWNLOAD_FAILED',
    })
    await writeFile(online.modelPath, Buffer.alloc(MODEL.bytes.length)) // same size, wrong bytes
    await expect(loadModel(options())).rejects.toMatchObject({ code: 'DOWNLOAD_FAILED' })
  })

  it('does not fall back when the model was deleted (404): that is not an outage', async () => {
    await s3.put('models', 'deleted/model.onnx', MODEL.bytes)
    await loadModel(options({ uri: 's3://models/deleted/model.onnx' }))
    await s3.client.send(new DeleteObjectCommand({ Bucket: 'models', Key: 'deleted/model.onnx' }))
    const load = loadModel(options({ uri: 's3://models/deleted/model.onnx' }))
    await expect(load).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' })
  })
})
