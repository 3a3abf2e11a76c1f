import { readFile } from 'node:fs/promises'
import { allocateBatch, decodeImage, writeImage } from '@resnet/preprocess'
import { IMAGES_DIR } from '@resnet/test-support'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Batcher } from './batcher.js'
import type { ImageResult } from './batcher.js'
import { ServerMetrics } from './metrics.js'
import type { ImageModel } from './model.js'
import { openFixtureModel } from './test-support.js'

let model: ImageModel
let photos: Uint8Array[]
const later = () => Date.now() + 60_000

beforeAll(async () => {
  model = await openFixtureModel()
  photos = await Promise.all(
    ['cat.jpg', 'goldfish.jpg', 'kimono.jpg', 'lion.png', 'wolves.jpg', 'daisy.jpg'].map(
      async (f) => (await decodeImage(await readFile(IMAGES_DIR + f), model.config.input)).data
    )
  )
})
afterAll(() => model.close())

async function batchSizes(metrics: ServerMetrics): Promise<{ count: number; sum: number }> {
  const values = (await metrics.batchSize.get()).values
  const pick = (name: string) => values.find((v) => v.metricName === name)?.value ?? 0
  return { count: pick('inference_batch_size_count'), sum: pick('inference_batch_size_sum') }
}

describe('Batcher', () => {
  it('never runs more images than a fixed batch dimension, whatever maxBatchSize says', async () => {
    const sizes: number[] = []
    const fixed: ImageModel = {
      ...model,
      info: { ...model.info, fixedBatchSize: 2 },
      runItems: (pixels) => {
        sizes.push(pixels.length)
        return model.runImages(pixels)
      },
    }
    const batcher = new Batcher(fixed, { maxBatchSize: 8, maxQueue: 16 })
    const results = await Promise.all(
      photos.map((px) => batcher.submit([px], { deadline: later() }))
    )
    expect(results.flat()).toHaveLength(photos.length)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2)
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(photos.length)
  })

  it('groups concurrent requests into batches whose results equal unbatched runs', async () => {
    const unbatched: ImageResult[] = []
    for (const pixels of photos)
      unbatched.push(
        (
          await new Batcher(model, { maxBatchSize: 1, maxQueue: 9 }).submit([pixels], {
            deadline: later(),
          })
        )[0]!
      )

    const metrics = new ServerMetrics()
    const batcher = new Batcher(model, { maxBatchSize: 8, maxQueue: 64 }, metrics)
    const results = await Promise.all(
      photos.map((pixels) => batcher.submit([pixels], { deadline: later() }))
    )
    const { count, sum } = await batchSizes(metrics)
    expect(sum).toBe(photos.length)
    expect(count).toBeLessThan(photos.length) // at least one run carried several requests
    results.forEach(([got], i) => {
      const want = unbatched[i]!.scores
      const maxDiff = got!.scores.reduce((m, v, j) => Math.max(m, Math.abs(v - want[j]!)), 0)
      expect(maxDiff).toBeLessThanOrEqual(1e-4)
    })
  })

  it('runs a ready-made tensor as a batch of its own, in queue order, with the scores of its images', async () => {
    const metrics = new ServerMetrics()
    const batcher = new Batcher(model, { maxBatchSize: 8, maxQueue: 64 }, metrics)
    const tensor = allocateBatch(model.config.input, 2)
    photos.slice(0, 2).forEach((pixels, i) => {
      writeImage(pixels, model.config.input, tensor, i)
    })
    // queued while the first image runs: 2 images, the tensor, 2 images
    const first = batcher.submit([photos[2]!], { deadline: later() })
    const before = batcher.submit(photos.slice(3, 5), { deadline: later() })
    const fromTensor = batcher.submitTensor(tensor, { deadline: later() })
    expect(batcher.queued).toBe(4) // the tensor counts its 2 images
    const after = batcher.submit(photos.slice(0, 2), { deadline: later() })
    const [, , rows, same] = await Promise.all([first, before, fromTensor, after])
    expect(rows).toHaveLength(2)
    rows.forEach((row, i) => {
      const want = same[i]!.scores
      const maxDiff = row.scores.reduce((m, v, j) => Math.max(m, Math.abs(v - want[j]!)), 0)
      expect(maxDiff).toBeLessThanOrEqual(1e-4)
    })
    // runs: [first], [2 images] (the tensor is not merged into it), [tensor], [2 images]
    expect(await batchSizes(metrics)).toEqual({ count: 4, sum: 7 })
  })

  it('starts at once when idle: a lone request is not held back', async () => {
    const batcher = new Batcher(model, { maxBatchSize: 8, maxQueue: 64 })
    const [result] = await batcher.submit([photos[0]!], { deadline: later() })
    expect(result!.queueMs).toBeLessThan(5)
  })

  it('refuses at once with OVERLOADED when the queue is full, and serves what it accepted', async () => {
    const metrics = new ServerMetrics()
    const batcher = new Batcher(model, { maxBatchSize: 2, maxQueue: 2 }, metrics)
    // the first request starts running at once; the second waits and fills the queue
    const accepted = [batcher.submit([photos[0]!, photos[1]!], { deadline: later() })]
    accepted.push(batcher.submit([photos[2]!, photos[3]!], { deadline: later() }))
    expect(() => batcher.submit([photos[4]!], { deadline: later() })).toThrow(
      expect.objectContaining({ code: 'OVERLOADED', retryAfter: 1 })
    )
    const done = await Promise.all(accepted)
    expect(done.flat()).toHaveLength(4)
    expect((await metrics.rejected.get()).values[0]).toMatchObject({
      labels: { reason: 'queue_full' },
      value: 1,
    })
  })

  it('refuses when the expected wait passes the deadline, and drops queued work of a client that left', async () => {
    const batcher = new Batcher(model, { maxBatchSize: 1, maxQueue: 64 })
    await batcher.submit([photos[0]!], { deadline: later() }) // measures the speed
    const busy = Array.from({ length: 6 }, () =>
      batcher.submit([photos[1]!], { deadline: later() })
    )
    expect(() => batcher.submit([photos[2]!], { deadline: Date.now() + 1 })).toThrow(
      /expected wait/
    )
    const client = new AbortController()
    const leaving = batcher.submit([photos[3]!], { deadline: later(), signal: client.signal })
    client.abort()
    await expect(leaving).rejects.toThrow(/went away/)
    expect((await Promise.all(busy)).flat()).toHaveLength(6)
    expect(batcher.queued).toBe(0)
  })

  it('holds queue room for images still being read, and refuses past it before any work', async () => {
    const metrics = new ServerMetrics()
    const batcher = new Batcher(model, { maxBatchSize: 2, maxQueue: 3 }, metrics)
    const first = await batcher.reserve(2, later())
    const second = await batcher.reserve(1, later())
    expect(batcher.reserved).toBe(3)
    await expect(batcher.reserve(1, later())).rejects.toMatchObject({
      code: 'OVERLOADED',
      retryAfter: 1,
    })
    expect(() => {
      second.resize(2)
    }).toThrow(/queue is full \(3 images\)/)
    second.release()
    second.release() // idempotent
    expect(batcher.reserved).toBe(2)
    // submitting with the reservation uses it up instead of being admitted a second time
    const rows = await batcher.submit([photos[0]!, photos[1]!], {
      deadline: later(),
      reservation: first,
    })
    expect(rows).toHaveLength(2)
    expect(batcher.reserved).toBe(0)
    expect((await metrics.rejected.get()).values[0]).toMatchObject({
      labels: { reason: 'queue_full' },
      value: 2,
    })
  })

  it('holds a request that does not fit yet and admits it, in order, once it does', async () => {
    const metrics = new ServerMetrics()
    const batcher = new Batcher(
      model,
      { maxBatchSize: 2, maxQueue: 2, maxAdmissionWaitMs: 10_000 },
      metrics
    )
    const first = await batcher.reserve(2, later())
    const order: string[] = []
    const held = batcher.reserve(1, later()).then((r) => (order.push('held'), r))
    const next = batcher.reserve(1, later()).then((r) => (order.push('next'), r))
    const impatient = new AbortController()
    const gone = batcher.reserve(1, later(), impatient.signal)
    await new Promise((r) => setTimeout(r, 20))
    expect(order).toEqual([]) // nothing fits while the first holds the whole queue
    impatient.abort()
    await expect(gone).rejects.toThrow(/went away/)
    await batcher.submit([photos[0]!, photos[1]!], { deadline: later(), reservation: first })
    const admitted = await Promise.all([held, next])
    expect(order).toEqual(['held', 'next'])
    expect(batcher.reserved).toBe(2)
    for (const r of admitted) r.release()
    // a request that cannot fit before its wait ends is refused then, with its reason
    const short = new Batcher(model, { maxBatchSize: 1, maxQueue: 1, maxAdmissionWaitMs: 50 })
    const hog = await short.reserve(1, later())
    const started = performance.now()
    await expect(short.reserve(1, later())).rejects.toMatchObject({ code: 'OVERLOADED' })
    expect(performance.now() - started).toBeGreaterThanOrEqual(45)
    hog.release()
    expect((await metrics.rejected.get()).values).toEqual([
      expect.objectContaining({ labels: { reason: 'client_gone' }, value: 1 }),
    ])
  })
})
