/** Image bytes -> oriented 8-bit sRGB pixels (HWC) at the model's input size, within limits. */
import sharp from 'sharp'
import type { OutputInfo, Sharp } from 'sharp'
import { PreprocessError, sharpResult } from './errors.js'
import { geometryFor } from './geometry.js'
import type { Geometry } from './geometry.js'
import { checkBytes, DEFAULT_DECODE_LIMITS, withDeadline } from './limits.js'
import type { Deadline, DecodeLimits } from './limits.js'
import type { InputSpec } from './model-config.js'
import type { ImageFormat } from './sniff-format.js'
import { affineAxis, EDGE, enlarge, needsAffine } from './upscale.js'

/** Interleaved RGB pixels of exactly `input.height` x `input.width`. */
export interface DecodedImage {
  readonly data: Uint8Array
  readonly width: number
  readonly height: number
  readonly format: ImageFormat
  /** Size of the image as displayed (after EXIF orientation), before any resize. */
  readonly source: { readonly width: number; readonly height: number }
}

// sharp's kernels for reductions: `linear` is a triangle filter widened by the scale, which is
// what Pillow's (and so torchvision's) antialiased BILINEAR resize computes; `cubic` is
// Catmull-Rom (a = -0.5), Pillow's BICUBIC.
const KERNEL = { bilinear: 'linear', bicubic: 'cubic' } as const

const rgb = (c: readonly [number, number, number]): { r: number; g: number; b: number } => ({
  r: c[0],
  g: c[1],
  b: c[2],
})

/** Orientation applied, alpha flattened, any colour model (CMYK, grey, palette, 16-bit) to sRGB. */
const normalised = (image: Sharp, input: InputSpec): Sharp =>
  image.flatten({ background: rgb(input.background) }).toColourspace('srgb')

async function rawRgb(
  pipeline: Sharp,
  seconds: number
): Promise<{ data: Buffer; info: OutputInfo }> {
  const out = await sharpResult(
    pipeline.raw({ depth: 'uchar' }).timeout({ seconds }).toBuffer({ resolveWithObject: true })
  )
  if (out.info.channels !== 3) {
    const msg = `The image could not be converted to RGB (${out.info.channels} channels)`
    throw new PreprocessError('UNDECODABLE_IMAGE', msg)
  }
  return out
}

/**
 * One pass: resize (antialiased when reducing), crop the window, pad for letterbox. An image
 * stored rotated or mirrored (EXIF orientation 2-8) that needs a crop takes two: sharp orients
 * an image before anything else once `extract` is called, which rotates it at full resolution
 * and so disables JPEG shrink-on-load (12 MP, orientation 6: 121 ms instead of 28 ms per image
 * here). Resized and oriented first, the small result is then cropped and padded raw.
 */
async function resizeWithKernel(
  image: Sharp,
  g: Geometry,
  input: InputSpec,
  oriented: boolean,
  seconds: number
): Promise<Uint8Array> {
  let pipeline = normalised(image, input).resize(g.resizeWidth, g.resizeHeight, {
    fit: 'fill',
    kernel: KERNEL[input.interpolation],
    fastShrinkOnLoad: input.fastShrinkOnLoad,
  })
  if (g.width !== g.resizeWidth || g.height !== g.resizeHeight) {
    if (oriented) {
      const resized = await rawRgb(pipeline, seconds)
      pipeline = sharp(resized.data, {
        raw: { width: g.resizeWidth, height: g.resizeHeight, channels: 3 },
      })
    }
    pipeline = pipeline.extract({ left: g.left, top: g.top, width: g.width, height: g.height })
  }
  if (g.width !== input.width || g.height !== input.height) {
    const bottom = input.height - g.height - g.padTop
    const right = input.width - g.width - g.padLeft
    const background = rgb(input.padColor)
    pipeline = pipeline.extend({ top: g.padTop, left: g.padLeft, bottom, right, background })
  }
  return (await rawRgb(pipeline, seconds)).data
}

/**
 * Two passes for enlargements: decode the source region the window needs (reducing any axis that
 * shrinks, as Pillow does one axis at a time), then enlarge it with Pillow's sample positions.
 */
async function resizeWithAffine(
  image: Sharp,
  source: { readonly width: number; readonly height: number },
  g: Geometry,
  input: InputSpec,
  deadline: Deadline
): Promise<Uint8Array> {
  const midW = Math.min(g.resizeWidth, source.width)
  const midH = Math.min(g.resizeHeight, source.height)
  const extract = midW === source.width && midH === source.height // nothing to reduce first
  const x = affineAxis(midW, g.resizeWidth, { start: g.left, length: g.width }, extract)
  const y = affineAxis(midH, g.resizeHeight, { start: g.top, length: g.height }, extract)
  const first = extract
    ? normalised(image, input).extract({
        left: x.start,
        top: y.start,
        width: x.length,
        height: y.length,
      })
    : normalised(image, input).resize(midW, midH, {
        fit: 'fill',
        kernel: KERNEL[input.interpolation],
        fastShrinkOnLoad: input.fastShrinkOnLoad,
      })
  const padded = first.extend({
    top: EDGE,
    bottom: EDGE,
    left: EDGE,
    right: EDGE,
    extendWith: 'copy',
  })
  const { data, info } = await rawRgb(padded, deadline.sharpSeconds())
  const src = { data, width: info.width, height: info.height }
  return enlarge(src, { x, y }, g, input, deadline.sharpSeconds())
}

/**
 * Decodes an image, applies EXIF orientation, flattens alpha onto `input.background`, converts
 * to 8-bit sRGB and resizes/crops/pads to the model's input size. The format is decided by
 * content. Throws a PreprocessError (see its codes) for anything it cannot or may not decode.
 * @example const { data } = await decodeImage(jpeg, DEFAULT_MODEL_CONFIG.input)
 */
export async function decodeImage(
  bytes: Uint8Array,
  input: InputSpec,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS
): Promise<DecodedImage> {
  const format = checkBytes(bytes, limits)
  return withDeadline(limits.timeoutMs ?? DEFAULT_DECODE_LIMITS.timeoutMs, async (deadline) => {
    const image = sharp(bytes, {
      autoOrient: true,
      failOn: 'warning', // like Pillow, refuse truncated or corrupt data instead of guessing
      limitInputPixels: limits.maxPixels, // checked against the header, before decoding
      sequentialRead: true,
      ignoreIcc: input.iccProfile === 'ignore', // torchvision (Pillow) never applies ICC profiles
    })
    const meta = await sharpResult(image.metadata())
    if (meta.format !== format && !(format === 'avif' && meta.format === 'heif')) {
      const msg = `The image could not be decoded (content looks like ${format} but decodes as ${meta.format})`
      throw new PreprocessError('UNDECODABLE_IMAGE', msg)
    }
    const source = meta.autoOrient
    const g = geometryFor(source.width, source.height, input)
    const oriented = (meta.orientation ?? 1) > 1
    const data = needsAffine(source.width, source.height, g)
      ? await resizeWithAffine(image, source, g, input, deadline)
      : await resizeWithKernel(image, g, input, oriented, deadline.sharpSeconds())
    return { data, width: input.width, height: input.height, format, source }
  })
}
