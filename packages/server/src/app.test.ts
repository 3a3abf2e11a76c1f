import { readFile } from 'node:fs/promises'
import { BAD_IMAGES_DIR, expectedClasses, IMAGES_DIR } from '@resnet/test-support'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, DEFAULT_SERVER_LIMITS } from './app.js'
import type { ImageModel } from './model.js'
import { ServingState } from './serving-state.js'
import { multipart, openFixtureModel } from './test-support.js'

const logger = pino({ level: 'silent' })
let model: ImageModel
let cat: Buffer

interface PredictBody {
  model: { name: string; version: string }
  predictions: { label: string; index: number; score: number }[]
}

beforeAll(async () => {
  model = await openFixtureModel()
  cat = await readFile(`${IMAGES_DIR}cat.jpg`)
})
afterAll(() => model.close())

function readyApp(limits = DEFAULT_SERVER_LIMITS) {
  const state = new ServingState()
  state.setModel(model)
  return { state, app: createApp({ state, logger, limits }) }
}

describe('createApp while loading and draining', () => {
  it('is live but not ready before a model is set, and refuses predictions with 503', async () => {
    const app = createApp({ state: new ServingState(), logger })
    expect((await app.request('/healthz')).status).toBe(200)
    const ready = await app.request('/readyz')
    expect(ready.status).toBe(503)
    expect(await ready.json()).toEqual({ status: 'loading' })
    const info = await app.request('/')
    expect(await info.json()).toMatchObject({ status: 'loading', model: null })
    const res = await app.request('/predict', { method: 'POST', body: multipart(cat) })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('1')
    expect(await res.json()).toMatchObject({ error: { code: 'NOT_READY' } })
  })

  it('turns /readyz to 503 once draining but keeps serving predictions', async () => {
    const { state, app } = readyApp()
    expect((await app.request('/readyz')).status).toBe(200)
    state.startDraining()
    expect((await app.request('/readyz')).status).toBe(503)
    expect(await (await app.request('/readyz')).json()).toEqual({ status: 'draining' })
    expect((await app.request('/healthz')).status).toBe(200)
    const res = await app.request('/predict', { method: 'POST', body: multipart(cat) })
    expect(res.status).toBe(200)
  })
})

