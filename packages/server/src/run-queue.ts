/** Runs inference jobs one at a time (each run already uses every intra-op thread), bounded. */
import { ApiError } from './http-errors.js'

/** A FIFO that runs one job at a time and refuses new jobs beyond `maxPending` waiting. */
export class RunQueue {
  readonly #maxPending: number
  #tail: Promise<unknown> = Promise.resolve()
  #pending = 0

  constructor(maxPending: number) {
    this.#maxPending = maxPending
  }

  /** Jobs waiting or running. */
  get size(): number {
    return this.#pending
  }

  /** Queues `job`; rejects at once with OVERLOADED (503, Retry-After) when the queue is full. */
  run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#pending >= this.#maxPending) {
      throw new ApiError(
        'OVERLOADED',
        `Too many requests in progress (${this.#pending}); retry shortly`,
        1
      )
    }
    this.#pending++
    const result = this.#tail.then(job).finally(() => {
      this.#pending--
    })
    this.#tail = result.catch(() => undefined)
    return result
  }
}
