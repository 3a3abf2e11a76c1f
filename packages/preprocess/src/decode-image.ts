/** Image bytes -> cropped, oriented 8-bit RGB pixels (HWC) with sharp, within hard limits. */
import sharp from 'sharp'
import { PreprocessError } from './errors.js'
import { geometryFor } from './geometry.js'
import type { InputSpec } from './model-config.js'
import { sniffFormat } from './sniff-format.js'
import type { ImageFormat } from './sniff-format.js'

/** Hard limits applied before and during decoding. */
export interface DecodeLimits {
  /** Largest accepted encoded size in bytes. */
  readonly maxInputBytes: number
  /** Largest accepted width x height; checked from the header, before any full decode. */
  readonly maxPixels: number
}

/** 20 MiB of encoded bytes and 50 megapixels (an 8192x6144 photo). */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({
  maxInputBytes: 20 * 1024 * 1024,
  maxPixels: 50_000_000,
})

/** Interleaved RGB pixels of exactly `input.height` x `input.width`. */
export interface DecodedImage {
  readonly data: Uint8Array
  readonly width: number
  readonly height: number
  readonly format: ImageFormat
  /** Size of the image as displayed (after EXIF orientation), before any resize. */
  readonly source: { readonly width: number; readonly height: number }
}

function checkFormat(bytes: Uint8Array, limits: DecodeLimits): ImageFormat {
  if (bytes.length === 0) throw new PreprocessError('UNDECODABLE_IMAGE', 'The image is empty')
  if (bytes.length > limits.maxInputBytes) {
    const msg = `The image is ${bytes.length} bytes; the limit is ${limits.maxInputBytes}`
    throw new PreprocessError('IMAGE_TOO_LARGE', msg)
  }
  const sniffed = sniffFormat(bytes)
  if (sniffed.accepted) return sniffed.format
  const what = sniffed.format ? `${sniffed.format} images are` : 'This file type is'
  const msg = `${what} not supported; send JPEG, PNG, WebP, GIF, AVIF or TIFF`
  throw new PreprocessError('UNSUPPORTED_IMAGE', msg)
}

const undecodable = (err: unknown): PreprocessError => {
  const detail = err instanceof Error ? err.message.split('\n')[0] : String(err)
  if (detail?.includes('pixel limit')) {
    return new PreprocessError('IMAGE_TOO_LARGE', `The image has too many pixels (${detail})`)
  }
  const message = `The image could not be decoded (${detail ?? 'unknown error'})`
  return new PreprocessError('UNDECODABLE_IMAGE', message, { cause: err })
}

/**
 * Decodes an image, applies EXIF orientation, flattens alpha onto `input.background`, converts
 * to 8-bit sRGB and resizes/crops to the model's input size. The format is decided by content.
 */
export async function decodeImage(
  bytes: Uint8Array,
  input: InputSpec,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS
): Promise<DecodedImage> {
  const format = checkFormat(bytes, limits)
  const image = sharp(bytes, {
    autoOrient: true,
    failOn: 'warning', // like Pillow, refuse truncated or corrupt data instead of guessing
    limitInputPixels: limits.maxPixels,
    sequentialRead: true,
  })
  try {
    const meta = await image.metadata()
    if (meta.format !== format && !(format === 'avif' && meta.format === 'heif')) {
      throw new Error(`content looks like ${format} but decodes as ${meta.format}`)
    }
    const { width, height } = meta.autoOrient
    const g = geometryFor(width, height, input)
    const [r, gr, b] = input.background
    const { data, info } = await image
      .flatten({ background: { r, g: gr, b } })
      .toColourspace('srgb')
      .resize(g.resizeWidth, g.resizeHeight, { fit: 'fill', kernel: 'linear' })
      .extract({ left: g.left, top: g.top, width: input.width, height: input.height })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`)
    return { data, width: info.width, height: info.height, format, source: { width, height } }
  } catch (err) {
    throw undecodable(err)
  }
}
