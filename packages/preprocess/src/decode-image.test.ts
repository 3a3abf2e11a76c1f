import { readFile } from 'node:fs/promises'
import { BAD_IMAGES_DIR } from '@resnet/test-support'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { decodeImage } from './decode-image.js'
import { DEFAULT_MODEL_CONFIG, parseModelConfig } from './model-config.js'

const input = DEFAULT_MODEL_CONFIG.input
const spec = (json: object) => parseModelConfig({ input: json }).input
const bad = (name: string): Promise<Buffer> => readFile(BAD_IMAGES_DIR + name)
const solid = (width: number, height: number, r: number, g: number, b: number) =>
  sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
const meanAbsDiff = (a: Uint8Array, b: Uint8Array): number =>
  a.reduce((sum, v, i) => sum + Math.abs(v - b[i]!), 0) / a.length
const pixel = (data: Uint8Array, width: number, x: number, y: number): number[] =>
  Array.from(data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3))

describe('decodeImage colour handling', () => {
  it('gives 224x224 RGB for greyscale, CMYK, 16-bit grey+alpha and animated input', async () => {
    for (const file of [
      'pillow__hopper_gray.jpg',
      'pillow__pil_sample_cmyk.jpg',
      'sharp__bggn4a16.png',
      'pillow__iss634.gif',
    ]) {
      const image = await decodeImage(await bad(file), input)
      expect(image.data.length, file).toBe(224 * 224 * 3)
    }
  })

  it('converts 16-bit and palette PNGs and TIFF to the same 8-bit sRGB values', async () => {
    const base = solid(300, 300, 200, 100, 30)
    const wide = new Uint16Array(300 * 300 * 3).map((_, i) => [200, 100, 30][i % 3]! * 257)
    const raw16 = { width: 300, height: 300, channels: 3, depth: 'ushort' } as const
    const variants = [
      await sharp(wide, { raw: raw16 }).toColourspace('rgb16').png().toBuffer(),
      await base.clone().png({ palette: true }).toBuffer(),
      await base.clone().tiff({ compression: 'lzw' }).toBuffer(),
    ]
    expect((await sharp(variants[0]).metadata()).depth).toBe('ushort')
    for (const bytes of variants) {
      const { data } = await decodeImage(bytes, input)
      expect(pixel(data, 224, 100, 100)).toEqual([200, 100, 30])
    }
  })

  it('uses the first frame of an animated image', async () => {
    const red = await solid(64, 64, 255, 0, 0).png().toBuffer()
    const blue = await solid(64, 64, 0, 0, 255).png().toBuffer()
    const gif = await sharp([red, blue], { join: { animated: true } })
      .gif()
      .toBuffer()
    expect((await sharp(gif).metadata()).pages).toBe(2)
    const { data } = await decodeImage(gif, input)
    expect(pixel(data, 224, 112, 112)).toEqual([255, 0, 0])
  })

  it('applies EXIF orientation before cropping', async () => {
    const upright = await decodeImage(await bad('pillow__hopper.jpg'), input)
    const rotated = await decodeImage(await bad('pillow__hopper_orientation_6.jpg'), input)
    const unrotated = await sharp(await bad('pillow__hopper_orientation_6.jpg'), {
      autoOrient: false,
    })
      .resize(224, 224)
      .removeAlpha()
      .raw()
      .toBuffer()
    // the oriented decode matches the upright picture far better than the raw stored pixels do
    expect(meanAbsDiff(rotated.data, upright.data)).toBeLessThan(8)
    expect(meanAbsDiff(unrotated, upright.data)).toBeGreaterThan(20)
    const landscape = await decodeImage(await bad('sharp__Landscape_6.jpg'), input)
    expect(landscape.source).toEqual({ width: 600, height: 450 })
  })

  it('flattens transparency onto the configured background', async () => {
    const transparent = await sharp({
      create: { width: 300, height: 300, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer()
    const white = await decodeImage(transparent, input)
    expect(pixel(white.data, 224, 0, 0)).toEqual([255, 255, 255]) // not the hidden black
    const grey = await decodeImage(transparent, spec({ background: [120, 130, 140] }))
    expect(pixel(grey.data, 224, 50, 50)).toEqual([120, 130, 140])
  })

  it('ignores embedded ICC profiles like torchvision, or converts with them on request', async () => {
    // the same colour stored as Display P3 values, with the P3 profile embedded
    const p3 = await solid(300, 300, 200, 60, 40)
      .withIccProfile('p3')
      .jpeg({ quality: 100 })
      .toBuffer()
    const stored = pixel(await sharp(p3, { ignoreIcc: true }).raw().toBuffer(), 300, 10, 10)
    const ignored = pixel((await decodeImage(p3, input)).data, 224, 10, 10)
    const converted = pixel(
      (await decodeImage(p3, spec({ iccProfile: 'convert' }))).data,
      224,
      10,
      10
    )
    expect(ignored).toEqual(stored) // Pillow's values: the stored numbers
    converted.forEach((v, i) => {
      expect(Math.abs(v - [200, 60, 40][i]!)).toBeLessThanOrEqual(3)
    })
    expect(Math.abs(stored[0]! - 200)).toBeGreaterThan(10) // P3 and sRGB really differ here
  })
})

describe('decodeImage geometry', () => {
  // left half red, right half blue, 400x200
  const halves = async (): Promise<Buffer> => {
    const red = await solid(200, 200, 255, 0, 0).png().toBuffer()
    return solid(400, 200, 0, 0, 255)
      .composite([{ input: red, left: 0, top: 0 }])
      .png()
      .toBuffer()
  }

  it('letterboxes with bars of padColor above and below a wide image', async () => {
    const { data } = await decodeImage(await halves(), spec({ crop: 'letterbox' }))
    // 400x200 -> 224x112 in the middle; bars of 56 rows
    expect(pixel(data, 224, 100, 10)).toEqual([114, 114, 114])
    expect(pixel(data, 224, 100, 215)).toEqual([114, 114, 114])
    expect(pixel(data, 224, 10, 112)).toEqual([255, 0, 0])
    expect(pixel(data, 224, 214, 112)).toEqual([0, 0, 255])
  })

  it('letterboxes an enlarged image too (affine path), with the configured padColor', async () => {
    const small = await sharp(await halves())
      .resize(40, 20)
      .png()
      .toBuffer()
    const { data } = await decodeImage(small, spec({ crop: 'letterbox', padColor: [0, 255, 0] }))
    expect(pixel(data, 224, 100, 10)).toEqual([0, 255, 0])
    expect(pixel(data, 224, 10, 112)).toEqual([255, 0, 0])
    expect(pixel(data, 224, 214, 112)).toEqual([0, 0, 255])
  })

  it('stretches to the input size when crop is none, for non-square inputs too', async () => {
    const image = await decodeImage(await halves(), spec({ crop: 'none', size: [100, 50] }))
    expect(image).toMatchObject({ width: 50, height: 100 })
    expect(pixel(image.data, 50, 5, 50)).toEqual([255, 0, 0])
    expect(pixel(image.data, 50, 45, 50)).toEqual([0, 0, 255])
  })

  it('centre-crops: the middle of the halves image is where red meets blue', async () => {
    const { data } = await decodeImage(await halves(), input)
    expect(pixel(data, 224, 0, 112)).toEqual([255, 0, 0])
    expect(pixel(data, 224, 223, 112)).toEqual([0, 0, 255])
  })

  it('bicubic and bilinear give different, equally sized results', async () => {
    const photo = await bad('pillow__hopper.jpg')
    const bilinear = await decodeImage(photo, input)
    const bicubic = await decodeImage(photo, spec({ interpolation: 'bicubic' }))
    expect(bicubic.data.length).toBe(bilinear.data.length)
    expect(meanAbsDiff(bicubic.data, bilinear.data)).toBeGreaterThan(0.1)
  })
})

describe('decodeImage limits', () => {
  it('refuses the decompression bomb from its header, quickly', async () => {
    const started = performance.now()
    await expect(decodeImage(await bad('sharp__65536-uint32-limit.png'), input)).rejects.toThrow(
      /too many pixels/
    )
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('refuses input over the byte limit before decoding', async () => {
    const jpeg = await bad('pillow__hopper.jpg')
    await expect(
      decodeImage(jpeg, input, { maxInputBytes: 1000, maxPixels: 1e6 })
    ).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' })
  })

  it('stops at the deadline with DECODE_TIMEOUT', async () => {
    const big = await solid(3000, 3000, 90, 80, 70).png({ compressionLevel: 0 }).toBuffer()
    const limits = { maxInputBytes: 64 * 2 ** 20, maxPixels: 1e7, timeoutMs: 5 }
    const started = performance.now()
    await expect(decodeImage(big, input, limits)).rejects.toMatchObject({ code: 'DECODE_TIMEOUT' })
    expect(performance.now() - started).toBeLessThan(500)
    // the same image decodes fine with the default deadline
    await expect(decodeImage(big, input, { ...limits, timeoutMs: 10_000 })).resolves.toMatchObject({
      width: 224,
    })
  })
})
