/**
 * Dynamic batching: images from concurrent requests are grouped into one inference run. A run
 * starts as soon as the model is free (no added delay when idle); images that arrive while it runs
 * form the next batch, up to `maxBatchSize`. The queue is bounded and deadline-aware.
 */
import type { BatchTensor } from '@resnet/preprocess'
import { ApiError } from './http-errors.js'
import type { ServerMetrics } from './metrics.js'
import type { InferenceModel } from './model.js'

/** Batching and admission settings. */
export interface BatcherOptions {
  /** Most images per inference run. */
  readonly maxBatchSize: number
  /** Most images waiting; beyond it requests get 503 OVERLOADED at once. */
  readonly maxQueue: number
  /** Extra wait for a fuller batch when the model is idle. @default 0 */
  readonly maxDelayMs?: number
  /**
   * How long `reserve()` may hold a request that does not fit yet (its body unread, costing
   * nothing) before refusing it; it is admitted as soon as it fits. 0 refuses at once. This keeps
   * clients that retry at once, ignoring Retry-After, from spinning the CPU on refusals.
   * @default 0
   */
  readonly maxAdmissionWaitMs?: number
}

/** One image's scores and where its time went. */
export interface ImageResult {
  readonly scores: Float64Array
  readonly queueMs: number
  /** Writing the batch tensor (normalisation), in the inference worker. */
  readonly tensorMs: number
  readonly inferenceMs: number
}

/** When the caller gives up: its deadline (ms since the epoch) and abort signal. */
export interface SubmitOptions {
  readonly deadline: number
  readonly signal?: AbortSignal | undefined
  /** Room taken by `reserve()` before the images were read; submit uses it up. */
  readonly reservation?: Reservation | undefined
}

/**
 * Room in the queue held for images that are still being uploaded or decoded, so a request is
 * refused before any of that work when it could not finish in time.
 */
export interface Reservation {
  /** Images held. */
  readonly count: number
  /** Holds room for `count` images in all, admitting the extra ones like a new request. */
  resize(count: number): void
  /** Gives the room back (idempotent); called for you by `submit`. */
  release(): void
}

interface Waiter {
  readonly count: number
  readonly deadline: number
  admit(): void
}

interface Job {
  /** One decoded image, or a client's ready-made batch tensor, which runs as a batch of its own. */
  readonly input: { readonly pixels: Uint8Array } | { readonly tensor: BatchTensor }
  /** Images it counts for: 1, or the tensor's batch size. */
  readonly images: number
  readonly deadline: number
  readonly signal: AbortSignal | undefined
  readonly enqueued: number
  resolve(results: ImageResult[]): void
  reject(err: Error): void
}

/** Groups queued images into batches and runs them one batch at a time. */
export class Batcher {
  readonly #model: InferenceModel
  readonly #options: Required<BatcherOptions>
  readonly #metrics: ServerMetrics | undefined
  #queue: Job[] = []
  /** Images in the queue (a tensor job counts its batch size). */
  #queuedImages = 0
  #running = false
  #idleWaiters: (() => void)[] = []
  #timer: NodeJS.Timeout | undefined
  /** Smoothed milliseconds of inference per image: will the next run end before a deadline? */
  #msPerImage = 0
  /**
   * The fastest recent milliseconds per image (a minimum that creeps up 5 % a run), for admission.
   * Admitting on the smoothed figure would spiral under a flood: refusals eat CPU, runs slow
   * down, fewer are admitted, batches shrink, runs slow down more. Jobs admitted optimistically
   * are still refused at dispatch if the run could not end before their deadline.
   */
  #fastestMsPerImage = 0
  /** Images admitted by `reserve()` and not yet queued (being uploaded or decoded). */
  #reserved = 0
  /** Requests held by `reserve()` until they fit, first come first served. */
  #waiters: Waiter[] = []
  /** When the current run started and how long the last one took, for its time left. */
  #runStartedAt = 0
  #lastRunMs = 0

