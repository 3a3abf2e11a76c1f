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

// Node 24's Float16Array rounds exactly like toFloat16Bits, natively; older Node uses the latter.
// Typed as a Float32Array view: both take plain numbers on assignment.
type Float16ArrayCtor = new (
  buffer: ArrayBufferLike,
  offset: number,
  length: number
) => Float32Array
const Float16 = (globalThis as unknown as { Float16Array?: Float16ArrayCtor }).Float16Array

/** A view of the batch that takes plain numbers: float16 bits get a Float16Array view if any. */
function numericView(batch: BatchTensor): Float32Array | Uint16Array | Uint8Array {
  const { data } = batch
  if (batch.dtype !== 'float16' || !Float16) return data
  return new Float16(data.buffer, data.byteOffset, data.length)
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
  if (pixels.length !== plane * 3) {
    throw new RangeError(`expected ${plane * 3} bytes of ${input.width}x${input.height} RGB pixels`)
  }
  const base = index * 3 * plane
  if (!Number.isInteger(index) || index < 0 || base + 3 * plane > batch.data.length) {
    throw new RangeError(`slot ${index} is outside a batch of ${batch.dims[0] ?? 0}`)
  }
  const nchw = input.layout === 'NCHW'
  if (input.dtype === 'uint8' && !nchw && input.colorOrder === 'RGB') {
    batch.data.set(pixels, base) // the tensor is the pixels: one memcpy
    return
  }
  const out = numericView(batch)
  for (let c = 0; c < 3; c++) {
    const s = input.colorOrder === 'RGB' ? c : 2 - c // BGR reads source channels 2, 1, 0
    const raw = input.dtype === 'uint8'
    const at = nchw ? base + c * plane : base + c
    const mul = raw ? 1 : input.scale / input.std[s]!
    const add = raw ? 0 : -input.mean[s]! / input.std[s]!
    const map = { s, at, step: nchw ? 1 : 3, mul, add }
    if (out instanceof Uint16Array) writeHalfBits(out, pixels, map)
    else writeChannel(out, pixels, map)
  }
}

/** Source channel, first output index, output stride, and the affine map of one channel. */
interface ChannelMap {
  readonly s: number
  readonly at: number
  readonly step: number
  readonly mul: number
  readonly add: number
}

// One tight loop per target type rather than a branch per value.
function writeChannel(out: Float32Array | Uint8Array, pixels: Uint8Array, m: ChannelMap): void {
  const { step, mul, add } = m
  for (let p = m.s, at = m.at; p < pixels.length; p += 3, at += step) {
    out[at] = pixels[p]! * mul + add
  }
}

function writeHalfBits(out: Uint16Array, pixels: Uint8Array, m: ChannelMap): void {
  const { step, mul, add } = m
  for (let p = m.s, at = m.at; p < pixels.length; p += 3, at += step) {
    out[at] = toFloat16Bits(pixels[p]! * mul + add)
  }
}
