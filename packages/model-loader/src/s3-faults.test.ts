import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import type { S3Client } from '@aws-sdk/client-s3'
import { startFaultProxy, startFlakyProxy, startLocalS3 } from '@resnet/test-support'
import type { FaultProxy, FlakyProxy, LocalS3 } from '@resnet/test-support'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadModel } from './load-model.js'
import type { LoadModelOptions } from './options.js'
import { planParts } from './ranged-download.js'
import { listFiles, memoryLogger, randomOnnx, s3ClientFor } from './test-support/helpers.js'

const PART = 256 * 1024
const BIG = randomOnnx(6 * PART + 12_345) // 7 parts, the last one short
let s3: LocalS3
let fault: FaultProxy
let flaky: FlakyProxy
let cacheDir: string
const clients: S3Client[] = []

const through = (endpoint: string): S3Client => {
  const client = s3ClientFor(endpoint)
  clients.push(client)
  return client
}
const options = (
  client: S3Client,
  uri: string,
  extra: Partial<LoadModelOptions> = {}
): LoadModelOptions => ({
  uri,
  cacheDir,
  s3Client: client,
  partSizeBytes: PART,
  concurrency: 3,
  retryBaseDelayMs: 5,
  retryMaxDelayMs: 50,
  offlineFallback: false,
  ...extra,
})
const rangedGets = (requests: readonly string[]): number[] =>
  requests
    .map((r) => /^GET \S+ bytes=(\d+)-/.exec(r)?.[1])
    .filter((s) => s !== undefined)
    .map(Number)

beforeAll(async () => {
  s3 = await startLocalS3(['models'])
  await s3.put('models', 'big/model.onnx', BIG.bytes)
  fault = await startFaultProxy(s3.endpoint)
  flaky = await startFlakyProxy(s3.endpoint)
})
afterAll(async () => {
  for (const c of clients) c.destroy()
  await fault.close()
  await flaky.close()
  await s3.close()
})
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), 'model-faults-'))
})
afterEach(async () => {
  flaky.reset()
  fault.reset()
  await rm(cacheDir, { recursive: true, force: true })
})

/** No temp file, no entry without a manifest: what a failed load must leave behind. */
async function expectNothingPartial(): Promise<void> {
  const files = await listFiles(cacheDir)
  expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([])
  expect(files.filter((f) => f.endsWith('model.onnx'))).toEqual([])
}

