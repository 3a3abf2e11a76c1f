/** Hard limits on untrusted images: encoded size, pixel count (before decoding) and time. */
import { PreprocessError } from './errors.js'
import { sniffFormat } from './sniff-format.js'
import type { ImageFormat } from './sniff-format.js'

/** Hard limits applied before and during decoding. */
export interface DecodeLimits {
  /** Largest accepted encoded size in bytes. */
  readonly maxInputBytes: number
  /** Largest accepted width x height; checked from the header, before any full decode. */
  readonly maxPixels: number
  /**
   * Deadline for one image, in ms of wall clock from the call (waiting for a libuv thread
   * included); must be > 0. Native work is also stopped by sharp's own timeout (whole seconds).
   * @default 10_000
   */
  readonly timeoutMs?: number
}

/** 20 MiB of encoded bytes, 50 megapixels (an 8192x6144 photo) and 10 s per image. */
export const DEFAULT_DECODE_LIMITS: Required<DecodeLimits> = Object.freeze({
  maxInputBytes: 20 * 1024 * 1024,
  maxPixels: 50_000_000,
  timeoutMs: 10_000,
})

/** Refuses empty, oversized and unsupported input from its bytes alone; returns the format. */
export function checkBytes(bytes: Uint8Array, limits: DecodeLimits): ImageFormat {
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

/** A running deadline, as sharp's whole seconds for each pipeline started under it. */
export interface Deadline {
  /** Whole seconds for sharp's `timeout()`, at least 1 (0 would disable it). */
  sharpSeconds(): number
}

/**
 * Runs `work` under a deadline of `timeoutMs`. If the deadline passes first, rejects with
 * DECODE_TIMEOUT at once; the abandoned native work is stopped by sharp's timeout, which
 * `work` must set from `deadline.sharpSeconds()` on every pipeline.
 */
export async function withDeadline<T>(
  timeoutMs: number,
  work: (deadline: Deadline) => Promise<T>
): Promise<T> {
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`)
  const end = performance.now() + timeoutMs
  const deadline: Deadline = {
    // sharp accepts 1..3600 (0 would mean no timeout at all)
    sharpSeconds: () => Math.min(3600, Math.max(1, Math.ceil((end - performance.now()) / 1000))),
  }
  const delay = Math.min(timeoutMs, 2 ** 31 - 1) // setTimeout's largest delay (about 24.8 days)
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const msg = `Decoding the image took longer than ${timeoutMs} ms (the timeoutMs limit)`
      reject(new PreprocessError('DECODE_TIMEOUT', msg))
    }, delay)
  })
  try {
    // race() subscribes to both, so a late failure of abandoned work is not left unhandled
    return await Promise.race([work(deadline), expired])
  } finally {
    clearTimeout(timer)
  }
}
