/**
 * `POST /predict`: items in (images, or JSON rows: the model's input adapter reads them), class
 * scores out, through the shared admission, batcher and deadline.
 */
import type { DecodeLimits } from '@resnet/preprocess'
import { Hono } from 'hono'
import type { Reservation } from '../batcher.js'
import { ApiError } from '../http-errors.js'
import type { ImageDecoder } from '../image-decoder.js'
import { stageTimings } from '../predict.js'
import type { StageTimings } from '../predict.js'
import type { ServingState } from '../serving-state.js'

/** Limits the predict route enforces. */
export interface PredictLimits {
  readonly maxImagesPerRequest: number
  readonly decode: DecodeLimits
  /** A request still waiting after this long is refused with 503 (and never starts late). */
  readonly requestTimeoutMs: number
}

export { parseTopK } from '../image-input.js'

/** A refused request's unread body up to this size is drained to keep its connection open. */
const MAX_DRAINED_BODY_BYTES = 256 * 1024

const drainable = (contentLength: string | undefined): boolean =>
  contentLength !== undefined && Number(contentLength) <= MAX_DRAINED_BODY_BYTES

const serverTiming = (t: StageTimings, total: number): string =>
  [
    `decode;dur=${t.decode.toFixed(1)}`,
    `preprocess;dur=${t.preprocess.toFixed(1)}`,
    `queue;dur=${t.queue.toFixed(1)}`,
    `inference;dur=${t.inference.toFixed(1)}`,
    `total;dur=${total.toFixed(1)}`,
  ].join(', ')

/** The predict route; the body and the answer are the model's input adapter's (see input-adapter.ts). */
export function predictRoute(
  state: ServingState,
  limits: PredictLimits,
  decoder?: ImageDecoder
): Hono {
  const app = new Hono()
  app.post('/predict', async (c) => {
    const started = performance.now()
    const deadline = Date.now() + limits.requestTimeoutMs
    // Draining still serves: the load balancer keeps routing here until deregistration ends.
    const lease = state.lease()
    if (!lease) throw new ApiError('NOT_READY', 'The model is still loading; retry shortly', 1)
    const { batcher } = lease
    const done = state.track()
    let reservation: Reservation | undefined
    try {
      const { info, input } = batcher.model
      const read = input.accept(c)
      // admission first: an overloaded server refuses before reading or decoding anything
      try {
        reservation = await batcher.reserve(1, deadline, c.req.raw.signal)
      } catch (err) {
        // the body was never read: Node drains a small one after the answer and keeps the
        // connection, far cheaper for both sides than a new one; a large or unsized one is not
        // worth reading, so that connection is closed
        if (!drainable(c.req.header('content-length'))) c.header('Connection', 'close')
        throw err
      }
      const request = await read(c, limits)
      reservation.resize(request.count)
      const signal = c.req.raw.signal
      const context = { batcher, limits, deadline, signal, decoder }
      const { items, ms } = await request.prepare(context)
      const rows = await batcher.submit(items, { deadline, signal, reservation })
      const timings = stageTimings(ms, rows)
      const total = performance.now() - started
      state.metrics.stageSeconds.observe({ stage: 'decode' }, timings.decode / 1000)
      state.metrics.stageSeconds.observe({ stage: 'preprocess' }, timings.preprocess / 1000)
      state.metrics.stageSeconds.observe({ stage: 'total' }, total / 1000)
      c.header('Server-Timing', serverTiming(timings, total))
      const model = { name: info.name, version: info.version }
      return c.json({ model, ...request.respond(rows.map((row) => row.scores)) })
    } finally {
      reservation?.release()
      done()
      lease.release()
    }
  })
  return app
}
