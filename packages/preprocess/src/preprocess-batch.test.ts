import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { DEFAULT_MODEL_CONFIG } from './model-config.js'
import { preprocessBatch } from './preprocess-batch.js'

const solid = (r: number, g: number, b: number): Promise<Buffer> =>
  sharp({ create: { width: 320, height: 240, channels: 3, background: { r, g, b } } })
    .jpeg({ quality: 100 })
    .toBuffer()
const input = DEFAULT_MODEL_CONFIG.input

describe('preprocessBatch', () => {
  it('stacks images into one contiguous NCHW tensor in request order', async () => {
    const batch = await preprocessBatch([await solid(255, 0, 0), await solid(0, 0, 255)], input)
    expect(batch.dims).toEqual([2, 3, 224, 224])
    const plane = 224 * 224
    const red = (x: number) => (x / 255 - 0.485) / 0.229
    expect(batch.data[0]).toBeCloseTo(red(254), 0) // image 0, R plane: bright (JPEG may shift by 1-2)
    expect(batch.data[3 * plane]).toBeCloseTo(red(0), 0) // image 1, R plane: dark
    expect(batch.data[3 * plane + 2 * plane]).toBeGreaterThan(2) // image 1, B plane: bright
  })

  it('names the failing image in a multi-image batch', async () => {
    const good = await solid(1, 2, 3)
    await expect(preprocessBatch([good, Buffer.from('nope')], input)).rejects.toThrow(
      /^Image 2 of 2: This file type is not supported/
    )
  })
})
