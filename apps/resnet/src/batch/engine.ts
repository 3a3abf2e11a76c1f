/** The serving engine, opened for a batch worker exactly as main.ts opens it for the server. */
import type { DecodeLimits } from '@resnet/preprocess'
import { lowerDecodePriority, ServingState, WorkerDecoder } from '@resnet/server'
import type { ImageDecoder } from '@resnet/server'
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import { loadServingModel } from '../load-serving-model.js'

/** The server's batcher (dynamic batching in front of the inference worker). */
export type Batcher = NonNullable<ServingState['batcher']>

/** A loaded model behind the server's batcher and decode worker, with the server's limits. */
export interface BatchEngine {
  readonly batcher: Batcher
  readonly decoder: ImageDecoder
  readonly limits: DecodeLimits
  /** Per image (the server's per-request REQUEST_TIMEOUT_MS). */
  readonly timeoutMs: number
  /** Images kept in flight: the server's queue bound (MAX_QUEUE). */
  readonly concurrency: number
  close(): Promise<void>
}

/** Loads and warms up the configured model; the same settings and limits as the server's. */
export async function openEngine(config: Config, logger: Logger): Promise<BatchEngine> {
  const state = new ServingState({
    maxBatchSize: config.MAX_BATCH_SIZE,
    maxQueue: config.MAX_QUEUE,
    maxDelayMs: config.BATCH_DELAY_MS,
    maxAdmissionWaitMs: config.MAX_ADMISSION_WAIT_MS,
  })
  const { model } = await loadServingModel(config, logger)
  state.setModel(model)
  lowerDecodePriority(config.DECODE_NICENESS)
  return {
    batcher: state.batcher!,
    decoder: new WorkerDecoder({ niceness: config.DECODE_NICENESS }),
    limits: {
      maxInputBytes: config.MAX_IMAGE_BYTES,
      maxPixels: config.MAX_IMAGE_PIXELS,
      timeoutMs: config.DECODE_TIMEOUT_MS,
    },
    timeoutMs: config.REQUEST_TIMEOUT_MS,
    concurrency: config.MAX_QUEUE,
    close: () => model.close(),
  }
}
