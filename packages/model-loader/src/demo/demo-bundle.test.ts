// Tests ensureDemoBundle: files, idempotence, races and leftover temp dirs, with real onnxruntime.
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ort from 'onnxruntime-node'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEMO_BUNDLE_DIR_NAME, ensureDemoBundle } from './demo-bundle.js'
import { buildDemoResnet50 } from './resnet50.js'

const TIMEOUT = 60_000

async function leftovers(cacheDir: string): Promise<string[]> {
  return (await readdir(cacheDir)).filter((name) => name.startsWith('.tmp-demo-'))
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex')
}

describe('ensureDemoBundle', () => {
  let cacheDir: string

  beforeEach(async () => {
    cacheDir = join(await mkdtemp(join(tmpdir(), 'demo-bundle-test-')), 'cache')
  })

  afterEach(async () => {
    await rm(join(cacheDir, '..'), { recursive: true, force: true })
  })

  it(
    'creates the bundle once, then reuses it, leaving no temp dirs',
    async () => {
      const first = await ensureDemoBundle(cacheDir)
      expect(first.created).toBe(true)
      expect(first.dir).toBe(join(cacheDir, DEMO_BUNDLE_DIR_NAME))
      expect(first.modelPath).toBe(join(first.dir, 'model.onnx'))
      expect(first.labelsPath).toBe(join(first.dir, 'labels.txt'))
      expect(first.configPath).toBe(join(first.dir, 'config.json'))
      expect((await readdir(first.dir)).sort()).toEqual(['config.json', 'labels.txt', 'model.onnx'])

      const hash = await sha256File(first.modelPath)
      const second = await ensureDemoBundle(cacheDir)
      expect(second).toEqual({ ...first, created: false })
      expect(await sha256File(second.modelPath)).toBe(hash)
      expect(await readdir(cacheDir)).toEqual([DEMO_BUNDLE_DIR_NAME])
      expect(await leftovers(cacheDir)).toEqual([])
    },
    TIMEOUT
  )

  it(
    'writes 1000 labels, the demo config and a model onnxruntime can run',
    async () => {
      const bundle = await ensureDemoBundle(cacheDir)
      const labels = (await readFile(bundle.labelsPath, 'utf8')).split('\n')
      expect(labels.pop()).toBe('')
      expect(labels).toHaveLength(1000)
      expect(labels[0]).toBe('demo_class_000')
      expect(labels[999]).toBe('demo_class_999')
      expect(new Set(labels).size).toBe(1000)
      expect(JSON.parse(await readFile(bundle.configPath, 'utf8'))).toEqual({
        name: 'demo-resnet50',
        version: '1',
        demo: true,
      })

      const expected = createHash('sha256')
      for (const c of buildDemoResnet50().chunks) expected.update(c)
      expect(await sha256File(bundle.modelPath)).toBe(expected.digest('hex'))

      const session = await ort.InferenceSession.create(bundle.modelPath)
      try {
        const input = new ort.Tensor(
          'float32',
          new Float32Array(3 * 224 * 224).fill(0.5),
          [1, 3, 224, 224]
        )
        const { output } = await session.run({ input })
        expect(output!.dims).toEqual([1, 1000])
        expect((output!.data as Float32Array).every((v) => Number.isFinite(v))).toBe(true)
      } finally {
        await session.release()
      }
    },
    TIMEOUT
  )

  it(
    'lets exactly one of two concurrent callers create the bundle',
    async () => {
      const results = await Promise.all([ensureDemoBundle(cacheDir), ensureDemoBundle(cacheDir)])
      expect(results.map((r) => r.created).sort()).toEqual([false, true])
      expect(results[0].modelPath).toBe(results[1].modelPath)
      expect(await leftovers(cacheDir)).toEqual([])
      expect(await readdir(cacheDir)).toEqual([DEMO_BUNDLE_DIR_NAME])
    },
    TIMEOUT
  )

  it(
    'replaces an incomplete bundle directory',
    async () => {
      const dir = join(cacheDir, DEMO_BUNDLE_DIR_NAME)
      await mkdir(dir, { recursive: true })
      await writeFile(join(dir, 'labels.txt'), 'stale\n')
      const bundle = await ensureDemoBundle(cacheDir)
      expect(bundle.created).toBe(true)
      expect((await readdir(dir)).sort()).toEqual(['config.json', 'labels.txt', 'model.onnx'])
      expect(await readFile(bundle.labelsPath, 'utf8')).toMatch(/^demo_class_000\n/)
      expect(await leftovers(cacheDir)).toEqual([])
    },
    TIMEOUT
  )
})
