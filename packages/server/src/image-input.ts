/** The image input adapter: multipart or raw image uploads -> decoded pixels -> top-k classes. */
import type { InputSpec, ModelConfig } from '@resnet/preprocess'
import { allocateBatch } from '@resnet/preprocess'
import { ApiError } from './http-errors.js'
import { inProcessDecoder } from './image-decoder.js'
import type { InputAdapter } from './input-adapter.js'
import { decodeAll } from './predict.js'
import { readImages } from './read-images.js'
import { topK } from './top-k.js'

/** How to call `POST /predict` with images (shown by `GET /`). */
export const IMAGE_USAGE = 'POST /predict (multipart field "image", or a raw image body; ?top_k=N)'

/** An image model's input: its effective preprocessing. */
export interface ImageInputAdapter extends InputAdapter {
  readonly kind: 'image'
  readonly spec: InputSpec
}

/** Parses `top_k`: an integer from 1 to the number of classes (default 5). */
export function parseTopK(raw: string | undefined, classes: number): number {
  if (raw === undefined) return Math.min(5, classes)
  const k = Number(raw)
  if (!Number.isInteger(k) || k < 1 || k > classes) {
    throw new ApiError(
      'INVALID_TOP_K',
      `top_k must be an integer from 1 to ${classes}; got "${raw}"`
    )
  }
  return k
}

/**
 * Images as `POST /predict` takes them (see read-images.ts), decoded by the app's decoder;
 * a single image answers `predictions`, several `results`.
 */
export function imageInput(
  config: ModelConfig,
  labels: readonly string[],
  classes: number
): ImageInputAdapter {
  const spec = config.input
  const { layout, height, width } = spec
  return {
    kind: 'image',
    spec,
    tensor: {
      dtype: spec.dtype,
      itemDims: layout === 'NCHW' ? [3, height, width] : [height, width, 3],
    },
    allocate: (n) => allocateBatch(spec, n),
    describe: () => ({
      preprocessing: { input: config.input, output: config.output, sources: config.sources },
    }),
    usage: IMAGE_USAGE,
    accept: (c) => {
      const k = parseTopK(c.req.query('top_k'), classes)
      return async (c, limits) => {
        const images = await readImages(c, limits.maxImagesPerRequest)
        return {
          count: images.length,
          prepare: async ({ limits, decoder }) => {
            const started = performance.now()
            const items = await decodeAll(images, spec, limits.decode, decoder ?? inProcessDecoder)
            return { items, ms: performance.now() - started }
          },
          respond: (rows) => {
            const results = rows.map((row) => topK(row, k, labels))
            if (results.length === 1) return { predictions: results[0] }
            return { results: results.map((predictions) => ({ predictions })) }
          },
        }
      }
    },
  }
}
