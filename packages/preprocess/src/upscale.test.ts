import { describe, expect, it } from 'vitest'
import { geometryFor } from './geometry.js'
import { parseModelConfig } from './model-config.js'
import { affineAxis, EDGE, needsAffine, placeWindow } from './upscale.js'

describe('affineAxis', () => {
  it("puts output pixel x at Pillow's source position (x + 0.5) / scale - 0.5", () => {
    // daisy.jpg's height: 232 -> 256, keep rows 16..239
    const axis = affineAxis(232, 256, { start: 16, length: 224 }, true)
    expect(axis.scale).toBeCloseTo(256 / 232, 12)
    const pillow = (x: number): number => (x + 0.5) / axis.scale - 0.5
    // libvips samples output X = skip + j at (X - offset) / scale in the padded, cut-out source
    for (const j of [0, 1, 100, 223]) {
      const sampled = (axis.skip + j - axis.offset) / axis.scale + axis.start - EDGE
      expect(sampled).toBeCloseTo(pillow(16 + j), 9)
    }
    expect(axis.offset).toBeGreaterThanOrEqual(0)
    expect(axis.offset).toBeLessThan(1)
  })

  it('cuts out only the source pixels the window samples, with room for bicubic', () => {
    const axis = affineAxis(200, 2000, { start: 1000, length: 10 }, true)
    // samples at (1000.5 / 10) - 0.5 = 99.55 .. 100.45: pixels 98..102 cover a 4-tap kernel
    expect(axis).toMatchObject({ start: 97, length: 6 })
    expect(affineAxis(200, 2000, { start: 1000, length: 10 }, false)).toMatchObject({
      start: 0,
      length: 200,
    })
  })

  it('copies pixels exactly when the axis keeps its size', () => {
    const axis = affineAxis(50, 50, { start: 7, length: 20 }, true)
    expect(axis).toMatchObject({ scale: 1, offset: 0, skip: 7 - axis.start + EDGE })
  })
})

describe('needsAffine', () => {
  it('is true when an axis is enlarged, false for pure reductions', () => {
    const input = parseModelConfig({}).input
    expect(needsAffine(300, 168, geometryFor(300, 168, input))).toBe(true)
    expect(needsAffine(1200, 800, geometryFor(1200, 800, input))).toBe(false)
    expect(needsAffine(256, 256, geometryFor(256, 256, input))).toBe(false)
  })
})

describe('placeWindow', () => {
  it('copies the window rows into the padded model input', () => {
    const input = parseModelConfig({ input: { crop: 'letterbox', size: [4, 3] } }).input
    // a 3x2 source row-major; take the 3x2 window from (0, 0) into the middle of a 3x4 canvas
    const source = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => i)
    const g = { ...geometryFor(3, 2, input) }
    expect(g).toMatchObject({ width: 3, height: 2, padTop: 1, padLeft: 0 })
    const out = placeWindow(source, 3, { left: 0, top: 0 }, g, input)
    expect(Array.from(out.subarray(0, 9))).toEqual(new Array<number>(9).fill(114)) // bar
    expect(Array.from(out.subarray(9, 27))).toEqual(Array.from(source))
    expect(Array.from(out.subarray(27))).toEqual(new Array<number>(9).fill(114)) // bar
  })
})
