import { readdir, readFile } from 'node:fs/promises'
import { BAD_IMAGES_DIR } from '@resnet/test-support'
import { describe, expect, it } from 'vitest'
import { decodeImage } from './decode-image.js'
import { PreprocessError } from './errors.js'
import { DEFAULT_MODEL_CONFIG } from './model-config.js'
import { preprocessBatch } from './preprocess-batch.js'

const input = DEFAULT_MODEL_CONFIG.input

// Every file of ../shared/fixtures/bad-images and its pinned outcome: a tensor (OK) or a code.
const EXPECTED: Record<string, string> = {
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

async function outcome(bytes: Uint8Array): Promise<string> {
  try {
    const batch = await preprocessBatch([bytes], input)
    expect(batch.dims).toEqual([1, 3, 224, 224])
    expect(batch.data.every((v) => Number.isFinite(v))).toBe(true)
    return 'OK'
  } catch (err) {
    if (err instanceof PreprocessError) return err.code
    throw err // anything untyped is a bug
  }
}

describe('preprocessBatch on every public odd and broken image', () => {
  it('has a pinned outcome for every file in the folder', async () => {
    expect((await readdir(BAD_IMAGES_DIR)).sort()).toEqual(Object.keys(EXPECTED).sort())
  })

  for (const [file, code] of Object.entries(EXPECTED)) {
    it(`${file} -> ${code}`, async () => {
      expect(await outcome(await readFile(BAD_IMAGES_DIR + file))).toBe(code)
    })
  }

  it('decides the format by content: the JPEG named .png decodes as a JPEG', async () => {
    const image = await decodeImage(
      await readFile(BAD_IMAGES_DIR + 'winml__kitten_jpeg_named.png'),
      input
    )
    expect(image.format).toBe('jpeg')
  })

  it('names the refused type: SVG and PDF by content, HEIC that sharp cannot decode', async () => {
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>')
    await expect(preprocessBatch([svg], input)).rejects.toThrow(/^SVG images are not supported/)
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n')
    await expect(preprocessBatch([pdf], input)).rejects.toThrow(/^PDF images are not supported/)
    const heif = await readFile(BAD_IMAGES_DIR + 'pillowheif__RGB_8__128x128.heif')
    await expect(preprocessBatch([heif], input)).rejects.toThrow(
      /^HEIC\/HEIF images are not supported/
    )
  })
})
