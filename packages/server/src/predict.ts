/** Images -> top-k predictions: decode concurrently (libuv pool), batch with others, rank. */
import { PreprocessError } from '@resnet/preprocess'
import type { DecodeLimits, InputSpec } from '@resnet/preprocess'
import type { Batcher, ImageResult, Reservation } from './batcher.js'
import { inProcessDecoder } from './image-decoder.js'
import type { ImageDecoder } from './image-decoder.js'
import type { ImageInputAdapter } from './image-input.js'
import { topK } from './top-k.js'
import type { Prediction } from './top-k.js'

/** Milliseconds spent in each stage, for Server-Timing. */
export interface StageTimings {
  /** Decoding, resizing and cropping the images (sharp, libuv pool). */
  readonly decode: number
  /** Writing the normalised batch tensor (inference worker). */
  readonly preprocess: number
  readonly queue: number
  readonly inference: number
}

/** Predictions per image, in request order, with stage timings. */
export interface PredictResult {
  readonly results: Prediction[][]
  readonly timings: StageTimings
}

/** How one request is handled. */
export interface PredictOptions {
  readonly topK: number
  readonly limits: DecodeLimits
  /** Epoch milliseconds after which the request is abandoned. */
  readonly deadline: number
  readonly signal?: AbortSignal | undefined
  /** Queue room taken before the body was read (see `Batcher.reserve`). */
  readonly reservation?: Reservation | undefined
  /** Where images are decoded. @default inProcessDecoder */
  readonly decoder?: ImageDecoder | undefined
}

/**
 * Decodes every image of a request; the first failure (in request order) is thrown once all have
 * settled, after the pixels of the others are discarded.
 */
export async function decodeAll(
  images: readonly Uint8Array[],
  input: InputSpec,
  limits: DecodeLimits,
  decoder: ImageDecoder
): Promise<Uint8Array[]> {
  const settled = await Promise.allSettled(decoder.decode(images, input, limits))
  const failed = settled.findIndex((s) => s.status === 'rejected')
  if (failed < 0) return settled.map((s) => (s as PromiseFulfilledResult<Uint8Array>).value)
  for (const s of settled) if (s.status === 'fulfilled') decoder.discard(s.value)
  const err = (settled[failed] as PromiseRejectedResult).reason as unknown
  if (images.length === 1 || !(err instanceof PreprocessError)) throw err
  throw new PreprocessError(err.code, `Image ${failed + 1} of ${images.length}: ${err.message}`, {
    cause: err,
  })
}

/** The stage timings of a request whose items took `prepareMs` and ran as `rows`. */
export function stageTimings(prepareMs: number, rows: readonly ImageResult[]): StageTimings {
  return {
    decode: prepareMs,
    preprocess: Math.max(...rows.map((r) => r.tensorMs)),
    queue: Math.max(...rows.map((r) => r.queueMs)),
    inference: Math.max(...rows.map((r) => r.inferenceMs)),
  }
}

/** The image input of the batcher's model; throws for a model of another kind. */
const imageInputOf = (batcher: Batcher): InputSpec => {
  const { input } = batcher.model
  if (input.kind !== 'image') throw new TypeError(`predictImages needs an image model`)
  return (input as ImageInputAdapter).spec
}

/** Runs the whole predict path for one request of images. */
export async function predictImages(
  images: readonly Uint8Array[],
  batcher: Batcher,
  options: PredictOptions
): Promise<PredictResult> {
  const t0 = performance.now()
  const pixels = await decodeAll(
    images,
    imageInputOf(batcher),
    options.limits,
    options.decoder ?? inProcessDecoder
  )
  const decode = performance.now() - t0
  const rows = await batcher.submit(pixels, {
    deadline: options.deadline,
    signal: options.signal,
    reservation: options.reservation,
  })
  const { labels } = batcher.model
  return {
    results: rows.map((row) => topK(row.scores, options.topK, labels)),
    timings: stageTimings(decode, rows),
  }
}