  constructor(model: InferenceModel, options: BatcherOptions, metrics?: ServerMetrics) {
    this.#model = model
    const fixed = model.info.fixedBatchSize ?? Infinity
    // a model with a fixed batch dimension never gets more than that in one run
    const maxBatchSize = Math.max(1, Math.min(options.maxBatchSize, fixed))
    this.#options = { maxDelayMs: 0, maxAdmissionWaitMs: 0, ...options, maxBatchSize }
    this.#metrics = metrics
  }

  /** Images waiting for a run. */
  get queued(): number {
    return this.#queuedImages
  }

  /** Images admitted and still being read or decoded. */
  get reserved(): number {
    return this.#reserved
  }

  /**
   * Admits `count` images before their request is read. When the queue (counting images still
   * being decoded) is full or the expected wait passes `deadline`, the request is held, its body
   * unread, for up to `maxAdmissionWaitMs` and admitted as soon as it fits; otherwise it is
   * refused with OVERLOADED (503). A request that could never fit is refused at once.
   */
  async reserve(count: number, deadline: number, signal?: AbortSignal): Promise<Reservation> {
    const refusal = this.#waiters.length > 0 ? 'waiting' : this.#refusal(count, deadline)
    if (refusal === undefined) return this.#hold(count, deadline)
    const waitMs = Math.min(this.#options.maxAdmissionWaitMs, deadline - Date.now())
    if (waitMs <= 0 || count > this.#options.maxQueue) {
      this.#admit(count, deadline) // throws with the reason, counted
      return this.#hold(count, deadline)
    }
    return new Promise<Reservation>((resolve, reject) => {
      const waiter: Waiter = {
        count,
        deadline,
        admit: () => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', gone)
          resolve(this.#hold(count, deadline))
        },
      }
      const leave = (): void => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter)
        signal?.removeEventListener('abort', gone)
        this.#wakeWaiters() // the next in line may fit now
      }
      const gone = (): void => {
        clearTimeout(timer)
        leave()
        this.#metrics?.rejected.inc({ reason: 'client_gone' })
        reject(new ApiError('BAD_REQUEST', 'The client went away'))
      }
      const timer = setTimeout(() => {
        leave()
        try {
          this.#admit(count, deadline) // the final word: refused with its reason, counted
          resolve(this.#hold(count, deadline))
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)))
        }
      }, waitMs)
      signal?.addEventListener('abort', gone, { once: true })
      this.#waiters.push(waiter)
    })
  }

  #hold(count: number, deadline: number): Reservation {
    this.#reserved += count
    let held = count
    return {
      get count() {
        return held
      },
      resize: (wanted: number) => {
        if (wanted > held) this.#admit(wanted - held, deadline)
        this.#reserved += wanted - held
        held = wanted
      },
      release: () => {
        if (held === 0) return
        this.#reserved -= held
        held = 0
        this.#wakeWaiters()
      },
    }
  }

  /** Admits held requests, in order, while the first one fits. */
  #wakeWaiters(): void {
    while (this.#waiters.length > 0) {
      const first = this.#waiters[0]!
      if (this.#refusal(first.count, first.deadline) !== undefined) return
      this.#waiters.shift()
      first.admit() // holds its room at once, so the next in line is measured behind it
    }
  }

  /** Resolves once nothing is queued or running (used to retire a replaced model). */
  idle(): Promise<void> {
    if (!this.#running && this.#queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** The model these batches run on. */
  get model(): InferenceModel {
    return this.#model
  }

  /**
   * Queues decoded images (HWC RGB at the model's input size) and resolves with one score row
   * per image, in order. Rejects at once with OVERLOADED when the queue is full or the expected
   * wait passes the deadline, and later if the deadline passes or the signal aborts while queued.
   */
  submit(images: readonly Uint8Array[], options: SubmitOptions): Promise<ImageResult[]> {
    const rows = this.#enqueue(
      images.map((pixels) => ({ input: { pixels }, images: 1 })),
      options
    )
    return Promise.all(rows).then((results) => results.map((r) => r[0]!))
  }

  /**
   * Queues a client's ready-made batch tensor (the v2 infer route), admitted like `submit`'s images
   * (it counts its batch size); it runs as a batch of its own, in its turn. Resolves with one score
   * row per item.
   */
  submitTensor(tensor: BatchTensor, options: SubmitOptions): Promise<ImageResult[]> {
    const images = tensor.dims[0] ?? 0
    const [rows] = this.#enqueue([{ input: { tensor }, images }], options)
    return rows!
  }

  #enqueue(
    items: readonly Pick<Job, 'input' | 'images'>[],
    options: SubmitOptions
  ): Promise<ImageResult[]>[] {
    if (options.signal?.aborted) {
      this.#metrics?.rejected.inc({ reason: 'client_gone' })
      options.reservation?.release()
      return items.map(() => Promise.reject(new ApiError('BAD_REQUEST', 'The client went away')))
    }
    const reserved = options.reservation?.count ?? 0
    options.reservation?.release()
    const count = items.reduce((n, item) => n + item.images, 0)
    if (count > reserved) this.#admit(count - reserved, options.deadline)
    const now = Date.now()
    const rows = items.map(
      (item) =>
        new Promise<ImageResult[]>((resolve, reject) => {
          this.#queue.push({
            ...item,
            deadline: options.deadline,
            signal: options.signal,
            enqueued: now,
            resolve,
            reject,
          })
          this.#queuedImages += item.images
        })
    )
    options.signal?.addEventListener(
      'abort',
      () => {
        this.#dropAborted()
      },
      { once: true }
    )
    this.#metrics?.queueDepth.set(this.#queuedImages)
    this.#schedule()
    return rows
  }

  /** Milliseconds until `count` more images would be done: the run in progress, then the rest, at the fastest recent speed. */
  expectedWaitMs(count: number): number {
    const now = performance.now()
    const runLeft = this.#running ? Math.max(0, this.#runStartedAt + this.#lastRunMs - now) : 0
    return runLeft + (this.#queuedImages + this.#reserved + count) * this.#fastestMsPerImage
  }

  /** Why `count` more images would be refused now, or undefined if they fit. */
  #refusal(count: number, deadline: number): 'queue_full' | 'deadline' | undefined {
    if (this.#queuedImages + this.#reserved + count > this.#options.maxQueue) return 'queue_full'
    // expected wait: the run in progress, then everything admitted ahead of us
    return Date.now() + this.expectedWaitMs(count) > deadline ? 'deadline' : undefined
  }

  /** Throws OVERLOADED (counted by reason) unless `count` more images fit now. */
  #admit(count: number, deadline: number): void {
    const reason = this.#refusal(count, deadline)
    if (reason === undefined) return
    this.#metrics?.rejected.inc({ reason })
    if (reason === 'queue_full') {
      const waiting = this.#queuedImages + this.#reserved
      throw new ApiError(
        'OVERLOADED',
        `The inference queue is full (${waiting} images); retry shortly`,
        1
      )
    }
    const expectedMs = this.expectedWaitMs(count)
    throw new ApiError(
      'OVERLOADED',
      `The expected wait (${Math.round(expectedMs)} ms) exceeds the request deadline`,
      Math.max(1, Math.ceil(expectedMs / 1000))
    )
  }

  #dropAborted(): void {
    const gone = this.#queue.filter((job) => job.signal?.aborted)
    if (gone.length === 0) return
    this.#queue = this.#queue.filter((job) => !job.signal?.aborted)
    for (const job of gone) this.#queuedImages -= job.images
    this.#metrics?.rejected.inc({ reason: 'client_gone' }, gone.length)
    this.#metrics?.queueDepth.set(this.#queuedImages)
    for (const job of gone) job.reject(new ApiError('BAD_REQUEST', 'The client went away'))
    this.#wakeWaiters()
  }

  #schedule(): void {
    if (!this.#running && this.#queue.length === 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake()
    }
    if (this.#running || this.#queue.length === 0 || this.#timer) return
    const full =
      this.#queuedImages >= this.#options.maxBatchSize || 'tensor' in this.#queue[0]!.input
    if (full || this.#options.maxDelayMs === 0) {
      void this.#runNext()
      return
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.#runNext()
    }, this.#options.maxDelayMs)
  }

  /** Takes the next batch (dropping expired jobs) and runs it; then schedules the next. */
  async #runNext(): Promise<void> {
    if (this.#running) return
    // a job that this run cannot finish before its deadline is refused now, not answered late
    // (15 % headroom: a run's duration varies, and the answer still has to be written)
    const size = Math.min(this.#options.maxBatchSize, this.#queuedImages)
    const finishBy = Date.now() + 1.15 * size * this.#msPerImage
    // images up to maxBatchSize, or one tensor job alone
    const jobs: Job[] = []
    let images = 0
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!
      const alone = 'tensor' in next.input || (jobs.length > 0 && 'tensor' in jobs[0]!.input)
      if (jobs.length > 0 && (alone || images + next.images > this.#options.maxBatchSize)) break
      const job = this.#queue.shift()!
      this.#queuedImages -= job.images
      if (job.signal?.aborted) {
        this.#metrics?.rejected.inc({ reason: 'client_gone' })
        job.reject(new ApiError('BAD_REQUEST', 'The client went away'))
      } else if (job.deadline < finishBy) {
        this.#metrics?.rejected.inc({ reason: 'deadline' })
        job.reject(
          new ApiError('OVERLOADED', 'The request would miss its deadline; retry shortly', 1)
        )
      } else {
        jobs.push(job)
        images += job.images
      }
    }
    this.#metrics?.queueDepth.set(this.#queuedImages)
    if (jobs.length === 0) {
      this.#wakeWaiters()
      return
    }
    this.#running = true
    try {
      await this.#runBatch(jobs)
    } finally {
      this.#running = false
      this.#schedule()
      this.#wakeWaiters()
    }
  }

  async #runBatch(jobs: Job[]): Promise<void> {
    const started = performance.now()
    const startedAt = Date.now()
    this.#runStartedAt = started
    for (const job of jobs) {
      this.#metrics?.stageSeconds.observe({ stage: 'queue' }, (startedAt - job.enqueued) / 1000)
    }
    try {
      const first = jobs[0]!.input
      const { rows, tensorMs } =
        'tensor' in first
          ? { rows: await this.#model.run(first.tensor), tensorMs: 0 }
          : await this.#model.runItems(
              jobs.map((job) => (job.input as { pixels: Uint8Array }).pixels)
            )
      const ms = performance.now() - started
      this.#lastRunMs = ms
      const perImage = ms / rows.length
      this.#fastestMsPerImage =
        this.#fastestMsPerImage === 0
          ? perImage
          : Math.min(perImage, this.#fastestMsPerImage * 1.05)
      this.#msPerImage = this.#msPerImage === 0 ? perImage : 0.8 * this.#msPerImage + 0.2 * perImage
      this.#metrics?.batchSize.observe(rows.length)
      const inferenceMs = ms - tensorMs
      this.#metrics?.stageSeconds.observe({ stage: 'inference' }, inferenceMs / 1000)
      let row = 0
      for (const job of jobs) {
        const queueMs = startedAt - job.enqueued
        const own = rows.slice(row, (row += job.images))
        job.resolve(own.map((scores) => ({ scores, queueMs, tensorMs, inferenceMs })))
      }
    } catch (err) {
      for (const job of jobs) job.reject(err as Error)
    }
  }
}
