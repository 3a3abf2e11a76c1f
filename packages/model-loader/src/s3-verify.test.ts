import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import { startCountingProxy, startLocalS3 } from '@resnet/test-support'
import type { CountingProxy, LocalS3 } from '@resnet/test-support'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadModel } from './load-model.js'
import { listFiles, randomOnnx, s3ClientFor } from './test-support/helpers.js'

const MODEL = randomOnnx(300_000)
const LABELS = Buffer.from('cat\ndog\n')
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
let s3: LocalS3
let proxy: CountingProxy
let client: S3Client
let cacheDir: string

beforeAll(async () => {
  s3 = await startLocalS3(['models'])
  proxy = await startCountingProxy(s3.endpoint)
  client = s3ClientFor(proxy.url)
  await s3.put('models', 'summed/model.onnx', MODEL.bytes)
  await s3.put('models', 'summed/labels.txt', LABELS)
  const sums = `${MODEL.sha256}  model.onnx\n${sha(LABELS)} *labels.txt\n`
  await s3.put('models', 'summed/SHA256SUMS', Buffer.from(sums))
  await s3.put('models', 'badsum/model.onnx', MODEL.bytes)
  await s3.put('models', 'badsum/SHA256SUMS', Buffer.from(`${'0'.repeat(64)}  model.onnx\n`))
  await s3.put('models', 'garbage/model.onnx', Buffer.from('<html>404 not found</html>'))
  await s3.put('models', 'truncated/model.onnx', MODEL.bytes.subarray(0, 200_000))
  await s3.put('models', 'badconfig/model.onnx', MODEL.bytes)
  await s3.put('models', 'badconfig/config.json', Buffer.from('{"input": '))
  await s3.put('models', 'pinned.onnx', MODEL.bytes)
})
afterAll(async () => {
  client.destroy()
  await proxy.close()
  await s3.close()
})
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), 'model-verify-'))
  return () => rm(cacheDir, { recursive: true, force: true })
})

describe('loadModel verification', () => {
  it('checks every file against the SHA256SUMS of the bundle', async () => {
    const bundle = await loadModel({ uri: 's3://models/summed/', cacheDir, s3Client: client })
    expect(bundle.sha256).toBe(MODEL.sha256)
    expect(bundle.verifiedBy).toEqual(['SHA256SUMS']) // the MD5 is skipped for a stronger digest
  })

  it('refuses a file whose sha256 differs from SHA256SUMS, after retrying', async () => {
    const load = loadModel({
      uri: 's3://models/badsum/',
      cacheDir,
      s3Client: client,
      attempts: 2,
      retryBaseDelayMs: 5,
      offlineFallback: false,
    })
    await expect(load).rejects.toMatchObject({
      code: 'INTEGRITY_MISMATCH',
      message: /model\.onnx: sha256 [0-9a-f]{64} does not match SHA256SUMS 0{64}/,
    })
    expect(
      (await listFiles(cacheDir)).filter((f) => f.endsWith('.onnx') || f.endsWith('.tmp'))
    ).toEqual([])
  })

  it('refuses a model whose sha256 differs from the expected one given by the caller', async () => {
    const load = loadModel({
      uri: 's3://models/pinned.onnx',
      cacheDir,
      s3Client: client,
      sha256: 'ab'.repeat(32),
      attempts: 1,
      offlineFallback: false,
    })
    await expect(load).rejects.toMatchObject({
      code: 'INTEGRITY_MISMATCH',
      message: /the expected sha256/,
    })
  })

  it('refuses, without retrying or caching, a model.onnx that is not ONNX or is cut short', async () => {
    for (const [uri, why] of [
      ['s3://models/garbage/', /not a valid ONNX model/],
      ['s3://models/truncated/', /truncated/],
    ] as const) {
      const gets = proxy.count('GET', '/models/')
      const load = loadModel({ uri, cacheDir, s3Client: client, offlineFallback: false })
      await expect(load).rejects.toMatchObject({ code: 'INVALID_MODEL', message: why })
      expect(proxy.count('GET', '/models/') - gets).toBe(2) // the listing and one download
    }
    expect(await listFiles(cacheDir)).toEqual([])
  })

  it('refuses a bundle whose config.json is not JSON', async () => {
    const load = loadModel({
      uri: 's3://models/badconfig/',
      cacheDir,
      s3Client: client,
      offlineFallback: false,
    })
    await expect(load).rejects.toMatchObject({
      code: 'INVALID_MODEL',
      message: /config\.json is not valid JSON/,
    })
  })
})

describe('loadModel pinned to an S3 version', () => {
  it('sends the VersionId on HEAD and GET and caches under that version', async () => {
    const before = proxy.requests.length
    const uri = 's3://models/pinned.onnx?versionId=v42'
    const bundle = await loadModel({ uri, cacheDir, s3Client: client })
    const sent = proxy.requests.slice(before)
    expect(sent.filter((r) => r.includes('versionId=v42'))).toHaveLength(2) // s3rver ignores it
    expect(bundle.version).toBe('v42')
    expect(path.basename(path.dirname(bundle.modelPath))).toBe('v42')
    const again = await loadModel({
      uri: 's3://models/pinned.onnx',
      versionId: 'v42',
      cacheDir,
      s3Client: client,
    })
    expect(again.origin).toBe('cache')
    expect(await readdir(path.dirname(path.dirname(bundle.modelPath)))).toContain('v42')
  })
})
