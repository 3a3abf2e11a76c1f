import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { exposeZipMapInputs } from '@resnet/model-loader'
import { breastCancerTreeBundle, treeBundleAvailable } from '@resnet/test-support'
import type { TreeBundle } from '@resnet/test-support'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from './app.js'
import { parseLabels } from './labels.js'
import type { InferenceModel } from './model.js'
import { ServingState } from './serving-state.js'
import { parseFeatures } from './tabular-features.js'
import { createTabularModel } from './tabular-model.js'

if (!treeBundleAvailable)
  console.warn('skipped: the tabular API tests need apt-get install python3-sklearn python3-onnx')

const post = (body: unknown, type = 'application/json') => ({
  method: 'POST',
  body: typeof body === 'string' ? body : JSON.stringify(body),
  headers: { 'content-type': type },
})

interface Answer {
  predictions: { label: string; index: number; probabilities: Record<string, number> }[]
}

describe.skipIf(!treeBundleAvailable)('the shared server with a tabular model', () => {
  let bundle: TreeBundle
  let model: InferenceModel
  let app: ReturnType<typeof createApp>
  const named = (row: readonly number[]) =>
    Object.fromEntries(bundle.featureNames.map((name, i) => [name, row[i]]))

  beforeAll(async () => {
    bundle = await breastCancerTreeBundle()
    const read = (name: string) => readFile(path.join(bundle.dir, name), 'utf8')
    const modelPath = path.join(bundle.dir, 'model.onnx')
    model = await createTabularModel({
      modelPath,
      modelBytes: exposeZipMapInputs(await readFile(modelPath)).model,
      features: parseFeatures(JSON.parse(await read('features.json'))),
      labels: parseLabels(await read('labels.txt')),
      identity: { name: 'breast-cancer', version: 'test', sha256: 'a'.repeat(64) },
      threads: 1,
    })
    const state = new ServingState({ maxBatchSize: 64, maxQueue: 1024 })
    state.setModel(model)
    app = createApp({ state, logger: pino({ level: 'silent' }) })
  })
  afterAll(() => model.close())

  it("serves the trainer's predict_proba for every held-out row (max abs diff <= 1e-5)", async () => {
    const { rows, probabilities } = bundle.expected
    const res = await app.request('/predict', post({ instances: rows.map(named) }))
    expect(res.status).toBe(200)
    const answer = (await res.json()) as Answer
    expect(answer.predictions).toHaveLength(rows.length)
    let worst = 0
    answer.predictions.forEach((p, i) => {
      const want = probabilities[i]!
      worst = Math.max(
        worst,
        ...['malignant', 'benign'].map((l, c) => Math.abs(p.probabilities[l]! - want[c]!))
      )
      expect(p.label).toBe(want[1]! > want[0]! ? 'benign' : 'malignant')
    })
    expect(worst).toBeLessThanOrEqual(1e-5)
  })

  it('gives the same answer for arrays in feature order and for rows sent one by one, concurrently', async () => {
    const rows = bundle.expected.rows.slice(0, 24)
    const asArrays = (await (
      await app.request('/predict', post({ instances: rows }))
    ).json()) as Answer
    const single = await Promise.all(
      rows.map(async (row) => {
        const res = await app.request('/predict', post({ instances: [named(row)] }))
        return ((await res.json()) as Answer).predictions[0]
      })
    )
    expect(single).toEqual(asArrays.predictions)
  })

  it('lists every problem of every instance in one 400 INVALID_INSTANCES', async () => {
    const [first, second] = bundle.expected.rows as [number[], number[]]
    const bad = named(first)
    delete bad['mean radius']
    const instances = [
      { ...bad, 'mean texture': 'high', 'mean area': -1, colour: 3 },
      second.slice(0, 29),
      'row',
    ]
    const res = await app.request('/predict', post({ instances }))
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as {
      error: { code: string; message: string; problems: object[] }
    }
    expect(error.code).toBe('INVALID_INSTANCES')
    expect(error.message).toMatch(
      /^6 problem\(s\) in the instances: instance 0 "mean radius": is missing/
    )
    expect(error.problems).toEqual([
      { instance: 0, field: 'mean radius', problem: 'is missing' },
      { instance: 0, field: 'mean texture', problem: 'must be a number; got "high"' },
      { instance: 0, field: 'mean area', problem: '-1 is below 0' },
      { instance: 0, field: 'colour', problem: 'is not a feature' },
      { instance: 1, problem: 'has 29 values; the model takes 30, in features order' },
      { instance: 2, problem: 'must be an object keyed by feature name or an array; got "row"' },
    ])
  })

  it('refuses bodies that are not {"instances": [...]} JSON, in the error shape', async () => {
    const cases = [
      [post('a=1', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [post('{nope'), 400, 'BAD_REQUEST'],
      [post({ rows: [] }), 400, 'INVALID_INSTANCES'],
      [post({ instances: Array.from({ length: 1025 }, () => []) }), 413, 'TOO_MANY_INSTANCES'],
    ] as const
    for (const [init, status, code] of cases) {
      const res = await app.request('/predict', init)
      expect(res.status).toBe(status)
      expect(await res.json()).toMatchObject({ error: { code } })
    }
  })

  it('describes its features on GET / and runs v2 tensors [N, 30] like /predict', async () => {
    const info = (await (await app.request('/')).json()) as Record<string, unknown>
    expect(info).toMatchObject({ status: 'ready', labels: ['malignant', 'benign'] })
    expect((info.features as { name: string }[]).map((f) => f.name)).toEqual(bundle.featureNames)
    expect((info.endpoints as { predict: string }).predict).toMatch(/instances/)
    const rows = bundle.expected.rows.slice(0, 3)
    const res = await app.request(
      '/v2/models/breast-cancer/infer',
      post({
        inputs: [{ name: 'float_input', shape: [3, 30], datatype: 'FP32', data: rows.flat() }],
      })
    )
    expect(res.status).toBe(200)
    const v2 = (await res.json()) as { outputs: { shape: number[]; data: number[] }[] }
    expect(v2.outputs[0]!.shape).toEqual([3, 2])
    bundle.expected.probabilities.slice(0, 3).forEach((want, i) => {
      want.forEach((p, c) => {
        expect(Math.abs(v2.outputs[0]!.data[i * 2 + c]! - p)).toBeLessThanOrEqual(1e-5)
      })
    })
  })
})
