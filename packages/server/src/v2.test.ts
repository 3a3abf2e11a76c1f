import { readFile } from 'node:fs/promises'
import { decodeImage, allocateBatch, writeImage } from '@resnet/preprocess'
import { IMAGES_DIR } from '@resnet/test-support'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from './app.js'
import type { ImageModel } from './model.js'
import { ServingState } from './serving-state.js'
import { expectOverloadSplit, multipart, openFixtureModel } from './test-support.js'

let model: ImageModel
let app: ReturnType<typeof createApp>
const json = (body: unknown) => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json' },
})

beforeAll(async () => {
  model = await openFixtureModel()
  const state = new ServingState()
  state.setModel(model)
  app = createApp({ state, logger: pino({ level: 'silent' }) })
})
afterAll(() => model.close())

describe('Open Inference Protocol v2', () => {
  it('reports health, readiness and model metadata', async () => {
    expect(await (await app.request('/v2/health/live')).json()).toEqual({ live: true })
    expect(await (await app.request('/v2/health/ready')).json()).toEqual({ ready: true })
    const meta = (await (await app.request('/v2/models/mobilenetv2-int8')).json()) as Record<
      string,
      unknown
    >
    expect(meta).toMatchObject({
      name: 'mobilenetv2-int8',
      versions: ['test'],
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3, 224, 224] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 1000] }],
    })
    expect((await app.request('/v2/models/mobilenetv2-int8/ready')).status).toBe(200)
    expect((await app.request('/v2/models/other')).status).toBe(404)
  })

  it('gives the same scores for a photo’s preprocessed tensor as /predict gives for the photo', async () => {
    const photo = await readFile(`${IMAGES_DIR}wolves.jpg`)
    const batch = allocateBatch(model.config.input, 1)
    writeImage((await decodeImage(photo, model.config.input)).data, model.config.input, batch, 0)
    const res = await app.request(
      '/v2/models/mobilenetv2-int8/infer',
      json({
        id: 'r1',
        inputs: [
          {
            name: 'input',
            shape: [1, 3, 224, 224],
            datatype: 'FP32',
            data: Array.from(batch.data),
          },
        ],
      })
    )
    expect(res.status).toBe(200)
    const body = (await res.json()) as {
      id: string
      outputs: { shape: number[]; data: number[] }[]
    }
    expect(body.id).toBe('r1')
    expect(body.outputs[0]?.shape).toEqual([1, 1000])
    const scores = body.outputs[0]!.data
    const predicted = (await (
      await app.request('/predict?top_k=10', { method: 'POST', body: multipart(photo) })
    ).json()) as { predictions: { index: number; score: number }[] }
    for (const p of predicted.predictions)
      expect(Math.abs(scores[p.index]! - p.score)).toBeLessThan(1e-6)
  })

  it('goes through admission: beyond the queue 503 + Retry-After, every accepted call succeeds', async () => {
    const state = new ServingState({ maxBatchSize: 2, maxQueue: 4 })
    state.setModel(model)
    const small = createApp({ state, logger: pino({ level: 'silent' }) })
    const data = Array.from(allocateBatch(model.config.input, 2).data)
    const call = () =>
      small.request(
        '/v2/models/mobilenetv2-int8/infer',
        json({ inputs: [{ name: 'input', shape: [2, 3, 224, 224], datatype: 'FP32', data }] })
      )
    const responses = await Promise.all(Array.from({ length: 24 }, async () => call()))
    const accepted = await expectOverloadSplit(responses)
    for (const r of accepted) {
      const body = (await r.json()) as { outputs: { shape: number[] }[] }
      expect(body.outputs[0]!.shape).toEqual([2, 1000])
    }
    const text = await (await small.request('/metrics')).text()
    expect(text).toMatch(new RegExp(`^inference_batch_size_sum ${2 * accepted.length}$`, 'm'))
    expect(text).toMatch(new RegExp(`^inference_batch_size_count ${accepted.length}$`, 'm'))
  })

  it('checks datatype, shape and length against the model and answers 400 INVALID_TENSOR', async () => {
    const cases = [
      { name: 'input', shape: [1, 3, 224, 224], datatype: 'UINT8', data: [] },
      { name: 'input', shape: [1, 224, 224, 3], datatype: 'FP32', data: [] },
      { name: 'input', shape: [1, 3, 224, 224], datatype: 'FP32', data: [1, 2, 3] },
      { name: 'pixels', shape: [1, 3, 224, 224], datatype: 'FP32', data: [] },
      { name: 'input', shape: [0, 3, 224, 224], datatype: 'FP32', data: [] },
    ]
    for (const input of cases) {
      const res = await app.request('/v2/models/mobilenetv2-int8/infer', json({ inputs: [input] }))
      expect(res.status, JSON.stringify(input.shape) + input.datatype).toBe(400)
      expect(await res.json()).toMatchObject({ error: { code: 'INVALID_TENSOR' } })
    }
    const notJson = await app.request('/v2/models/mobilenetv2-int8/infer', json('nope'))
    expect(notJson.status).toBe(400)
  })
})
