import { describe, expect, it } from 'vitest'
import { configFromImageProcessor, labelsFromId2Label } from './hf-processor.js'
import { parseModelConfig } from './model-config.js'

describe('configFromImageProcessor', () => {
  it('maps a ResNet/MobileNet processor (shortest_edge + crop_size) to resize + centre crop', () => {
    const input = configFromImageProcessor({
      do_resize: true,
      size: { shortest_edge: 256 },
      do_center_crop: true,
      crop_size: { height: 224, width: 224 },
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
      resample: 3,
    })
    expect(parseModelConfig(input).input).toMatchObject({
      height: 224,
      width: 224,
      resize: 256,
      crop: 'center',
      mean: [0.5, 0.5, 0.5],
      interpolation: 'bicubic',
    })
  })

  it('maps a ViT processor (height/width, no crop) to a straight resize', () => {
    const { input } = configFromImageProcessor({
      size: { height: 384, width: 384 },
      do_center_crop: false,
      resample: 2,
    })
    expect(input).toEqual({ size: [384, 384], crop: 'none', interpolation: 'bilinear' })
  })

  it("maps ConvNeXt's crop_pct: shorter side to shortest_edge / crop_pct, then the crop", () => {
    const { input } = configFromImageProcessor({ size: { shortest_edge: 224 }, crop_pct: 0.875 })
    expect(input).toEqual({ size: 224, crop: 'center', resize: 256 })
    const large = configFromImageProcessor({ size: { shortest_edge: 384 }, crop_pct: 0.875 })
    expect(large.input).toEqual({ size: 384, crop: 'none' })
  })

  it('turns do_rescale / do_normalize off into scale 1 and mean 0 / std 1', () => {
    const { input } = configFromImageProcessor({ do_rescale: false, do_normalize: false })
    expect(input).toEqual({ scale: 1, mean: [0, 0, 0], std: [1, 1, 1] })
  })

  it('refuses a resample filter sharp cannot reproduce, naming the ones it can', () => {
    expect(() => configFromImageProcessor({ resample: 1 })).toThrow(
      /resample 1 \(lanczos\) is not supported; use 2 \(bilinear\) or 3 \(bicubic\)/
    )
  })
})

describe('labelsFromId2Label', () => {
  it('orders labels by class id and fills gaps', () => {
    expect(labelsFromId2Label({ id2label: { 1: 'dog', 0: 'cat', 3: 'cow' } })).toEqual([
      'cat',
      'dog',
      'class_2',
      'cow',
    ])
    expect(labelsFromId2Label({ input: {} })).toBeUndefined()
  })
})
