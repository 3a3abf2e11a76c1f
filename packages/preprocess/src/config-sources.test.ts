import { describe, expect, it } from 'vitest'
import { parseModelConfig } from './model-config.js'

const nhwcUint8 = { name: 'image', type: 'uint8', shape: ['N', 299, 299, 3] }

describe('parseModelConfig: where each value comes from', () => {
  it('takes layout, size and dtype from the declared input when config.json leaves them out', () => {
    const config = parseModelConfig({}, { declared: nhwcUint8 })
    expect(config.input).toMatchObject({ layout: 'NHWC', height: 299, width: 299, dtype: 'uint8' })
    expect(config.input.resize).toBe(342) // 299 / 0.875, from the model's size
    expect(config.sources).toMatchObject({
      'input.layout': 'model',
      'input.size': 'model',
      'input.dtype': 'model',
      'input.mean': 'default',
      'output.activation': 'default',
    })
  })

  it('keeps what config.json sets over the model (a contradiction is the server’s to refuse)', () => {
    const config = parseModelConfig({ input: { size: 320 } }, { declared: nhwcUint8 })
    expect(config.input).toMatchObject({ height: 320, width: 320, layout: 'NHWC' })
    expect(config.sources['input.size']).toBe('config.json')
  })

  it('names the processor file for a Hugging Face bundle', () => {
    const config = parseModelConfig(
      { input: { size: 224 } },
      { source: 'preprocessor_config.json' }
    )
    expect(config.sources['input.size']).toBe('preprocessor_config.json')
  })

  it('applies a Keras preset under the fields the file sets', () => {
    const caffe = parseModelConfig({ input: { preset: 'caffe' } })
    expect(caffe.input).toMatchObject({
      colorOrder: 'BGR',
      scale: 1,
      mean: [123.68, 116.779, 103.939],
      std: [1, 1, 1],
    })
    expect(caffe.sources['input.mean']).toBe('preset caffe')
    expect(caffe.input).not.toHaveProperty('preset')
    const tf = parseModelConfig({ input: { preset: 'tf', mean: [0.4, 0.4, 0.4] } })
    expect(tf.input).toMatchObject({ mean: [0.4, 0.4, 0.4], std: [0.5, 0.5, 0.5] })
    expect(tf.input.scale).toBeCloseTo(1 / 255, 12)
    expect(tf.sources).toMatchObject({ 'input.mean': 'config.json', 'input.std': 'preset tf' })
    expect(() => parseModelConfig({ input: { preset: 'keras' } })).toThrow(/input\.preset/)
  })

  it('still reports a config that is not an object, or whose input is not one', () => {
    expect(() => parseModelConfig([])).toThrow(/Invalid model config/)
    expect(() => parseModelConfig({ input: 3 })).toThrow(/input/)
  })
})
