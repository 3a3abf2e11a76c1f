import path from 'node:path'
import { breastCancerTreeBundle, startLocalS3, treeBundleAvailable } from '@resnet/test-support'
import type { AppProcess, TreeBundle } from '@resnet/test-support'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTabularApp } from './test-support.js'

if (!treeBundleAvailable)
  console.warn('skipped: the tabular app tests need apt-get install python3-sklearn python3-onnx')

interface Answer {
  model: { name: string; version: string }
  predictions: { label: string; index: number; probabilities: Record<string, number> }[]
}

const predict = (url: string, body: unknown) =>
  fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

/** Largest |served - predict_proba| over every held-out row and class. */
const worstDifference = (answer: Answer, expected: TreeBundle['expected']): number =>
  Math.max(
    ...answer.predictions.flatMap((p, i) =>
      ['malignant', 'benign'].map((label, c) =>
        Math.abs(p.probabilities[label]! - expected.probabilities[i]![c]!)
      )
    )
  )

describe.skipIf(!treeBundleAvailable)('apps/catboost as a process', () => {
  let bundle: TreeBundle
  beforeAll(async () => {
    bundle = await breastCancerTreeBundle()
  })

  describe('serving a local bundle', () => {
    let app: AppProcess
    beforeAll(async () => {
      app = await startTabularApp({ MODEL_URI: bundle.dir, API_KEYS: 'k1' })
      await app.waitReady()
    })
    afterAll(() => app.stop())

    it("answers the trainer's predict_proba for every held-out row, max abs diff <= 1e-5", async () => {
      const res = await fetch(`${app.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer k1' },
        body: JSON.stringify({ instances: bundle.expected.rows }),
      })
      expect(res.status).toBe(200)
      expect(res.headers.get('server-timing')).toMatch(/inference;dur=/)
      const answer = (await res.json()) as Answer
      expect(answer.predictions).toHaveLength(bundle.expected.rows.length)
      expect(worstDifference(answer, bundle.expected)).toBeLessThanOrEqual(1e-5)
      const line = await app.waitForLog(
        (l) => l.msg === 'ZipMap removed at load: serving its probability tensor instead'
      )
      expect(line.replaced).toEqual([{ from: 'output_probability', to: 'probabilities' }])
    })

    it('shares auth, metrics and readiness with the image app', async () => {
      expect((await predict(app.url, { instances: [bundle.expected.rows[0]] })).status).toBe(401)
      const metrics = await (await fetch(`${app.url}/metrics`)).text()
      expect(metrics).toMatch(/inference_batch_size_count [1-9]/)
      expect((await fetch(`${app.url}/readyz`)).status).toBe(200)
      const page = await fetch(`${app.url}/`, { headers: { accept: 'text/html' } })
      expect(await page.text()).toContain('<title>Tabular classifier demo</title>')
    })
  })

  it('serves the same bundle from S3 (features.json fetched with the model)', async () => {
    const s3 = await startLocalS3(['models'])
    let app: AppProcess | undefined
    try {
      for (const name of ['model.onnx', 'features.json', 'labels.txt']) {
        await s3.put('models', `trees/${name}`, path.join(bundle.dir, name))
      }
      app = await startTabularApp({
        ...s3.env,
        MODEL_URI: 's3://models/trees/',
        MODEL_CACHE_DIR: path.join(bundle.dir, 'cache'),
      })
      await app.waitReady()
      const answer = (await (
        await predict(app.url, { instances: bundle.expected.rows })
      ).json()) as Answer
      expect(answer.model.name).toBe('trees')
      expect(worstDifference(answer, bundle.expected)).toBeLessThanOrEqual(1e-5)
    } finally {
      await app?.stop()
      await s3.close()
    }
  })

  it('refuses a bundle without features.json before it turns ready (exit 1, one clear line)', async () => {
    const app = await startTabularApp({ MODEL_URI: path.join(bundle.dir, 'model.onnx') })
    expect(await app.exited()).toBe(1)
    expect(app.output()).toMatch(/has no features\.json: a tabular bundle names its input columns/)
  })

  it('refuses to start without MODEL_URI, naming it', async () => {
    const app = await startTabularApp({})
    expect(await app.exited()).toBe(1)
    expect(app.output()).toMatch(/MODEL_URI=""/)
  })
})
