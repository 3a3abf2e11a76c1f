import { describe, expect, it } from 'vitest'
import { geometryFor } from './geometry.js'
import { DEFAULT_MODEL_CONFIG, parseModelConfig } from './model-config.js'

const input = DEFAULT_MODEL_CONFIG.input
const spec = (json: object) => parseModelConfig({ input: json }).input

describe('geometryFor', () => {
  it('resizes the shorter side to 256 and truncates the longer one like torchvision', () => {
    // torchvision: Resize(256) on 640x480 -> 341x256 (int(256 * 640 / 480) = 341)
    expect(geometryFor(640, 480, input)).toMatchObject({ resizeWidth: 341, resizeHeight: 256 })
    expect(geometryFor(480, 640, input)).toMatchObject({ resizeWidth: 256, resizeHeight: 341 })
    expect(geometryFor(1200, 800, input)).toMatchObject({ resizeWidth: 384, resizeHeight: 256 })
  })

  it("centres the crop with Python's round-half-to-even and keeps a 224x224 window", () => {
    // (341 - 224) / 2 = 58.5 -> round() in Python gives 58; (256 - 224) / 2 = 16
    expect(geometryFor(640, 480, input)).toMatchObject({ left: 58, top: 16, width: 224 })
    // (384 - 224) / 2 = 80 exactly
    expect(geometryFor(1200, 800, input)).toMatchObject({ left: 80, top: 16, height: 224 })
    // (259 - 224) / 2 = 17.5 -> 18 (even)
    expect(geometryFor(259, 256, input)).toMatchObject({ left: 18, top: 16, padLeft: 0 })
  })

  it('resizes straight to the input size when crop is none', () => {
    expect(geometryFor(1000, 10, spec({ crop: 'none', size: [300, 200] }))).toEqual({
      resizeWidth: 200,
      resizeHeight: 300,
      left: 0,
      top: 0,
      width: 200,
      height: 300,
      padLeft: 0,
      padTop: 0,
    })
  })

  it('letterboxes: fits the whole image inside, keeping its aspect, centred between bars', () => {
    const letterbox = spec({ crop: 'letterbox' })
    // 640x480 -> scale 0.35 -> 224x168, bars of (224 - 168) / 2 = 28 above and below
    expect(geometryFor(640, 480, letterbox)).toEqual({
      resizeWidth: 224,
      resizeHeight: 168,
      left: 0,
      top: 0,
      width: 224,
      height: 168,
      padLeft: 0,
      padTop: 28,
    })
    // a tall 100x301 image: width round(100 * 224 / 301) = 74, bars (224 - 74) / 2 = 75 each side
    expect(geometryFor(100, 301, letterbox)).toMatchObject({ width: 74, height: 224, padLeft: 75 })
    // 299 and 301 wide at scale 0.5: 149.5 and 150.5 both round to 150 (half to even, as Python)
    expect(geometryFor(299, 448, letterbox)).toMatchObject({ width: 150, padLeft: 37 })
    expect(geometryFor(301, 448, letterbox)).toMatchObject({ width: 150, padLeft: 37 })
    // never narrower than one pixel, never wider than the input
    expect(geometryFor(10_000, 1, letterbox)).toMatchObject({ width: 224, height: 1, padTop: 111 })
  })
})
