/**
 * Enlarging with sharp's affine transform so that every output pixel is sampled where Pillow (and
 * so torchvision) samples it: at source position (x + 0.5) / scale - 0.5, edges clamped.
 * sharp's resize() enlarges with other offsets (up to 134 levels off on a fixture photo).
 */
import sharp from 'sharp'
import { sharpResult } from './errors.js'
import type { Geometry } from './geometry.js'
import type { InputSpec } from './model-config.js'

/** Replicated pixels around the source region: clamps samples at the edges like Pillow. */
export const EDGE = 2

/** One axis of the affine step: which source pixels it needs and where its output lands. */
export interface AffineAxis {
  /** First source pixel to extract, and how many (the whole axis when not extracting). */
  readonly start: number
  readonly length: number
  /** Output scale (resized / source) and libvips' output displacement (`odx`/`ody`), in [0, 1). */
  readonly scale: number
  readonly offset: number
  /** Index, in the affine output, of the window's first pixel. */
  readonly skip: number
}

/**
 * Plans one axis: a source of `source` pixels is resized to `resized`, and output pixels
 * `start .. start + length` are kept. With `extract`, only the source pixels those samples
 * touch (plus two for bicubic's support) are decoded into the affine step.
 */
export function affineAxis(
  source: number,
  resized: number,
  window: { readonly start: number; readonly length: number },
  extract: boolean
): AffineAxis {
  const scale = resized / source
  const sampleAt = (x: number): number => (x + 0.5) / scale - 0.5 // Pillow's centre convention
  const first = sampleAt(window.start)
  const last = sampleAt(window.start + window.length - 1)
  const start = extract ? Math.max(0, Math.floor(first) - 2) : 0
  const end = extract ? Math.min(source, Math.floor(last) + 3) : source
  // libvips samples output X at source (X - offset) / scale (measured; pixel centres on integers)
  const at = (first - start + EDGE) * scale
  const skip = Math.ceil(at)
  return { start, length: end - start, scale, offset: skip - at, skip }
}

// libvips' bicubic interpolator is Catmull-Rom, like Pillow's BICUBIC.
const INTERPOLATOR = {
  bilinear: sharp.interpolators.bilinear,
  bicubic: sharp.interpolators.bicubic,
} as const

/** Whether this resize enlarges an axis, and so is done (partly) by {@link enlarge}. */
export function needsAffine(sourceW: number, sourceH: number, g: Geometry): boolean {
  return g.resizeWidth > sourceW || g.resizeHeight > sourceH
}

/** An interleaved RGB image in memory. */
export interface RawRgb {
  readonly data: Uint8Array
  readonly width: number
  readonly height: number
}

/**
 * Enlarges `source` (already padded by {@link EDGE} on every side) with the planned axes, and
 * writes the kept window into a new input-sized canvas at the geometry's padding offset.
 */
export async function enlarge(
  source: RawRgb,
  axes: { readonly x: AffineAxis; readonly y: AffineAxis },
  g: Geometry,
  input: InputSpec,
  seconds: number
): Promise<Uint8Array> {
  const raw = { width: source.width, height: source.height, channels: 3 } as const
  const pipeline = sharp(source.data, { raw })
    .affine(
      [
        [axes.x.scale, 0],
        [0, axes.y.scale],
      ],
      { odx: axes.x.offset, ody: axes.y.offset, interpolator: INTERPOLATOR[input.interpolation] }
    )
    .raw({ depth: 'uchar' })
    .timeout({ seconds })
  const { data, info } = await sharpResult(pipeline.toBuffer({ resolveWithObject: true }))
  // an internal invariant, not the image's fault: left untyped so that it surfaces as a bug
  if (info.width < axes.x.skip + g.width || info.height < axes.y.skip + g.height) {
    throw new Error(`affine output ${info.width}x${info.height} misses the planned window`)
  }
  return placeWindow(data, info.width, { left: axes.x.skip, top: axes.y.skip }, g, input)
}

/** Copies the window row by row (memcpy) into the model-input canvas, padding around it. */
export function placeWindow(
  data: Uint8Array,
  stride: number,
  from: { readonly left: number; readonly top: number },
  g: Geometry,
  input: InputSpec
): Uint8Array {
  const out = Buffer.alloc(input.width * input.height * 3)
  if (g.width !== input.width || g.height !== input.height) out.fill(Buffer.from(input.padColor))
  for (let y = 0; y < g.height; y++) {
    const src = ((from.top + y) * stride + from.left) * 3
    out.set(data.subarray(src, src + g.width * 3), ((g.padTop + y) * input.width + g.padLeft) * 3)
  }
  return out
}
