/** One S3 object -> one JSON Lines record: its top-k, or the error `/predict` would give. */
import { setTimeout as sleep } from 'node:timers/promises'
import { PreprocessError } from '@resnet/preprocess'
import type { DecodeLimits } from '@resnet/preprocess'
import { ApiError, predictImages } from '@resnet/server'
import type { ImageDecoder, Prediction } from '@resnet/server'
import type { Batcher } from './engine.js'
import type { ObjectReader } from './object-reader.js'

/** The model that scored a record. */
export interface RecordModel {
  readonly name: string
  readonly version: string
  readonly sha256: string
}

/** One output line. */
export type ResultRecord =
  | { readonly key: string; readonly model: RecordModel; readonly predictions: Prediction[] }
  | {
      readonly key: string
      readonly model: RecordModel
      readonly error: { readonly code: string; readonly message: string }
    }

/** How every object of a job is classified. */
export interface ClassifyOptions {
  /** Where the images are read from (one per worker: it caches each bucket's endpoint). */
  readonly reader: ObjectReader
  readonly batcher: Batcher
  readonly decoder: ImageDecoder
  readonly limits: DecodeLimits
  readonly topK: number
  /** Per image, as REQUEST_TIMEOUT_MS is per request. */
  readonly timeoutMs: number
}

const isNoSuchKey = (err: unknown): boolean =>
  (err as { name?: string }).name === 'NoSuchKey' ||
  (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404

/** The object's bytes; an item error when it is gone or too large (nothing read then). */
async function fetchImage(
  options: ClassifyOptions,
  bucket: string,
  key: string
): Promise<Uint8Array> {
  const max = options.limits.maxInputBytes
  let read
  try {
    read = await options.reader.read(bucket, key, max)
  } catch (err) {
    if (!isNoSuchKey(err)) throw err
    throw new ApiError(
      'NOT_FOUND',
      `s3://${bucket}/${key} does not exist (deleted during the job?)`
    )
  }
  if (read.kind === 'bytes') return read.bytes
  // the message the decoder's own size check gives
  throw new PreprocessError(
    'IMAGE_TOO_LARGE',
    `The image is ${read.size} bytes; the limit is ${max}`
  )
}

/**
 * Classifies one object through the server's own path (decode worker, batcher, inference worker).
 * Bad images become error records; S3 failures other than a missing object are thrown (the shard
 * fails and is redone by a rerun). An OVERLOADED refusal is retried: a batch job waits its turn.
 */
export async function classifyObject(
  options: ClassifyOptions,
  bucket: string,
  key: string
): Promise<ResultRecord> {
  const { name, version, sha256 } = options.batcher.model.info
  const model = { name, version, sha256 }
  try {
    const image = await fetchImage(options, bucket, key)
    for (;;) {
      try {
        const { results } = await predictImages([image], options.batcher, {
          topK: options.topK,
          limits: options.limits,
          deadline: Date.now() + options.timeoutMs,
          decoder: options.decoder,
        })
        return { key, model, predictions: results[0]! }
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'OVERLOADED')) throw err
        await sleep(50)
      }
    }
  } catch (err) {
    if (err instanceof ApiError || err instanceof PreprocessError) {
      return { key, model, error: { code: err.code, message: err.message } }
    }
    throw err
  }
}
