/** Test helpers for this package: the real MobileNetV2 fixture model and request builders. */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { allocateBatch, parseModelConfig, writeImage } from '@resnet/preprocess'
import { MOBILENET_DIR } from '@resnet/test-support'
import { expect } from 'vitest'
import { parseLabels } from './labels.js'
import type { ImageModel } from './model.js'
import { createOnnxModel } from './onnx-model.js'

/** Opens the fixture model with the default (torchvision) config. */
export function openFixtureModel(config: object = {}): Promise<ImageModel> {
  return createOnnxModel({
    modelPath: path.join(MOBILENET_DIR, 'model.onnx'),
    config: parseModelConfig(config),
    labels: parseLabels(readFileSync(path.join(MOBILENET_DIR, 'labels.txt'), 'utf8')),
    identity: { name: 'mobilenetv2-int8', version: 'test', sha256: 'f'.repeat(64) },
    threads: 2,
  })
}

/** The model's scores of one image's pixels (HWC, the model's input size). */
export async function scorePixels(model: ImageModel, pixels: Uint8Array): Promise<Float32Array> {
  const batch = allocateBatch(model.config.input, 1)
  writeImage(pixels, model.config.input, batch, 0)
  const [row] = await model.run(batch)
  return Float32Array.from(row!)
}

/** A multipart body with one `image` file field per buffer. */
export function multipart(...images: Uint8Array[]): FormData {
  const form = new FormData()
  for (const [i, bytes] of images.entries()) {
    form.append('image', new Blob([bytes]), `upload-${i}.jpg`)
  }
  return form
}

/**
 * Checks the answers to a burst sent at an overloaded server: some refused, each with 503 +
 * Retry-After 1 and OVERLOADED, every other one a 200. Resolves with the 200s.
 */
export async function expectOverloadSplit(responses: readonly Response[]): Promise<Response[]> {
  const refused = responses.filter((r) => r.status === 503)
  const accepted = responses.filter((r) => r.status === 200)
  expect(refused.length).toBeGreaterThan(0)
  expect(accepted.length + refused.length).toBe(responses.length)
  for (const r of refused) {
    expect(r.headers.get('retry-after')).toBe('1')
    expect(await r.json()).toMatchObject({ error: { code: 'OVERLOADED' } })
  }
  return accepted
}
