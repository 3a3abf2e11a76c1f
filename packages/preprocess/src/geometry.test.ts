import { describe, expect, it } from 'vitest'
import { geometryFor } from './geometry.js'
import { DEFAULT_MODEL_CONFIG, parseModelConfig } from './model-config.js'

const input = DEFAULT_MODEL_CONFIG.input

describe('geometryFor', () => {
  it('resizes the shorter side to 256 and truncates the longer one like torchvision', () => {
    // torchvision: Resize(256) on 640x480 -> 341x256 (int(256 * 640 / 480) = 341)
    expect(geometryFor(640, 480, input)).toMatchObject({ resizeWidth: 341, resizeHeight: 256 })
    expect(geometryFor(480, 640, input)).toMatchObject({ resizeWidth: 256, resizeHeight: 341 })
    expect(geometryFor(1200, 800, input)).toMatchObject({ resizeWidth: 384, resizeHeight: 256 })
  })

  it("centres the crop with Python's round-half-to-even", () => {
    // (341 - 224) / 2 = 58.5 -> round() in Python gives 58; (256 - 224) / 2 = 16
    expect(geometryFor(640, 480, input)).toMatchObject({ left: 58, top: 16 })
    // (384 - 224) / 2 = 80 exactly
    expect(geometryFor(1200, 800, input)).toMatchObject({ left: 80, top: 16 })
    // (259 - 224) / 2 = 17.5 -> 18 (even)
    expect(geometryFor(259, 256, input)).toMatchObject({ left: 18, top: 16 })
  })

  it('resizes straight to the input size when crop is none', () => {
    const config = parseModelConfig({ input: { crop: 'none', size: [300, 200] } })
    expect(geometryFor(1000, 10, config.input)).toEqual({
      resizeWidth: 200,
      resizeHeight: 300,
      left: 0,
      top: 0,
    })
  })
})
