import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { IMAGES_DIR, referencePhotos, referencePixels } from '@resnet/test-support'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeImage } from './decode-image.js'
import { DEFAULT_MODEL_CONFIG, parseModelConfig } from './model-config.js'
import { preprocessBatch } from './preprocess-batch.js'
import { mulberry32 } from './test-support/mutate.js'
import { absDiff, pillowAvailable, pillowReference } from './test-support/pillow.js'
import { allocateBatch, writeImage } from './write-tensor.js'

// Documented bounds (README, "Accuracy"), in 0..255 levels unless said otherwise.
const LEVEL = 1 / 255 / 0.224 // one pixel level in normalised units, at the smallest std
const PHOTOS = { mean: 0.5 * LEVEL, max: 8 * LEVEL } // float32 model input, fixture photos
const ENLARGED = { mean: 0.3, max: 2 } // any image whose resize enlarges it
const REDUCED = { mean: 2.5, max: 16 } // photo-like images reduced 1.3x to 12x

if (!pillowAvailable)
  console.warn(
    'skipped: the torchvision (Pillow + numpy) comparisons need apt-get install python3-pil python3-numpy'
  )
let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'torchvision-reference-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe.skipIf(!pillowAvailable)(
  'the fixture photos against torchvision written with Pillow + numpy',
  () => {
    it('gives the same float32 model input within the documented bound, photo by photo', async () => {
      const photos = referencePhotos()
      const pillow = await pillowReference(photos.map((p) => ({ image: IMAGES_DIR + p })))
      for (const [i, photo] of photos.entries()) {
        const bytes = await readFile(IMAGES_DIR + photo)
        const ours = await preprocessBatch([bytes], DEFAULT_MODEL_CONFIG.input)
        const reference = new Float32Array(
          pillow[i]!.tensor.buffer,
          pillow[i]!.tensor.byteOffset,
          ours.data.length
        )
        const diff = absDiff(ours.data, reference)
        expect(diff.mean, photo).toBeLessThanOrEqual(PHOTOS.mean)
        expect(diff.max, photo).toBeLessThanOrEqual(PHOTOS.max)
        // and the committed crops (tests/support/reference) are what the script makes today
        expect(
          Buffer.compare(Buffer.from(pillow[i]!.rgb), Buffer.from(await referencePixels(photo))),
          photo
        ).toBe(0)
      }
    })

    it('writes the same tensor as numpy from the same pixels, for every layout, order and dtype', async () => {
      const configs = [
        {
          colorOrder: 'BGR',
          scale: 1,
          mean: [123.68, 116.779, 103.939],
          std: [1, 1, 1],
          dtype: 'float16',
        },
        { layout: 'NHWC', dtype: 'uint8' },
        { layout: 'NHWC', colorOrder: 'BGR' },
      ]
      const image = IMAGES_DIR + 'goldfish.jpg'
      const pillow = await pillowReference(configs.map((config) => ({ image, config })))
      for (const [i, config] of configs.entries()) {
        const input = parseModelConfig({ input: config }).input
        const batch = allocateBatch(input, 1)
        writeImage(pillow[i]!.rgb, input, batch, 0) // numpy's own crop, so only the tensor math differs
        const expected = pillow[i]!.tensor
        const ours = Buffer.from(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength)
        if (input.dtype === 'float32') {
          const diff = absDiff(
            batch.data,
            new Float32Array(expected.buffer, expected.byteOffset, batch.data.length)
          )
          expect(diff.max, JSON.stringify(config)).toBeLessThan(1e-5)
        } else {
          expect(ours.equals(expected), JSON.stringify(config)).toBe(true) // uint8 and float16 bits
        }
      }
    })
  }
)

/** A `width` x `height` PNG: seeded white noise, or smooth (noise enlarged 8x, bicubic). */
async function synthetic(width: number, height: number, smooth: boolean): Promise<string> {
  const rng = mulberry32(width * 7919 + height)
  const [w, h] = smooth ? [Math.max(2, width >> 3), Math.max(2, height >> 3)] : [width, height]
  const noise = Uint8Array.from({ length: w * h * 3 }, () => Math.floor(rng() * 256))
  let image = sharp(noise, { raw: { width: w, height: h, channels: 3 } })
  if (smooth) image = image.resize(width, height, { fit: 'fill', kernel: 'cubic' })
  const file = path.join(dir, `${smooth ? 'smooth' : 'noise'}-${width}x${height}.png`)
  await writeFile(file, await image.png().toBuffer())
  return file
}

describe.skipIf(!pillowAvailable)(
  'geometry modes against the Pillow reference on synthetic images',
  () => {
    type Bound = typeof ENLARGED
    const cases: [string, number, number, boolean, object, Bound][] = [
      ['enlarge, centre crop', 120, 90, false, {}, ENLARGED],
      ['enlarge 8x+, centre crop', 31, 17, false, {}, ENLARGED],
      ['enlarge, tall, centre crop', 200, 1000, false, {}, ENLARGED],
      ['enlarge, letterbox', 120, 90, false, { crop: 'letterbox' }, ENLARGED],
      ['enlarge, stretch to 160x224', 120, 90, false, { crop: 'none', size: [160, 224] }, ENLARGED],
      ['enlarge, bicubic', 120, 90, true, { interpolation: 'bicubic' }, ENLARGED],
      ['reduce 1.3x, centre crop', 400, 300, true, {}, REDUCED],
      ['reduce 6x, centre crop', 2000, 1500, true, {}, REDUCED],
      ['reduce 12x, letterbox', 2688, 1800, true, { crop: 'letterbox' }, REDUCED],
      ['reduce, stretch', 1300, 900, true, { crop: 'none' }, REDUCED],
      ['reduce one axis, enlarge the other', 500, 60, true, { crop: 'none' }, REDUCED],
      ['reduce 3x, bicubic', 1024, 768, true, { interpolation: 'bicubic' }, REDUCED],
    ]
    it('stays within the documented bounds for every case', async () => {
      const files = await Promise.all(cases.map(([, w, h, smooth]) => synthetic(w, h, smooth)))
      const jobs = cases.map(([, , , , config], i) => ({ image: files[i]!, config }))
      const pillow = await pillowReference(jobs)
      for (const [i, [name, , , , config, bound]] of cases.entries()) {
        const input = parseModelConfig({ input: config }).input
        const ours = await decodeImage(await readFile(files[i]!), input)
        const diff = absDiff(ours.data, pillow[i]!.rgb)
        expect(diff.mean, name).toBeLessThanOrEqual(bound.mean)
        expect(diff.max, name).toBeLessThanOrEqual(bound.max)
      }
    }, 30_000)
  }
)
