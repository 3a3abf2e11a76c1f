/** Many images -> one contiguous batch tensor, decoding them concurrently on the libuv pool. */
import { decodeImage } from './decode-image.js'
import { PreprocessError } from './errors.js'
import { DEFAULT_DECODE_LIMITS } from './limits.js'
import type { DecodeLimits } from './limits.js'
import type { InputSpec } from './model-config.js'
import { allocateBatch, writeImage } from './write-tensor.js'
import type { BatchTensor } from './write-tensor.js'

/**
 * Decodes every image (concurrently: sharp runs on libuv's thread pool) and writes each into its
 * slot of one batch tensor as soon as it is decoded, in input order. A failure names the image
 * ("Image 2 of 3: ...").
 * @example const batch = await preprocessBatch([jpegBytes], DEFAULT_MODEL_CONFIG.input)
 */
export async function preprocessBatch(
  images: readonly Uint8Array[],
  input: InputSpec,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS
): Promise<BatchTensor> {
  const batch = allocateBatch(input, images.length)
  await Promise.all(
    images.map((bytes, i) =>
      decodeImage(bytes, input, limits).then(
        (image) => {
          writeImage(image.data, input, batch, i)
        },
        (err: unknown) => {
          if (images.length === 1 || !(err instanceof PreprocessError)) throw err
          const msg = `Image ${i + 1} of ${images.length}: ${err.message}`
          throw new PreprocessError(err.code, msg, { cause: err })
        }
      )
    )
  )
  return batch
}
