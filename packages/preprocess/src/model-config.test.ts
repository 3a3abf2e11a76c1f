import { describe, expect, it } from 'vitest'
import { PreprocessError } from './errors.js'
import { DEFAULT_MODEL_CONFIG, parseModelConfig } from './model-config.js'

describe('parseModelConfig', () => {
  it("defaults to torchvision's ImageNet recipe", () => {
    expect(DEFAULT_MODEL_CONFIG.input).toMatchObject({
      height: 224,
      width: 224,
      resize: 256,
      crop: 'center',
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      colorOrder: 'RGB',
      layout: 'NCHW',
      dtype: 'float32',
    })
    expect(DEFAULT_MODEL_CONFIG.input.scale).toBeCloseTo(1 / 255, 12)
    expect(DEFAULT_MODEL_CONFIG.output.activation).toBe('softmax')
  })

  it('derives the resize from the crop size as crop / 0.875', () => {
    expect(parseModelConfig({ input: { size: 299 } }).input.resize).toBe(342)
  })

  it('lists every invalid field with its path', () => {
    const bad = { input: { layout: 'CHW', mean: [0.5], std: [1, 0, 1] }, extra: 1 }
    let error: unknown
    try {
      parseModelConfig(bad)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(PreprocessError)
    expect(error).toMatchObject({ code: 'INVALID_MODEL_CONFIG' })
    const message = (error as Error).message
    expect(message).toMatch(/input\.layout/)
    expect(message).toMatch(/input\.mean/)
    expect(message).toMatch(/input\.std/)
    expect(message).toMatch(/extra/)
  })

  it('refuses a resize smaller than the crop', () => {
    expect(() => parseModelConfig({ input: { size: 224, resize: 200 } })).toThrow(/input\.resize/)
  })

  it('returns a frozen object', () => {
    expect(Object.isFrozen(parseModelConfig({}).input)).toBe(true)
  })
})