describe('loadModel from S3 through real faults', () => {
  it('resumes a part from its last written byte when a TCP connection is cut mid-body', async () => {
    fault.cutAfter(100_000, 2)
    const before = fault.requests.length
    const uri = 's3://models/big/model.onnx'
    const bundle = await loadModel(options(through(fault.url), uri, { concurrency: 1 }))
    expect(bundle.sha256).toBe(BIG.sha256)
    expect(fault.cuts).toBe(2)
    expect(bundle.downloadedBytes).toBe(BIG.bytes.length) // resumed, nothing fetched twice
    const starts = rangedGets(fault.requests.slice(before))
    expect(starts.some((s) => s % PART !== 0)).toBe(true) // a resume from inside a part
  })

  it('resumes parallel ranged GETs after cut connections', async () => {
    fault.cutAfter(100_000, 2)
    const before = fault.requests.length
    const bundle = await loadModel(options(through(fault.url), 's3://models/big/model.onnx'))
    expect(bundle.sha256).toBe(BIG.sha256)
    expect(bundle.downloadedBytes).toBe(BIG.bytes.length)
    const starts = rangedGets(fault.requests.slice(before))
    const parts = planParts(BIG.bytes.length, true, { partSize: PART, concurrency: 3 })
    const partStarts = parts.map((p) => p.start)
    expect(parts).toHaveLength(9) // 7 parts of PART: 3 full waves of 3 equal ones
    expect(starts.filter((s) => partStarts.includes(s)).length).toBeGreaterThanOrEqual(9) // all
    expect(starts.some((s) => !partStarts.includes(s))).toBe(true) // and a resume inside one
  })

  it('retries 500 and 503 SlowDown answers, several in a row, and then succeeds', async () => {
    flaky.failNext(2, 500, 'HEAD')
    flaky.failNext(5, 503, 'GET')
    const logger = memoryLogger()
    const bundle = await loadModel(
      options(through(flaky.url), 's3://models/big/model.onnx', { logger, concurrency: 1 })
    )
    expect(bundle.sha256).toBe(BIG.sha256)
    expect(flaky.requests.filter((r) => r.fault === 'status')).toHaveLength(7)
    // the SDK retried some itself; ours retried the rest, with a log line each
    expect(logger.lines.some((l) => l.msg === 'model download interrupted: retrying')).toBe(true)
  })

  it('resumes after a truncated body (Content-Length promised, fewer bytes sent)', async () => {
    flaky.truncateNext(3, 50_000)
    const before = flaky.requests.length
    const bundle = await loadModel(options(through(flaky.url), 's3://models/big/model.onnx'))
    expect(bundle.sha256).toBe(BIG.sha256)
    expect(bundle.downloadedBytes).toBe(BIG.bytes.length)
    const resumed = flaky.requests.slice(before).filter((r) => /bytes=\d+-/.test(r.range ?? ''))
    expect(
      resumed.some((r) => Number(/bytes=(\d+)/.exec(r.range ?? '')?.[1]) % PART === 50_000)
    ).toBe(true)
  })

  it('fails with DOWNLOAD_FAILED and leaves nothing partial when every body is cut at once', async () => {
    flaky.truncateNext(1000, 0)
    const load = loadModel(
      options(through(flaky.url), 's3://models/big/model.onnx', { retries: 2, attempts: 2 })
    )
    await expect(load).rejects.toMatchObject({ code: 'DOWNLOAD_FAILED', message: /failed 3 times/ })
    await expectNothingPartial()
  })

  it('discards a corrupted download (MD5 of the ETag), downloads again and succeeds', async () => {
    flaky.corruptNext(1, 1000)
    const logger = memoryLogger()
    const bundle = await loadModel(
      options(through(flaky.url), 's3://models/big/model.onnx', { logger })
    )
    expect(bundle.sha256).toBe(BIG.sha256)
    expect(bundle.verifiedBy).toEqual(['S3 ETag (MD5)'])
    const retry = logger.lines.find((l) => l.msg === 'model load failed: retrying')
    expect(retry?.fields.reason).toMatch(/md5 .* does not match S3 ETag/)
  })

  it('fails with INTEGRITY_MISMATCH, keeping nothing, when every download is corrupted', async () => {
    flaky.corruptNext(100, 5)
    const load = loadModel(
      options(through(flaky.url), 's3://models/big/model.onnx', { attempts: 2 })
    )
    await expect(load).rejects.toMatchObject({ code: 'INTEGRITY_MISMATCH' })
    await expectNothingPartial()
  })

  it('notices an object replaced between HEAD and GET, and loads the new version', async () => {
    await s3.put('models', 'swap/model.onnx', BIG.bytes)
    const replacement = randomOnnx(100_000)
    const client = through(s3.endpoint)
    let replaced = false
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args)
        if (context.commandName === HeadObjectCommand.name && !replaced) {
          replaced = true // a real PUT of a new version, right after the HEAD answered
          await s3.client.send(
            new PutObjectCommand({
              Bucket: 'models',
              Key: 'swap/model.onnx',
              Body: replacement.bytes,
            })
          )
        }
        return result
      },
      { step: 'finalizeRequest', name: 'replaceAfterHead' }
    )
    const logger = memoryLogger()
    const bundle = await loadModel(options(client, 's3://models/swap/model.onnx', { logger }))
    expect(replaced).toBe(true)
    expect(bundle.sha256).toBe(replacement.sha256)
    expect(
      logger.lines.find((l) => l.msg === 'model load failed: retrying')?.fields.reason
    ).toMatch(/changed while loading/)
    const versions = await readdir(path.dirname(path.dirname(bundle.modelPath)))
    expect(versions.filter((v) => !v.startsWith('.'))).toEqual([bundle.version]) // no half old version
  })

  it('gives up with TIMEOUT at the deadline, removing the temp file', async () => {
    fault.throttle(256 * 1024)
    const load = loadModel(
      options(through(fault.url), 's3://models/big/model.onnx', { timeoutMs: 600 })
    )
    await expect(load).rejects.toMatchObject({ code: 'TIMEOUT' })
    await expectNothingPartial()
  })
})
