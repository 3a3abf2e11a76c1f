import { readFile } from 'node:fs/promises'
import { decodeImage } from '@resnet/preprocess'
import { IMAGES_DIR } from '@resnet/test-support'
import { describe, expect, it } from 'vitest'
import type { ImageModel } from './model.js'
import { ServingState } from './serving-state.js'
import { openFixtureModel } from './test-support.js'

/** The real fixture model, recording when it is closed. */
async function tracked(): Promise<{ model: ImageModel; closed: () => boolean }> {
  const real = await openFixtureModel()
  let closed = false
  const model: ImageModel = {
    ...real,
    close: async () => {
      closed = true
      await real.close()
    },
  }
  return { model, closed: () => closed }
}

describe('ServingState.setModel (hot swap)', () => {
  it('swaps between requests: a request holding the old model finishes on it, then it is closed', async () => {
    const state = new ServingState()
    const first = await tracked()
    const second = await tracked()
    state.setModel(first.model)
    const pixels = (
      await decodeImage(await readFile(`${IMAGES_DIR}cat.jpg`), first.model.config.input)
    ).data

    const lease = state.lease()!
    state.setModel(second.model)
    expect(state.model).toBe(second.model)
    expect(state.ready).toBe(true)
    // the old model still serves the request that holds it
    const [row] = await lease.batcher.submit([pixels], { deadline: Date.now() + 10_000 })
    expect(row!.scores).toHaveLength(1000)
    expect(first.closed()).toBe(false)
    lease.release()
    await state.retired()
    expect(first.closed()).toBe(true)
    expect(second.closed()).toBe(false)
    await second.model.close()
  })

  it('closes a replaced model at once when nothing holds it, and reports the new identity', async () => {
    const state = new ServingState()
    const first = await tracked()
    const second = await tracked()
    state.setModel(first.model)
    state.setModel({ ...second.model, info: { ...second.model.info, version: 'v2' } })
    await state.retired()
    expect(first.closed()).toBe(true)
    const info = (await state.metrics.modelInfo.get()).values
    expect(info).toEqual([
      expect.objectContaining({
        labels: expect.objectContaining({ version: 'v2' }) as object,
        value: 1,
      }),
    ])
    await second.model.close()
  })
})
