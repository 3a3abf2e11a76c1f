import { readFile } from 'node:fs/promises'
import { IMAGES_DIR } from '@resnet/test-support'
import sharp from 'sharp'
import type { Sharp } from 'sharp'
import { describe, expect, it } from 'vitest'
import { decodeImage } from './decode-image.js'
import { geometryFor } from './geometry.js'
import { DEFAULT_MODEL_CONFIG } from './model-config.js'
import { absDiff } from './test-support/pillow.js'

const input = DEFAULT_MODEL_CONFIG.input

/**
 * The previous pipeline, kept as the reference: sharp orients the image at full resolution
 * before the resize (no shrink-on-load), then the same resize and crop.
 */
async function orientedFirst(bytes: Buffer): Promise<Uint8Array> {
  const { autoOrient } = await sharp(bytes).metadata()
  const g = geometryFor(autoOrient.width, autoOrient.height, input)
  const { data } = await sharp(bytes, { autoOrient: true })
    .rotate(0) // orient before the resize, as `extract` used to make sharp do
    .toColourspace('srgb')
    .resize(g.resizeWidth, g.resizeHeight, { fit: 'fill', kernel: 'linear' })
    .extract({ left: g.left, top: g.top, width: g.width, height: g.height })
    .raw()
    .toBuffer({ resolveWithObject: true })
  return data
}

/** A big JPEG stored as a camera stores it: pixels turned so that `orientation` undoes it. */
async function stored(upright: Buffer, orientation: number): Promise<Buffer> {
  // sharp's own autoOrient inverted: the stored pixels for each EXIF orientation
  const undo: Record<number, (s: Sharp) => Sharp> = {
    1: (s) => s,
    2: (s) => s.flop(),
    3: (s) => s.rotate(180),
    4: (s) => s.flip(),
    5: (s) => s.rotate(90).flip(),
    6: (s) => s.rotate(-90),
    7: (s) => s.rotate(-90).flip(),
    8: (s) => s.rotate(90),
  }
  const raw = await undo[orientation]!(sharp(upright)).raw().toBuffer({ resolveWithObject: true })
  return sharp(raw.data, { raw: raw.info })
    .jpeg({ quality: 95 })
    .withMetadata({ orientation })
    .toBuffer()
}

describe('decodeImage on photos stored rotated (EXIF orientation 2-8)', () => {
  it(
    'gives the upright picture, within 0.5 levels mean / 8 max of orienting at full size',
    { timeout: 60_000 },
    async () => {
      // 1536x1152 (4.5x to 256): JPEG shrink-on-load applies, decoded at 1/2
      const upright = await sharp(await readFile(IMAGES_DIR + 'kimono.jpg'))
        .resize(1536, 1152, { fit: 'fill' })
        .toBuffer()
      const reference = await decodeImage(await stored(upright, 1), input)
      for (let orientation = 2; orientation <= 8; orientation++) {
        const bytes = await stored(upright, orientation)
        const ours = await decodeImage(bytes, input)
        expect(ours.source, `orientation ${orientation}`).toEqual({ width: 1536, height: 1152 })
        // the same tolerance as against torchvision (README): shrink-on-load vs a full-size decode
        const slow = absDiff(ours.data, await orientedFirst(bytes))
        expect(slow.max, 'decoded at 1/2 (shrink-on-load), not at full size').toBeGreaterThan(0)
        expect(slow.mean, `orientation ${orientation}`).toBeLessThanOrEqual(0.5)
        expect(slow.max, `orientation ${orientation}`).toBeLessThanOrEqual(8)
        // and the same picture as the upright file (a wrong turn or mirror is ~20+ levels off)
        expect(
          absDiff(ours.data, reference.data).mean,
          `orientation ${orientation}`
        ).toBeLessThanOrEqual(0.5)
      }
    }
  )
})
