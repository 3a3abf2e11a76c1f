import { createHash } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { MOBILENET_DIR, startLocalS3 } from '@resnet/test-support'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadModel } from './load-model.js'

const MODEL = path.join(MOBILENET_DIR, 'model.onnx')
const sha256Of = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex')
let root: string
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'bundle-discovery-'))
})
afterAll(() => rm(root, { recursive: true, force: true }))

describe('bundle file discovery', () => {
  it('finds a Transformers.js layout (onnx/model.onnx), its processor config and selftest/', async () => {
    const dir = path.join(root, 'hf')
    await mkdir(path.join(dir, 'onnx'), { recursive: true })
    await mkdir(path.join(dir, 'selftest'))
    await copyFile(MODEL, path.join(dir, 'onnx', 'model.onnx'))
    await writeFile(path.join(dir, 'config.json'), '{"id2label":{"0":"a"}}')
    await writeFile(path.join(dir, 'preprocessor_config.json'), '{"crop_size":224}')
    const bundle = await loadModel({ uri: dir, cacheDir: path.join(root, 'cache') })
    expect(bundle.modelPath).toBe(path.join(dir, 'onnx', 'model.onnx'))
    expect(bundle.preprocessorConfigPath).toBe(path.join(dir, 'preprocessor_config.json'))
    expect(bundle.selfTestDir).toBe(path.join(dir, 'selftest'))
  })

  it('prefers a top-level model.onnx, and checks the processor config is JSON', async () => {
    const dir = path.join(root, 'both')
    await mkdir(path.join(dir, 'onnx'), { recursive: true })
    await copyFile(MODEL, path.join(dir, 'model.onnx'))
    await copyFile(MODEL, path.join(dir, 'onnx', 'model.onnx'))
    const cacheDir = path.join(root, 'cache')
    expect((await loadModel({ uri: dir, cacheDir })).modelPath).toBe(path.join(dir, 'model.onnx'))
    await writeFile(path.join(dir, 'preprocessor_config.json'), 'not json')
    await expect(loadModel({ uri: dir, cacheDir })).rejects.toMatchObject({
      code: 'INVALID_MODEL',
    })
  })

  it('fetches a Transformers.js layout (onnx/model.onnx) and its selftest/ from S3, then reuses them', async () => {
    const s3 = await startLocalS3(['models'])
    try {
      await s3.put('models', 'tjs/onnx/model.onnx', MODEL)
      await s3.put('models', 'tjs/onnx/model_quantized.onnx', Buffer.from('not listed'))
      await s3.put('models', 'tjs/config.json', Buffer.from('{"id2label":{"0":"a"}}'))
      await s3.put('models', 'tjs/selftest/expected.json', Buffer.from('{"images":{}}'))
      await s3.put('models', 'tjs/selftest/a.jpg', Buffer.from('jpeg bytes'))
      await s3.put('models', 'tjs/other/ignored.txt', Buffer.from('x'))
      const load = () =>
        loadModel({
          uri: 's3://models/tjs/',
          cacheDir: path.join(root, 's3-tjs-cache'),
          s3Client: s3.client,
        })
      const first = await load()
      expect(first.modelPath).toMatch(/\/onnx\/model\.onnx$/)
      expect(first.sha256).toBe(await sha256Of(MODEL))
      expect((await readdir(first.selfTestDir!)).sort()).toEqual(['a.jpg', 'expected.json'])
      expect(await readFile(path.join(first.selfTestDir!, 'a.jpg'), 'utf8')).toBe('jpeg bytes')
      await first.release()
      const second = await load()
      expect(second.downloadedBytes).toBe(0)
      expect(second.modelPath).toBe(first.modelPath)
      expect(second.selfTestDir).toBe(first.selfTestDir)
      await second.release()
    } finally {
      await s3.close()
    }
  })

  it('fetches preprocessor_config.json of an Optimum bundle from S3', async () => {
    const s3 = await startLocalS3(['models'])
    try {
      await s3.put('models', 'optimum/model.onnx', MODEL)
      await s3.put('models', 'optimum/config.json', Buffer.from('{"id2label":{"0":"a"}}'))
      await s3.put('models', 'optimum/preprocessor_config.json', Buffer.from('{"crop_size":224}'))
      const bundle = await loadModel({
        uri: 's3://models/optimum/',
        cacheDir: path.join(root, 's3-cache'),
        s3Client: s3.client,
      })
      expect(bundle.preprocessorConfigPath).toMatch(/preprocessor_config\.json$/)
      expect(bundle.selfTestDir).toBeUndefined()
      await bundle.release()
    } finally {
      await s3.close()
    }
  })

  it('fetches features.json of a tabular bundle from S3, and refuses one that is not JSON', async () => {
    const s3 = await startLocalS3(['models'])
    try {
      await s3.put('models', 'trees/model.onnx', MODEL)
      await s3.put('models', 'trees/features.json', Buffer.from('{"features":[{"name":"age"}]}'))
      await s3.put('models', 'broken/model.onnx', MODEL)
      await s3.put('models', 'broken/features.json', Buffer.from('age,height'))
      const load = (prefix: string) =>
        loadModel({
          uri: `s3://models/${prefix}/`,
          cacheDir: path.join(root, 's3-cache'),
          s3Client: s3.client,
        })
      const bundle = await load('trees')
      expect(await readFile(bundle.featuresPath!, 'utf8')).toBe('{"features":[{"name":"age"}]}')
      await bundle.release()
      await expect(load('broken')).rejects.toThrow(/features\.json is not valid JSON/)
    } finally {
      await s3.close()
    }
  })
})
