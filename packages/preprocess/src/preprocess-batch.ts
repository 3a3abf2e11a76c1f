/** Many images -> one contiguous batch tensor, decoding them concurrently on the libuv pool. */
import type { DecodeLimits } from './decode-image.js'
import { decodeImage, DEFAULT_DECODE_LIMITS } from './decode-image.js'
import { PreprocessError } from './errors.js'
import type { InputSpec } from './model-config.js'
import { allocateBatch, writeImage } from './write-tensor.js'
import type { BatchTensor } from './write-tensor.js'

/**
 * Decodes every image (concurrently: sharp runs on libuv's thread pool) and stacks them into one
 * batch tensor in input order. A failure names the image ("Image 2 of 3: ...").
 * @example const batch = await preprocessBatch([jpegBytes], DEFAULT_MODEL_CONFIG.input)
 */
export async function preprocessBatch(
  images: readonly Uint8Array[],
  input: InputSpec,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS
): Promise<BatchTensor> {
  const decoded = await Promise.all(
    images.map((bytes, i) =>
      decodeImage(bytes, input, limits).catch((err: unknown) => {
        if (images.length === 1 || !(err instanceof PreprocessError)) throw err
        const msg = `Image ${i + 1} of ${images.length}: ${err.message}`
        throw new PreprocessError(err.code, msg, { cause: err })
      })
    )
  )
  const batch = allocateBatch(input, decoded.length)
  decoded.forEach((image, i) => {
    writeImage(image.data, input, batch, i)
  })
  return batch
}
