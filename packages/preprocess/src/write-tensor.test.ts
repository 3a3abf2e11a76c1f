import { describe, expect, it } from 'vitest'
import { parseModelConfig } from './model-config.js'
import { allocateBatch, toFloat16Bits, writeImage } from './write-tensor.js'

// A 2x2 image: every pixel (r, g, b) = (255, 128, 0).
const pixels = new Uint8Array(Array.from({ length: 4 }, () => [255, 128, 0]).flat())
const spec = (input: object) => parseModelConfig({ input: { size: 2, resize: 2, ...input } }).input

describe('writeImage', () => {
  it('normalises with scale, mean and std into planar NCHW', () => {
    const input = spec({})
    const batch = allocateBatch(input, 2)
    writeImage(pixels, input, batch, 1)
    expect(batch.dims).toEqual([2, 3, 2, 2])
    expect(Array.from(batch.data.subarray(0, 12))).toEqual(new Array(12).fill(0)) // slot 0 untouched
    const slot = batch.data.subarray(12)
    expect(slot[0]).toBeCloseTo((1 - 0.485) / 0.229, 5) // R plane
    expect(slot[4]).toBeCloseTo((128 / 255 - 0.456) / 0.224, 5) // G plane
    expect(slot[8]).toBeCloseTo((0 - 0.406) / 0.225, 5) // B plane
  })

  it('swaps channels for BGR and interleaves them for NHWC', () => {
    const input = spec({
      colorOrder: 'BGR',
      layout: 'NHWC',
      scale: 1,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    })
    const batch = allocateBatch(input, 1)
    writeImage(pixels, input, batch, 0)
    expect(batch.dims).toEqual([1, 2, 2, 3])
    expect(Array.from(batch.data.subarray(0, 6))).toEqual([0, 128, 255, 0, 128, 255])
  })

  it('keeps raw pixel values for uint8 input', () => {
    const input = spec({ dtype: 'uint8', layout: 'NHWC' })
    const batch = allocateBatch(input, 1)
    writeImage(pixels, input, batch, 0)
    expect(batch.data).toBeInstanceOf(Uint8Array)
    expect(Array.from(batch.data.subarray(0, 3))).toEqual([255, 128, 0])
  })

  it('stores float16 as half-precision bits', () => {
    const input = spec({ dtype: 'float16', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] })
    const batch = allocateBatch(input, 1)
    writeImage(pixels, input, batch, 0)
    expect(batch.data).toBeInstanceOf(Uint16Array)
    expect(batch.data[0]).toBe(0x5bf8) // 255.0 in binary16
  })
})

describe('toFloat16Bits', () => {
  it('agrees with the platform Float16Array on normals, subnormals, ties and overflow', () => {
    const F16 = (globalThis as unknown as { Float16Array?: Float32ArrayConstructor }).Float16Array
    if (!F16) throw new Error('Float16Array is missing: Node 24 or newer is required')
    const reference = new F16(1)
    const bits = new Uint16Array(reference.buffer)
    const values = [0, -0, 1, -2.5, 65504, 70000, 1e-5, 6.1e-5, 5.96e-8, 2.98e-8, 1e-9, 0.1, 1 / 3]
    for (let i = 0; i < 2000; i++) values.push((i - 1000) * 0.0137, Math.exp(-i / 60))
    for (const v of values) {
      reference[0] = v
      expect(toFloat16Bits(v), `value ${v}`).toBe(bits[0])
    }
  })
})

describe('writeImage layouts and types', () => {
  // 2x2 pixels with distinct values per position and channel: (10p + 1, 10p + 2, 10p + 3)
  const distinct = Uint8Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 3) + (i % 3) + 1)
  const identity = { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] }

  it('writes planar BGR for NCHW + BGR', () => {
    const input = spec({ ...identity, colorOrder: 'BGR' })
    const batch = allocateBatch(input, 1)
    writeImage(distinct, input, batch, 0)
    expect(Array.from(batch.data)).toEqual([3, 13, 23, 33, 2, 12, 22, 32, 1, 11, 21, 31])
  })

  it('writes uint8 in every layout and order; NHWC RGB is a straight copy', () => {
    const nchw = spec({ dtype: 'uint8', colorOrder: 'BGR' })
    const a = allocateBatch(nchw, 1)
    writeImage(distinct, nchw, a, 0)
    expect(Array.from(a.data)).toEqual([3, 13, 23, 33, 2, 12, 22, 32, 1, 11, 21, 31])
    const nhwc = spec({ dtype: 'uint8', layout: 'NHWC' })
    const b = allocateBatch(nhwc, 2)
    writeImage(distinct, nhwc, b, 1)
    expect(Array.from(b.data.subarray(12))).toEqual(Array.from(distinct))
  })

  it('writes float16 as the bits toFloat16Bits gives for the normalised value', () => {
    const input = spec({ dtype: 'float16' })
    const batch = allocateBatch(input, 1)
    writeImage(pixels, input, batch, 0)
    const expected = [255, 128, 0].flatMap((p, c) =>
      new Array<number>(4).fill(toFloat16Bits((p / 255 - input.mean[c]!) / input.std[c]!))
    )
    expect(Array.from(batch.data)).toEqual(expected)
  })

  it('stores, for every level of every channel, the multiply-add rounded once to the type', () => {
    // 16x16 pixels: R takes every level 0..255, G the reverse, B every level in another order
    const all = new Uint8Array(16 * 16 * 3)
    for (let p = 0; p < 256; p++) all.set([p, 255 - p, (p * 37 + 11) & 255], p * 3)
    const mean = [0.485, 0.456, 0.406]
    const std = [0.229, 0.224, 0.225]
    const cases = [
      { dtype: 'float32', layout: 'NCHW', colorOrder: 'RGB' },
      { dtype: 'float32', layout: 'NHWC', colorOrder: 'BGR' },
      { dtype: 'float16', layout: 'NCHW', colorOrder: 'BGR' },
      { dtype: 'float16', layout: 'NHWC', colorOrder: 'RGB' },
    ] as const
    for (const c of cases) {
      const input = parseModelConfig({ input: { size: 16, resize: 16, mean, std, ...c } }).input
      const batch = allocateBatch(input, 2)
      writeImage(all, input, batch, 1)
      for (let p = 0; p < 256; p++) {
        for (let k = 0; k < 3; k++) {
          const s = c.colorOrder === 'RGB' ? k : 2 - k // source channel of tensor channel k
          const x = all[p * 3 + s]! * (input.scale / std[s]!) - mean[s]! / std[s]!
          const want = c.dtype === 'float32' ? Math.fround(x) : toFloat16Bits(x)
          const at = 3 * 256 + (c.layout === 'NCHW' ? k * 256 + p : p * 3 + k)
          expect(batch.data[at], `${JSON.stringify(c)} pixel ${p} channel ${k}`).toBe(want)
        }
      }
    }
  })

  it('refuses pixels of the wrong size, or a slot outside the batch, instead of writing part', () => {
    const input = spec({})
    expect(() => {
      writeImage(new Uint8Array(5), input, allocateBatch(input, 1), 0)
    }).toThrow(RangeError)
    expect(() => {
      writeImage(pixels, input, allocateBatch(input, 1), 1)
    }).toThrow('slot 1 is outside a batch of 1')
  })
})
