/** What the server is doing right now: loading, ready, draining; its model, batcher and metrics. */
import { Batcher } from './batcher.js'
import type { BatcherOptions } from './batcher.js'
import { ServerMetrics } from './metrics.js'
import type { InferenceModel } from './model.js'

/** Lifecycle of a serving process, as reported by `GET /` and `/readyz`. */
export type Phase = 'loading' | 'ready' | 'draining'

/**
 * 8 images per run, 64 waiting, no added delay, requests that do not fit held up to 1 s:
 * measured defaults (see README, Batching).
 */
export const DEFAULT_BATCHING: BatcherOptions = Object.freeze({
  maxBatchSize: 8,
  maxQueue: 64,
  maxDelayMs: 0,
  maxAdmissionWaitMs: 1000,
})

/** A batcher lent to one request; `release()` once the request is done with it. */
export interface Lease {
  readonly batcher: Batcher
  release(): void
}

interface Slot {
  readonly batcher: Batcher
  leases: number
  retired: boolean
}

/** Mutable serving state, owned by the composition root and read by the routes. */
export class ServingState {
  #phase: Phase = 'loading'
  #current: Slot | undefined
  #inFlight = 0
  readonly #batching: BatcherOptions
  readonly #retiring = new Set<Promise<void>>()
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
    return this.#current?.batcher.model
  }

  /** The batcher in front of the current model, once loaded. */
  get batcher(): Batcher | undefined {
    return this.#current?.batcher
  }

  /** Requests currently being handled by predict routes. */
  get inFlight(): number {
    return this.#inFlight
  }

  /** True when a warmed-up model is serving and the process is not draining. */
  get ready(): boolean {
    return this.#phase === 'ready'
  }

  /**
   * Serves a loaded, warmed-up model. A model it replaces keeps serving the requests that already
   * hold it and is closed once they and its queue are done (a swap between requests).
   */
  setModel(model: InferenceModel): void {
    const previous = this.#current
    this.#current = {
      batcher: new Batcher(model, this.#batching, this.metrics),
      leases: 0,
      retired: false,
    }
    this.metrics.setModel(model.info)
    if (this.#phase === 'loading') this.#phase = 'ready'
    if (previous) {
      previous.retired = true
      this.#retireIfUnused(previous)
    }
  }

  /** Lends the current batcher to a request, so a swap cannot close its model underneath it. */
  lease(): Lease | undefined {
    const slot = this.#current
    if (!slot) return undefined
    slot.leases++
    let released = false
    return {
      batcher: slot.batcher,
      release: () => {
        if (released) return
        released = true
        slot.leases--
        this.#retireIfUnused(slot)
      },
    }
  }

  /** Resolves when every replaced model has been closed. */
  async retired(): Promise<void> {
    while (this.#retiring.size > 0) await Promise.all(this.#retiring)
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

  #retireIfUnused(slot: Slot): void {
    if (!slot.retired || slot.leases > 0) return
    slot.retired = false // close once
    const closing = slot.batcher
      .idle()
      .then(() => slot.batcher.model.close())
      .finally(() => this.#retiring.delete(closing))
    this.#retiring.add(closing)
  }
}
