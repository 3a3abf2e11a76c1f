import { describe, expect, it } from 'vitest'
import { PreprocessError } from './errors.js'
import { DEFAULT_MODEL_CONFIG, parseModelConfig } from './model-config.js'

function messageOf(json: unknown): string {
  try {
    parseModelConfig(json)
  } catch (err) {
    expect(err).toBeInstanceOf(PreprocessError)
    expect(err).toMatchObject({ code: 'INVALID_MODEL_CONFIG' })
    return (err as Error).message
  }
  throw new Error('expected the config to be refused')
}

describe('parseModelConfig', () => {
  it("defaults to torchvision's ImageNet recipe", () => {
    expect(DEFAULT_MODEL_CONFIG.input).toMatchObject({
      height: 224,
      width: 224,
      resize: 256,
      crop: 'center',
      interpolation: 'bilinear',
      fastShrinkOnLoad: false,
      iccProfile: 'ignore',
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      colorOrder: 'RGB',
      layout: 'NCHW',
      dtype: 'float32',
      background: [255, 255, 255],
    })
    expect(DEFAULT_MODEL_CONFIG.input.scale).toBeCloseTo(1 / 255, 12)
    expect(DEFAULT_MODEL_CONFIG.output.activation).toBe('softmax')
    expect(parseModelConfig(undefined)).toEqual(DEFAULT_MODEL_CONFIG)
  })

  it('derives the resize from the crop size as crop / 0.875, and splits [height, width]', () => {
    expect(parseModelConfig({ input: { size: 299 } }).input.resize).toBe(342)
    expect(parseModelConfig({ input: { size: [240, 320] } }).input).toMatchObject({
      height: 240,
      width: 320,
      resize: 274,
    })
  })

  it('lists every invalid field with its path, what was expected and what it got', () => {
    const message = messageOf({
      input: { layout: 'CHW', mean: [0.5], std: [1, 0, 1], size: [1, 2, 3], padColor: [0, 0, 300] },
      extra: 1,
    })
    expect(message).toContain(
      'input.layout: Invalid option: expected one of "NCHW"|"NHWC" (got "CHW")'
    )
    expect(message).toContain('input.mean: expected three channel means [r, g, b] (got [0.5])')
    expect(message).toContain('input.std: expected every std value to be > 0 (got [1,0,1])')
    expect(message).toContain('input.size: expected a side length or [height, width]')
    expect(message).toContain('input.padColor: expected the padding colour as [r, g, b] integers')
    expect(message).toContain('(root): Unrecognized key: "extra"')
    expect(message.split('\n')).toHaveLength(7) // the heading and six problems
  })

  it('refuses settings that would silently do nothing or be impossible', () => {
    expect(messageOf({ input: { size: 224, resize: 200 } })).toContain(
      'input.resize: expected at least the input size (224x224), got 200'
    )
    expect(messageOf({ input: { crop: 'letterbox', resize: 256 } })).toContain(
      'input.resize: only used with crop "center"'
    )
    expect(messageOf({ input: { dtype: 'uint8', mean: [0, 0, 0], scale: 1 } })).toMatch(
      /input\.scale: has no effect with dtype "uint8"[^]*input\.mean: has no effect/
    )
    expect(messageOf({ input: { interpolation: 'lanczos' } })).toContain(
      'expected one of "bilinear"|"bicubic"'
    )
  })

  it('accepts the Caffe-style and quantized examples of the README', () => {
    const caffe = parseModelConfig({
      input: { colorOrder: 'BGR', scale: 1, mean: [123.68, 116.779, 103.939], std: [1, 1, 1] },
      output: { activation: 'none' },
    })
    expect(caffe.input).toMatchObject({ colorOrder: 'BGR', scale: 1 })
    expect(parseModelConfig({ input: { dtype: 'uint8', layout: 'NHWC' } }).input.dtype).toBe(
      'uint8'
    )
  })

  it('returns a frozen object', () => {
    expect(Object.isFrozen(parseModelConfig({}).input)).toBe(true)
  })
})
