import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { MOBILENET_DIR, startLocalS3 } from '@resnet/test-support'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadModel } from './load-model.js'

const MODEL = path.join(MOBILENET_DIR, 'model.onnx')
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
})
