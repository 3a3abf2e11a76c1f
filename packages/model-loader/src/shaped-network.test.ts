import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startLocalS3, startShapingProxy } from '@resnet/test-support'
import type { LocalS3, ShapingProxy } from '@resnet/test-support'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { loadModel } from './load-model.js'
import { randomOnnx, s3ClientFor } from './test-support/helpers.js'

const MiB = 1024 * 1024
const MODEL = randomOnnx(8 * MiB)
// a network in small: 2 MiB/s per connection, 16 MiB/s for the link, 20 ms to the first byte
const SHAPING = { perConnectionBytesPerS: 2 * MiB, linkBytesPerS: 16 * MiB, firstByteDelayMs: 20 }
let s3: LocalS3
let proxy: ShapingProxy
let cacheDir: string

beforeAll(async () => {
  s3 = await startLocalS3(['models'])
  await s3.put('models', 'shaped/model.onnx', MODEL.bytes)
  proxy = await startShapingProxy(s3.endpoint, SHAPING)
  cacheDir = await mkdtemp(path.join(tmpdir(), 'model-shaped-'))
})
afterAll(async () => {
  await proxy.close()
  await s3.close()
  await rm(cacheDir, { recursive: true, force: true })
})

it("beats one connection's cap on a shaped network with parallel ranged GETs, within the link's cap", async () => {
  const client = s3ClientFor(proxy.url)
  const started = performance.now()
  const bundle = await loadModel({
    uri: 's3://models/shaped/model.onnx',
    cacheDir,
    s3Client: client,
    partSizeBytes: MiB,
    concurrency: 8,
  })
  const seconds = (performance.now() - started) / 1000
  client.destroy()
  expect(bundle.sha256).toBe(MODEL.sha256)
  expect(proxy.connections).toBeGreaterThanOrEqual(8)
  // one connection needs >= 4 s for 8 MiB; 8 at once share the 16 MiB/s link: ~0.5 s + latency.
  // Generous for a loaded machine, still half of what a single GET could do.
  expect(seconds).toBeLessThan(2)
  expect(seconds).toBeGreaterThan(0.45) // the link's cap holds: 8 MiB at 16 MiB/s
})
