import { describe, expect, it } from 'vitest'
import { openFixtureModel } from './test-support.js'

describe('createOnnxModel', () => {
  it('reads the input and output names and class count from the model', async () => {
    const model = await openFixtureModel()
    try {
      expect(model.info).toMatchObject({ inputName: 'input', outputName: 'output', classes: 1000 })
    } finally {
      await model.close()
    }
  })

  it('fails at start when the config contradicts the model input (dtype, layout)', async () => {
    await expect(openFixtureModel({ input: { dtype: 'uint8' } })).rejects.toThrow(
      /is float32 but the config says input.dtype=uint8/
    )
    await expect(openFixtureModel({ input: { layout: 'NHWC' } })).rejects.toThrow(/has shape/)
  })

  it('fails at start when the config names an output the model does not have', async () => {
    await expect(openFixtureModel({ output: { name: 'logits' } })).rejects.toThrow()
  })
})
