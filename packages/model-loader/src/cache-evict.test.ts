import { writeFile, mkdtemp, rm, stat } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import path from 'node:path'
import { startLocalS3 } from '@resnet/test-support'
import type { LocalS3 } from '@resnet/test-support'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadModel } from './load-model.js'
import { listEntries } from './manifest.js'
import type { LoadModelOptions } from './options.js'
import { randomOnnx } from './test-support/helpers.js'

const SIZE = 100_000
let s3: LocalS3
let cacheDir: string

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false
  )
const load = (key: string, extra: Partial<LoadModelOptions> = {}) =>
  loadModel({
    uri: `s3://models/${key}`,
    cacheDir,
    s3Client: s3.client,
    maxCacheBytes: 2.5 * SIZE,
    ...extra,
  })

beforeAll(async () => {
  s3 = await startLocalS3(['models'])
  for (const key of ['a.onnx', 'b.onnx', 'c.onnx', 'd.onnx'])
    await s3.put('models', key, randomOnnx(SIZE).bytes)
})
afterAll(async () => {
  await s3.close()
})
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), 'model-evict-'))
  return () => rm(cacheDir, { recursive: true, force: true })
})

describe('cache size cap', () => {
  it('evicts the least recently used entries that are not in use', async () => {
    const a = await load('a.onnx') // kept in use throughout
    const b = await load('b.onnx')
    await b.release()
    const c = await load('c.onnx') // over the cap: b (released) goes, a (in use) stays
    expect(await exists(a.modelPath)).toBe(true)
    expect(await exists(path.dirname(b.modelPath))).toBe(false)
    expect(await exists(c.modelPath)).toBe(true)

    await a.release()
    const d = await load('d.onnx') // now a is the least recently used and free
    expect(await exists(path.dirname(a.modelPath))).toBe(false)
    expect(await exists(c.modelPath)).toBe(true)
    expect(await exists(d.modelPath)).toBe(true)
    const entries = await listEntries(cacheDir)
    expect(entries.map((e) => e.uri).sort()).toEqual(['s3://models/c.onnx', 's3://models/d.onnx'])
    const [older, newer] = entries.sort((x, y) => x.lastUsedMs - y.lastUsedMs)
    expect(older?.uri).toBe('s3://models/c.onnx') // d was used last
    expect(newer?.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(newer?.bytes).toBeGreaterThan(SIZE)
  })

  it('keeps an entry leased by another live process, and frees one whose process died', async () => {
    const a = await load('a.onnx', { maxCacheBytes: undefined })
    await a.release()
    const other = { pid: process.ppid, host: hostname(), token: 'another-process' }
    const lease = path.join(path.dirname(a.modelPath), `.lease-${other.pid}-${other.token}`)
    await writeFile(lease, JSON.stringify(other))
    await (await load('b.onnx')).release()
    await (await load('c.onnx')).release()
    expect(await exists(a.modelPath)).toBe(true) // the parent process (alive) holds it

    await writeFile(lease, JSON.stringify({ ...other, pid: 2 ** 22 + 12345 })) // no such pid
    await (await load('d.onnx')).release()
    expect(await exists(path.dirname(a.modelPath))).toBe(false)
  })

  it('does not download again, nor evict, when the same version is loaded repeatedly', async () => {
    const first = await load('a.onnx')
    const again = await load('a.onnx')
    expect(again.origin).toBe('cache')
    expect(again.modelPath).toBe(first.modelPath)
    await first.release()
    await again.release()
    expect(await exists(first.modelPath)).toBe(true)
  })
})
