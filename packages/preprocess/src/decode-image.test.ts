import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { decodeImage } from './decode-image.js'
import { PreprocessError } from './errors.js'
import { DEFAULT_MODEL_CONFIG } from './model-config.js'

const BAD = fileURLToPath(new URL('../../../../shared/fixtures/bad-images/', import.meta.url))
const input = DEFAULT_MODEL_CONFIG.input
const bad = (name: string): Promise<Buffer> => readFile(BAD + name)

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'OK'
  } catch (err) {
    if (err instanceof PreprocessError) return err.code
    throw err
  }
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array): number =>
  a.reduce((sum, v, i) => sum + Math.abs(v - b[i]!), 0) / a.length

describe('decodeImage on the public odd and broken images', () => {
  // Each must become pixels or a typed error; the expected outcome is pinned per file.
  const expected: Record<string, string> = {
    'pillow__truncated_jpeg.jpg': 'UNDECODABLE_IMAGE',
    'pillow__broken.png': 'UNDECODABLE_IMAGE',
    'sharp__corrupt-header.jpg': 'UNDECODABLE_IMAGE',
    'sharp__65536-uint32-limit.png': 'IMAGE_TOO_LARGE',
    'pillowheif__RGB_8__128x128.heif': 'UNSUPPORTED_IMAGE',
    'pillow__pil_sample_cmyk.jpg': 'OK',
    'pillow__hopper_gray.jpg': 'OK',
    'pillow__hopper.jpg': 'OK',
    'pillow__hopper.webp': 'OK',
    'pillow__hopper.avif': 'OK',
    'pillow__hopper_orientation_6.jpg': 'OK',
    'sharp__Landscape_6.jpg': 'OK',
    'pillow__iss634.gif': 'OK',
    'sharp__bggn4a16.png': 'OK',
    'winml__kitten_jpeg_named.png': 'OK',
  }
  for (const [file, code] of Object.entries(expected)) {
    it(`${file} -> ${code}`, async () => {
      expect(await codeOf(decodeImage(await bad(file), input))).toBe(code)
    })
  }

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

  it('decides the format by content: a JPEG named .png decodes as JPEG', async () => {
    const image = await decodeImage(await bad('winml__kitten_jpeg_named.png'), input)
    expect(image.format).toBe('jpeg')
  })

  it('refuses the decompression bomb from its header, quickly', async () => {
    const started = performance.now()
    await expect(decodeImage(await bad('sharp__65536-uint32-limit.png'), input)).rejects.toThrow(
      /too many pixels/
    )
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('refuses SVG and PDF by content, naming the type', async () => {
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>')
    await expect(decodeImage(svg, input)).rejects.toThrow(/^SVG images are not supported/)
    await expect(decodeImage(svg, input)).rejects.toMatchObject({ code: 'UNSUPPORTED_IMAGE' })
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n')
    await expect(decodeImage(pdf, input)).rejects.toMatchObject({ code: 'UNSUPPORTED_IMAGE' })
  })

  it('refuses input over the byte limit before decoding', async () => {
    const jpeg = await bad('pillow__hopper.jpg')
    const limits = { maxInputBytes: 1000, maxPixels: 1e6 }
    await expect(decodeImage(jpeg, input, limits)).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE',
    })
  })

  it('flattens transparency onto the configured background', async () => {
    const transparent = await sharp({
      create: { width: 300, height: 300, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer()
    const image = await decodeImage(transparent, input)
    expect(image.data[0]).toBe(255) // white default background, not the hidden black
    expect(image.data[1]).toBe(255)
  })
})
