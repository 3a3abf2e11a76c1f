/** Images -> top-k predictions: decode concurrently, queue one inference run, rank. */
import { preprocessBatch } from '@resnet/preprocess'
import type { DecodeLimits } from '@resnet/preprocess'
import type { InferenceModel } from './model.js'
import type { RunQueue } from './run-queue.js'
import { topK } from './top-k.js'
import type { Prediction } from './top-k.js'

/** Milliseconds spent in each stage, for Server-Timing. */
export interface StageTimings {
  readonly preprocess: number
  readonly queue: number
  readonly inference: number
}

/** Predictions per image, in request order, with stage timings. */
export interface PredictResult {
  readonly results: Prediction[][]
  readonly timings: StageTimings
}

const since = (start: number): number => performance.now() - start

/** Runs the whole predict path for one request. */
export async function predictImages(
  images: readonly Uint8Array[],
  model: InferenceModel,
  queue: RunQueue,
  options: { readonly topK: number; readonly limits: DecodeLimits }
): Promise<PredictResult> {
  const t0 = performance.now()
  const batch = await preprocessBatch(images, model.config.input, options.limits)
  const preprocessMs = since(t0)
  let started = 0
  const rows = await queue.run(() => {
    started = performance.now()
    return model.run(batch)
  })
  const inference = since(started)
  return {
    results: rows.map((scores) => topK(scores, options.topK, model.labels)),
    timings: { preprocess: preprocessMs, queue: started - t0 - preprocessMs, inference },
  }
}
