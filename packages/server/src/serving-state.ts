/** What the server is doing right now: loading, ready, draining; and the model it serves. */
import type { InferenceModel } from './model.js'
import { RunQueue } from './run-queue.js'

/** Lifecycle of a serving process, as reported by `GET /` and `/readyz`. */
export type Phase = 'loading' | 'ready' | 'draining'

/** Mutable serving state, owned by the composition root and read by the routes. */
export class ServingState {
  #phase: Phase = 'loading'
  #model: InferenceModel | undefined
  #inFlight = 0
  /** Bounded FIFO of inference runs. */
  readonly queue: RunQueue

  /** @param maxQueue inference runs that may wait before requests get 503 OVERLOADED */
  constructor(maxQueue = 64) {
    this.queue = new RunQueue(maxQueue)
  }

  get phase(): Phase {
    return this.#phase
  }

  get model(): InferenceModel | undefined {
    return this.#model
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
    this.#model = model
    if (this.#phase === 'loading') this.#phase = 'ready'
  }

  /** Turns not-ready at once (readiness 503) while requests already accepted finish. */
  startDraining(): void {
    this.#phase = 'draining'
  }

  /** Counts a request in; call the returned function once it is done. */
  track(): () => void {
    this.#inFlight++
    let done = false
    return () => {
      if (!done) this.#inFlight--
      done = true
    }
  }
}
