/**
 * Classifiers as people export them, served without a config.json: variants of the fixture
 * MobileNetV2 built in the test (test-support/model-variants.ts), each through the real server
 * process, real HTTP and real onnxruntime.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { expectedClasses, IMAGES_DIR, referencePhotos } from '@resnet/test-support'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp } from './test-support/app-process.js'
import {
  KERAS_VARIANTS,
  VARIANTS,
  writeHuggingFaceBundle,
  writeKerasBundle,
  writeVariantBundle,
} from './test-support/model-variants.js'
import type { VariantName } from './test-support/model-variants.js'
import { acceptedTop1, referenceTop1 } from './test-support/reference-top1.js'
import { steadyClients } from './test-support/steady-clients.js'

const CLIENTS = 16
/** The fixed-batch variants get the full 10 s; the others a shorter load phase (suite time). */
const LOAD_MS: Partial<Record<string, number>> = { 'batch-1': 10_000, 'batch-4': 10_000 }
const SHORT_LOAD_MS = 3_000

/** What `GET /` must report for each variant: a few effective settings and their sources. */
const EXPECTED: Record<string, Record<string, unknown>> = {
  fp16: { 'input.dtype': ['float16', 'model'], 'output.activation': ['softmax', 'default'] },
  'batch-1': { 'input.size': [[224, 224], 'model'] },
  'batch-4': { 'input.size': [[224, 224], 'model'] },
  nhwc: { 'input.layout': ['NHWC', 'model'] },
  'uint8-nhwc-softmax': {
    'input.layout': ['NHWC', 'model'],
    'input.dtype': ['uint8', 'model'],
    'output.activation': ['none', 'model'],
  },
  'nc11-output': { 'input.layout': ['NCHW', 'model'] },
  'hugging-face': {
    'input.size': [[224, 224], 'preprocessor_config.json'],
    'input.resize': [256, 'preprocessor_config.json'],
    'input.mean': [[0.485, 0.456, 0.406], 'preprocessor_config.json'],
  },
}

interface Info {
  model: { input: string; output: string; fixedBatchSize: number | null }
  preprocessing: {
    input: Record<string, unknown>
    output: Record<string, unknown>
    sources: Record<string, string>
  }
}

let root: string
let reference: Map<string, number>
const photos = referencePhotos()

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'resnet-variants-'))
  reference = await referenceTop1(photos)
})
afterAll(() => rm(root, { recursive: true, force: true }))

const valueOf = (info: Info, key: string): unknown => {
  const [group, field] = key.split('.') as ['input' | 'output', string]
  if (key === 'input.size') return [info.preprocessing.input.height, info.preprocessing.input.width]
  return info.preprocessing[group][field]
}

/** Posts every fixture photo; each top-1 must be accepted. Resolves with the photos' bytes. */
async function expectAcceptedTop1(url: string, name: string): Promise<Uint8Array[]> {
  const images: Uint8Array[] = []
  for (const photo of photos) {
    const bytes = await readFile(IMAGES_DIR + photo)
    images.push(bytes)
    const res = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    })
    expect(res.status, photo).toBe(200)
    const { predictions } = (await res.json()) as {
      predictions: { index: number; score: number }[]
    }
    const accepted = acceptedTop1(expectedClasses()[photo] ?? [], reference.get(photo))
    expect(accepted, `${name} ${photo}`).toContain(predictions[0]?.index)
    const total = predictions.reduce((sum, p) => sum + p.score, 0)
    expect(total).toBeLessThanOrEqual(1 + 1e-6) // probabilities, softmax applied once
  }
  return images
}

const variants = [...(Object.keys(VARIANTS) as VariantName[]), 'hugging-face' as const]

describe('exports served without a config.json', () => {
  for (const name of variants) {
    it(`${name}: ready, an accepted top-1 on every photo, ${CLIENTS} clients with no 5xx`, async () => {
      const dir = path.join(root, name)
      if (name === 'hugging-face') await writeHuggingFaceBundle(dir)
      else await writeVariantBundle(name, dir)
      const app = await startApp({
        MODEL_URI: dir,
        MODEL_CACHE_DIR: path.join(root, 'cache'),
        INFERENCE_THREADS: '2',
        LOG_LEVEL: 'info',
      })
      try {
        await app.waitReady()
        const info = (await (await fetch(`${app.url}/`)).json()) as Info
        for (const [key, [value, source]] of Object.entries(EXPECTED[name]!) as [
          string,
          [unknown, string],
        ][]) {
          expect(valueOf(info, key), key).toEqual(value)
          expect(info.preprocessing.sources[key], key).toBe(source)
        }
        if (name.startsWith('batch-')) {
          const fixed = Number(name.slice(6))
          expect(info.model.fixedBatchSize).toBe(fixed)
          // a v2 tensor client's batch of another size is split and padded to the fixed one
          const n = fixed + 1
          const res = await fetch(`${app.url}/v2/models/${name}/infer`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              inputs: [
                {
                  name: 'input',
                  shape: [n, 3, 224, 224],
                  datatype: 'FP32',
                  data: new Array<number>(n * 3 * 224 * 224).fill(0),
                },
              ],
            }),
          })
          expect(res.status).toBe(200)
          const { outputs } = (await res.json()) as { outputs: { shape: number[] }[] }
          expect(outputs[0]?.shape).toEqual([n, 1000])
        }
        // the start log line names each value's source, e.g. "input.layout": "\"NHWC\" (model)"
        const logged = await app.waitForLog((l) => l.preprocessing !== undefined)
        const layout = (logged.preprocessing as Record<string, string> | undefined)?.[
          'input.layout'
        ]
        expect(layout).toBe(
          `"${String(info.preprocessing.input.layout)}" (${info.preprocessing.sources['input.layout']})`
        )

        const images = await expectAcceptedTop1(app.url, name)

        const load = await steadyClients(app.url, images, CLIENTS, LOAD_MS[name] ?? SHORT_LOAD_MS)
        const errors = Object.entries(load.byStatus).filter(([status]) => Number(status) >= 500)
        expect(errors, load.failures.join('\n')).toEqual([])
        expect(load.byStatus[200]).toBe(load.sent)
        expect(app.output()).not.toMatch(/invalid dimensions|"level":50/)
      } finally {
        await app.stop()
      }
    })
  }
})

describe('Keras exports with a preset in config.json', () => {
  for (const name of Object.keys(KERAS_VARIANTS) as (keyof typeof KERAS_VARIANTS)[]) {
    it(`${name}: NHWC from the model, pixels from the preset, an accepted top-1 on every photo`, async () => {
      const dir = await writeKerasBundle(name, path.join(root, name))
      const app = await startApp({
        MODEL_URI: dir,
        MODEL_CACHE_DIR: path.join(root, 'cache'),
        INFERENCE_THREADS: '2',
      })
      try {
        await app.waitReady()
        const info = (await (await fetch(`${app.url}/`)).json()) as Info
        const preset = KERAS_VARIANTS[name].config.input.preset
        expect(info.preprocessing.sources).toMatchObject({
          'input.layout': 'model',
          'input.mean': `preset ${preset}`,
          'input.colorOrder': `preset ${preset}`,
        })
        await expectAcceptedTop1(app.url, name)
      } finally {
        await app.stop()
      }
    })
  }
})
