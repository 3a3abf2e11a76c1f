/** Decoded RGB pixels -> the model's input tensor (layout, channel order, scale, mean/std, dtype). */
import type { InputSpec } from './model-config.js'

/** Typed array behind a tensor; float16 values are stored as IEEE half bits in a Uint16Array. */
export type TensorData = Float32Array | Uint16Array | Uint8Array

/** A batch tensor and its dims, ready for an ONNX runtime. */
export interface BatchTensor {
  readonly data: TensorData
  readonly dims: readonly number[]
  readonly dtype: InputSpec['dtype']
}

const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer) // little-endian: [low word, high word]

/** Rounds `q` (the kept bits) half to even, given the dropped bits' value vs the halfway point. */
const roundKept = (q: number, rest: number, halfway: number, sticky: boolean): number =>
  rest > halfway || (rest === halfway && (sticky || (q & 1) === 1)) ? q + 1 : q

/** Converts a number to IEEE 754 binary16 bits, rounding once from the double (half to even). */
export function toFloat16Bits(value: number): number {
  f64[0] = value
  const lo = u32[0]!
  const hi = u32[1]!
  const sign = (hi >>> 16) & 0x8000
  const exp = (hi >>> 20) & 0x7ff
  const mant = hi & 0xfffff // top 20 of the 52 mantissa bits; `lo` holds the other 32
  if (exp === 0x7ff) return sign | 0x7c00 | (mant || lo ? 0x200 : 0) // Inf / NaN
  const e = exp - 1023 + 15
  if (e >= 0x1f) return sign | 0x7c00 // overflow -> Inf
  if (e <= 0) {
    if (e < -10) return sign // far below the smallest subnormal -> signed zero
    const full = mant | 0x100000 // restore the implicit leading bit
    const shift = 11 - e // 11..21 bits of `full` are dropped
    const rest = full & ((1 << shift) - 1)
    return sign | roundKept(full >>> shift, rest, 1 << (shift - 1), lo !== 0)
  }
  // normal: keep 10 mantissa bits; a carry out of the mantissa correctly bumps the exponent
  return sign | roundKept((e << 10) | (mant >>> 10), mant & 0x3ff, 0x200, lo !== 0)
}

/** The dims of a batch of `n` images for this input spec. */
export function tensorDims(input: InputSpec, n: number): number[] {
  return input.layout === 'NCHW'
    ? [n, 3, input.height, input.width]
    : [n, input.height, input.width, 3]
}

/** Allocates a zeroed, contiguous batch tensor for `n` images. */
export function allocateBatch(input: InputSpec, n: number): BatchTensor {
  const size = n * 3 * input.height * input.width
  const data =
    input.dtype === 'float32'
      ? new Float32Array(size)
      : input.dtype === 'float16'
        ? new Uint16Array(size)
        : new Uint8Array(size)
  return { data, dims: tensorDims(input, n), dtype: input.dtype }
}

/**
 * Writes one image's HWC RGB pixels into slot `index` of a batch tensor, in place (no copies).
 * Per channel: value = pixel * scale / std - mean / std, precomputed as one multiply-add.
 */
export function writeImage(
  pixels: Uint8Array,
  input: InputSpec,
  batch: BatchTensor,
  index: number
): void {
  const plane = input.height * input.width
  const base = index * 3 * plane
  // source channel for each output channel: RGB keeps 0,1,2; BGR reads 2,1,0
  const src = input.colorOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0]
  const nchw = input.layout === 'NCHW'
  const out = batch.data
  for (let c = 0; c < 3; c++) {
    const s = src[c]!
    const mul = input.scale / input.std[s]!
    const add = -input.mean[s]! / input.std[s]!
    const raw = input.dtype === 'uint8'
    const half = input.dtype === 'float16'
    for (let i = 0; i < plane; i++) {
      const p = pixels[3 * i + s]!
      const at = nchw ? base + c * plane + i : base + 3 * i + c
      out[at] = raw ? p : half ? toFloat16Bits(p * mul + add) : p * mul + add
    }
  }
}
