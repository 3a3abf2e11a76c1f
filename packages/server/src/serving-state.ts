/** What the server is doing right now: loading, ready, draining; its model, batcher and metrics. */
import { Batcher } from './batcher.js'
import type { BatcherOptions } from './batcher.js'
import { ServerMetrics } from './metrics.js'
import type { InferenceModel } from './model.js'

/** Lifecycle of a serving process, as reported by `GET /` and `/readyz`. */
export type Phase = 'loading' | 'ready' | 'draining'

/** 8 images per run, 64 waiting, no added delay: measured defaults (see README, Batching). */
export const DEFAULT_BATCHING: BatcherOptions = Object.freeze({
  maxBatchSize: 8,
  maxQueue: 64,
  maxDelayMs: 0,
})

/** Mutable serving state, owned by the composition root and read by the routes. */
export class ServingState {
  #phase: Phase = 'loading'
  #batcher: Batcher | undefined
  #inFlight = 0
  readonly #batching: BatcherOptions
  /** This instance's Prometheus metrics. */
  readonly metrics: ServerMetrics = new ServerMetrics()

  constructor(batching: BatcherOptions = DEFAULT_BATCHING) {
    this.#batching = batching
  }

  get phase(): Phase {
    return this.#phase
  }

  /** The model being served, once loaded. */
  get model(): InferenceModel | undefined {
    return this.#batcher?.model
  }

  /** The batcher in front of the model, once loaded. */
  get batcher(): Batcher | undefined {
    return this.#batcher
  }

  /** Requests currently being handled by predict routes. */
  get inFlight(): number {
    return this.#inFlight
  }

  /** True when a warmed-up model is serving and the process is not draining. */
  get ready(): boolean {
    return this.#phase === 'ready'
  }

  /** Installs a loaded, warmed-up model and turns ready (unless already draining). */
  setModel(model: InferenceModel): void {
    this.#batcher = new Batcher(model, this.#batching, this.metrics)
    this.metrics.setModel(model.info)
    if (this.#phase === 'loading') this.#phase = 'ready'
  }

  /** Turns not-ready at once (readiness 503) while requests keep being served. */
  startDraining(): void {
    this.#phase = 'draining'
  }

  /** Counts a request in; call the returned function once it is done. */
  track(): () => void {
    this.#inFlight++
    this.metrics.inFlight.set(this.#inFlight)
    let done = false
    return () => {
      if (!done) this.#inFlight--
      done = true
      this.metrics.inFlight.set(this.#inFlight)
    }
  }
}