describe('POST /predict', () => {
  it('classifies a multipart upload: 5 predictions, sorted, expected top-1', async () => {
    const { app } = readyApp()
    const res = await app.request('/predict', {
      method: 'POST',
      body: multipart(cat),
      headers: { 'X-Request-Id': 'req-123' },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-request-id')).toBe('req-123')
    expect(res.headers.get('server-timing')).toMatch(
      /^decode;dur=[\d.]+, preprocess;dur=[\d.]+, queue;dur=[\d.]+, inference;dur=[\d.]+, total;dur=[\d.]+$/
    )
    const body = (await res.json()) as PredictBody
    expect(body.model).toEqual({ name: 'mobilenetv2-int8', version: 'test' })
    expect(body.predictions).toHaveLength(5)
    const scores = body.predictions.map((p) => p.score)
    expect(scores).toEqual([...scores].sort((a, b) => b - a))
    expect(expectedClasses()['cat.jpg']).toContain(body.predictions[0]?.index)
    expect(body.predictions[0]?.label).toMatch(/cat|tabby/)
  })

  it('accepts a raw image body and honours top_k', async () => {
    const { app } = readyApp()
    for (const type of ['image/jpeg', 'application/octet-stream']) {
      const res = await app.request('/predict?top_k=3', {
        method: 'POST',
        body: cat,
        headers: { 'content-type': type },
      })
      expect(res.status).toBe(200)
      expect(((await res.json()) as PredictBody).predictions).toHaveLength(3)
    }
  })

  it('answers several image fields with results in order, equal to single predictions', async () => {
    const { app } = readyApp()
    const goldfish = await readFile(`${IMAGES_DIR}goldfish.jpg`)
    const res = await app.request('/predict', { method: 'POST', body: multipart(goldfish, cat) })
    const body = (await res.json()) as { results: { predictions: PredictBody['predictions'] }[] }
    expect(body.results).toHaveLength(2)
    const single = (await (
      await app.request('/predict', { method: 'POST', body: multipart(cat) })
    ).json()) as PredictBody
    expect(body.results[1]?.predictions[0]?.index).toBe(single.predictions[0]?.index)
    expect(body.results[1]?.predictions[0]?.score).toBeCloseTo(single.predictions[0]!.score, 4)
    expect(body.results[0]?.predictions[0]?.index).toBe(1) // goldfish
  })

  it.each([
    ['no image field', () => ({ body: new FormData() }), 400, 'MISSING_IMAGE'],
    [
      'a JSON body',
      () => ({ body: '{}', headers: { 'content-type': 'application/json' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'an empty raw body',
      () => ({ body: new Uint8Array(), headers: { 'content-type': 'image/png' } }),
      400,
      'MISSING_IMAGE',
    ],
    [
      'an SVG',
      () => ({ body: multipart(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')) }),
      415,
      'UNSUPPORTED_IMAGE',
    ],
    [
      'random bytes',
      () => ({ body: multipart(Buffer.from('definitely not an image')) }),
      415,
      'UNSUPPORTED_IMAGE',
    ],
  ] as const)('answers %s with the error JSON', async (_name, request, status, code) => {
    const { app } = readyApp()
    const res = await app.request('/predict', { method: 'POST', ...request() })
    expect(res.status).toBe(status)
    expect(await res.json()).toEqual({ error: { code, message: expect.any(String) as string } })
  })

  it('refuses a bad top_k, too many images and an oversized body', async () => {
    const limits = { ...DEFAULT_SERVER_LIMITS, maxBodyBytes: 20_000, maxImagesPerRequest: 2 }
    const { app } = readyApp(limits)
    const topK = await app.request('/predict?top_k=0', { method: 'POST', body: multipart(cat) })
    expect(topK.status).toBe(400)
    const many = await app.request('/predict', { method: 'POST', body: multipart(cat, cat, cat) })
    expect(many.status).toBe(413)
    expect(await many.json()).toMatchObject({ error: { code: 'TOO_MANY_IMAGES' } })
    const big = await app.request('/predict', {
      method: 'POST',
      body: new Uint8Array(50_000),
      headers: { 'content-type': 'image/jpeg' },
    })
    expect(big.status).toBe(413)
    expect(await big.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } })
  })

  it('gives every odd or broken fixture image a 200 or a 4xx JSON error, and stays ready', async () => {
    const { app } = readyApp()
    const files = [
      'pillow__truncated_jpeg.jpg',
      'pillow__broken.png',
      'sharp__corrupt-header.jpg',
      'sharp__65536-uint32-limit.png',
      'pillowheif__RGB_8__128x128.heif',
      'pillow__iss634.gif',
      'pillow__pil_sample_cmyk.jpg',
      'sharp__bggn4a16.png',
      'winml__kitten_jpeg_named.png',
    ]
    for (const file of files) {
      const res = await app.request('/predict', {
        method: 'POST',
        body: multipart(await readFile(BAD_IMAGES_DIR + file)),
      })
      expect(res.status === 200 || (res.status >= 400 && res.status < 500), file).toBe(true)
      const body = (await res.json()) as object
      expect(res.status === 200 ? 'predictions' in body : 'error' in body, file).toBe(true)
    }
    expect((await app.request('/readyz')).status).toBe(200)
  })
})

describe('errors', () => {
  it('answers an unknown route with 404 JSON', async () => {
    const res = await createApp({ state: new ServingState(), logger }).request('/nope')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } })
  })

  it('hides the details of an unexpected failure behind a 500 INTERNAL', async () => {
    const state = new ServingState()
    const fail = () => Promise.reject(new Error('secret /path/to/model'))
    state.setModel({ ...model, run: fail, runItems: fail })
    const res = await createApp({ state, logger }).request('/predict', {
      method: 'POST',
      body: multipart(cat),
    })
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({
      error: { code: 'INTERNAL', message: 'Internal server error' },
    })
    expect(text).not.toContain('secret')
  })
})
