/**
 * How a request becomes a model's items: the one thing that differs between kinds of model. The
 * predict route, batching, admission, deadlines, draining, metrics, auth and the v2 protocol are
 * shared; an adapter reads and checks a request, prepares its items (decoded pixels, or float32
 * feature rows) and writes the answer. Each loaded model carries its own (see `InferenceModel`).
 */
import type { BatchTensor } from '@resnet/preprocess'
import type { Context } from 'hono'
import type { Batcher } from './batcher.js'
import type { ImageDecoder } from './image-decoder.js'
import type { PredictLimits } from './routes/predict.js'

/** What the route lends an adapter while it prepares items. */
export interface PrepareContext {
  readonly batcher: Batcher
  readonly limits: PredictLimits
  readonly deadline: number
  readonly signal?: AbortSignal | undefined
  /** Where images are decoded. @default inProcessDecoder */
  readonly decoder?: ImageDecoder | undefined
}

/** One request, read and checked, before admission has sized it. */
export interface RequestInput {
  /** Items it counts for in the queue (images or rows). */
  readonly count: number
  /** The items for `Batcher.submit`; `ms` is the preparation time (Server-Timing `decode`). */
  prepare(context: PrepareContext): Promise<{ readonly items: Uint8Array[]; readonly ms: number }>
  /** The JSON body (without `model`) for the items' score rows, in request order. */
  respond(rows: readonly Float64Array[]): Record<string, unknown>
}

/** A kind of input: `image` (uploads through @resnet/preprocess) or `tabular` (JSON rows). */
export interface InputAdapter {
  readonly kind: 'image' | 'tabular'
  /**
   * Checks what can be checked before admission (the query string): throws an ApiError (400)
   * so that a bad request never waits for queue room. Returns the reader of the body.
   */
  accept(c: Context): (c: Context, limits: PredictLimits) => Promise<RequestInput>
  /** v2 protocol: the tensor datatype, and the dims of one item after the batch dimension. */
  readonly tensor: { readonly dtype: BatchTensor['dtype']; readonly itemDims: readonly number[] }
  /** An empty v2 batch tensor of `n` items. */
  allocate(n: number): BatchTensor
  /** What `GET /` shows about the input (`preprocessing` of an image model, `features` of a table). */
  describe(): Record<string, unknown>
  /** How to call `POST /predict`, for `GET /`. */
  readonly usage: string
}
