import { readFile } from 'node:fs/promises'
import { decodeImage } from '@resnet/preprocess'
import { IMAGES_DIR } from '@resnet/test-support'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { createApp } from './app.js'
import type { ImageModel } from './model.js'
import {
  ErrorBody,
  HealthResponse,
  PredictBatchResponse,
  PredictResponse,
  ServiceInfoResponse,
  V2InferResponse,
  V2ModelMetadata,
} from './schemas.js'
import { ServingState } from './serving-state.js'
import { multipart, openFixtureModel } from './test-support.js'

let model: ImageModel
let cat: Buffer
let app: ReturnType<typeof createApp>

beforeAll(async () => {
  model = await openFixtureModel()
  cat = await readFile(`${IMAGES_DIR}cat.jpg`)
  const state = new ServingState()
  state.setModel(model)
  app = createApp({ state, logger: pino({ level: 'silent' }) })
})
afterAll(() => model.close())

interface OpenApi {
  openapi: string
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
}

/** Parses a response body with a schema; strict schemas reject undocumented fields. */
async function conforms(res: Response, schema: z.ZodType): Promise<void> {
  const parsed = schema.safeParse(await res.json())
  expect(parsed.error?.issues ?? []).toEqual([])
}

describe('GET /openapi.json', () => {
  it('documents every route the app serves, and nothing else', async () => {
    const res = await app.request('/openapi.json')
    expect(res.status).toBe(200)
    const doc = (await res.json()) as OpenApi
    expect(doc.openapi).toBe('3.1.0')
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort()
    const served = app.routes
      .filter((r) => r.method !== 'ALL' && r.path !== '/openapi.json')
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
    expect(documented).toEqual([...new Set(served)].sort())
    expect(Object.keys(doc.paths['/predict']!.post!.responses)).toEqual(
      expect.arrayContaining(['200', '400', '413', '415', '422', '503'])
    )
  })

  it('matches what the server really answers (strict schemas: no undocumented fields)', async () => {
    await conforms(
      await app.request('/', { headers: { Accept: 'application/json' } }),
      ServiceInfoResponse
    )
    await conforms(await app.request('/healthz'), HealthResponse)
    await conforms(await app.request('/readyz'), HealthResponse)
    const one = await app.request('/predict', { method: 'POST', body: multipart(cat) })
    expect(one.status).toBe(200)
    await conforms(one, PredictResponse)
    const two = await app.request('/predict', { method: 'POST', body: multipart(cat, cat) })
    await conforms(two, PredictBatchResponse)
    const bad = await app.request('/predict?top_k=0', { method: 'POST', body: multipart(cat) })
    expect(bad.status).toBe(400)
    await conforms(bad, ErrorBody)
    await conforms(await app.request('/v2/models/mobilenetv2-int8'), V2ModelMetadata)
    const { input } = model.config
    const pixels = (await decodeImage(cat, input)).data
    const data = Array.from(pixels, (v) => v / 255) // any FP32 values of the right count
    const infer = await app.request('/v2/models/mobilenetv2-int8/infer', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        id: 'x',
        inputs: [{ name: model.info.inputName, shape: [1, 3, 224, 224], datatype: 'FP32', data }],
      }),
    })
    expect(infer.status).toBe(200)
    await conforms(infer, V2InferResponse)
  })
})
