/**
 * Fetches a remote file into an open temp file in parts of `partSize` bytes. A file of several
 * parts starts as one GET spanning all of them (the cheapest way to move bytes: one request, one
 * connection); when that GET proves slower than `parallelBelowBytesPerS` while neither the CPUs
 * nor the event loop are saturated — a network-bound connection, not a CPU-bound machine — the
 * parts it has not reached are spread over `concurrency` ranged GETs. Every GET is resumed from its last written byte after
 * a dropped connection or short body, retried with backoff on transient errors, and aborted when
 * it stalls.
 */
import type { FileHandle } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { ModelLoaderError } from './errors.js'
import { loadSampler } from './load-sampler.js'
import type { Load, LoadSampler } from './load-sampler.js'
import { PositionalWriter } from './positional-writer.js'
import { backoffMs, isTransient } from './retry.js'
import type { BackoffOptions } from './retry.js'

/** Bytes [start, end) of a file; no `end`: to the end of the file. */
export interface ByteRange {
  readonly start: number
  readonly end?: number | undefined
}

/** Opens the whole file (no range) or a range of it; the body must be exactly that range. */
export type RangeReader = (
  range: ByteRange | undefined,
  signal: AbortSignal
) => Promise<Readable | AsyncIterable<Uint8Array>>

/** How to split and retry a download. */
export interface PartSettings {
  readonly partSize: number
  /** Most GETs in flight for one file. */
  readonly concurrency: number
  /** Tries per GET after the first, reset whenever a try made progress. */
  readonly retries: number
  readonly backoff: BackoffOptions
  /** A request that delivers no byte for this long is aborted and retried. */
  readonly stallTimeoutMs: number
  /**
   * Spread the parts over `concurrency` GETs when one GET delivers less than this many bytes/s
   * while the CPUs have time to spare (see {@link isNetworkBound}). `Infinity`: parallel from the
   * start; `0`: one GET for the whole file.
   */
  readonly parallelBelowBytesPerS: number
  /** How long one GET is measured before that decision, and between later checks. */
  readonly probeMs: number
  /** Makes the load sampler (tests); default: `os.cpus()` and the event loop's utilization. */
  readonly load?: (() => LoadSampler) | undefined
}

/** Callbacks for progress and logs. */
export interface PartHooks {
  /**
   * `buffers` (`bytes` in all) are now in the file at `at`. Read them during the call only: their
   * memory is reused for later bytes once it returns.
   */
  onWritten(bytes: number, at: number, buffers: readonly Buffer[]): void
  /** The first `upTo` bytes of the file are now written. */
  onContiguous(upTo: number): void
  onRetry(err: unknown, range: ByteRange, attempt: number, delayMs: number): void
  /** One GET measured `bytesPerS`: the rest is now spread over `concurrency` GETs. */
  onParallel?(bytesPerS: number, concurrency: number): void
}

/**
 * Whether more connections would help a slow one: only if neither the machine (a quarter of its
 * CPU time idle) nor our event loop (busy less than 3/4 of the time) is what limits it.
 */
export const isNetworkBound = (load: Load): boolean => load.idleCpu >= 0.25 && load.eventLoop < 0.75

interface Part {
  readonly start: number
  readonly end: number | undefined
  done: number
  /** A GET covers it (or did). */
  taken: boolean
}

/** One GET's parts `first..last` (`last` shrinks when parts are handed to other GETs). */
interface Run {
  readonly first: number
  last: number
  /** The first part of the run not complete yet. */
  cursor: number
  writer: PositionalWriter | undefined
}

function planParts(size: number | undefined, ranged: boolean, partSize: number): Part[] {
  if (size === undefined || !ranged || size <= partSize) {
    return [{ start: 0, end: size, done: 0, taken: false }]
  }
  const parts: Part[] = []
  for (let start = 0; start < size; start += partSize) {
    parts.push({ start, end: Math.min(size, start + partSize), done: 0, taken: false })
  }
  return parts
}

const isComplete = (p: Part): boolean => p.end !== undefined && p.start + p.done >= p.end

class PartFetcher {
  readonly #fh: FileHandle
  readonly #size: number | undefined
  readonly #read: RangeReader
  readonly #settings: PartSettings
  readonly #hooks: PartHooks
  readonly #signal: AbortSignal
  readonly #stop = new AbortController()
  readonly #parts: Part[]
  readonly #active = new Set<Run>()
  readonly #workers: Promise<void>[] = []
  #streams: number
  /** No part before this one is waiting for a GET. */
  #next = 0
  /** No part before this one is incomplete. */
  #first = 0
  #received = 0
  #probe: NodeJS.Timeout | undefined
  #failure: { err: unknown } | undefined

  constructor(
    fh: FileHandle,
    size: number | undefined,
    read: RangeReader,
    ranged: boolean,
    settings: PartSettings,
    hooks: PartHooks,
    signal: AbortSignal
  ) {
    this.#fh = fh
    this.#size = size
    this.#read = read
    this.#settings = settings
    this.#hooks = hooks
    this.#parts = planParts(size, ranged, settings.partSize)
    this.#signal = AbortSignal.any([signal, this.#stop.signal])
    const parallel = settings.parallelBelowBytesPerS === Infinity
    this.#streams = parallel ? Math.min(settings.concurrency, this.#parts.length) : 1
  }

  /** Runs every part to completion; the first failure stops the others before it is thrown. */
  async run(): Promise<number> {
    for (let i = 0; i < this.#streams; i++) this.#addWorker()
    this.#startProbe()
    try {
      // every GET has stopped writing before we return or throw (the probe may add workers)
      for (let awaited = 0; awaited < this.#workers.length;) {
        const batch = this.#workers.slice(awaited)
        awaited = this.#workers.length
        await Promise.all(batch)
      }
    } finally {
      clearInterval(this.#probe)
    }
    if (this.#failure) throw this.#failure.err
    this.#signal.throwIfAborted()
    return this.#parts.reduce((sum, p) => sum + p.done, 0)
  }

  #addWorker(): void {
    const worker = async (): Promise<void> => {
      for (let run = this.#take(); run && !this.#signal.aborted; run = this.#take()) {
        this.#active.add(run)
        try {
          await this.#fetchRun(run)
        } finally {
          this.#active.delete(run)
        }
      }
    }
    this.#workers.push(
      worker().catch((err: unknown) => {
        this.#failure ??= { err }
        this.#stop.abort(err)
      })
    )
  }

  /** The next waiting part; while there is one stream, with every waiting part after it. */
  #take(): Run | undefined {
    const parts = this.#parts
    while (this.#next < parts.length && parts[this.#next]!.taken) this.#next++
    if (this.#next >= parts.length) return undefined
    const first = this.#next
    let last = first
    parts[first]!.taken = true
    if (this.#streams === 1) {
      while (last + 1 < parts.length && !parts[last + 1]!.taken) parts[++last]!.taken = true
    }
    return { first, last, cursor: first, writer: undefined }
  }

  #runEnd(run: Run): number | undefined {
    return this.#parts[run.last]!.end
  }

  /** Where the run resumes: after the last byte written (its end once it is done). */
  #position(run: Run): number {
    const p = this.#parts[Math.min(run.cursor, run.last)]!
    return p.start + p.done
  }

  #isDone(run: Run): boolean {
    return run.cursor > run.last
  }

  /** Counts `n` more written bytes of the run, part by part. */
  #credit(run: Run, n: number): void {
    let left = n
    while (left > 0 && run.cursor <= run.last) {
      const p = this.#parts[run.cursor]!
      const add = p.end === undefined ? left : Math.min(left, p.end - p.start - p.done)
      p.done += add
      left -= add
      if (isComplete(p)) run.cursor++
    }
  }

  #contiguous(): number {
    const parts = this.#parts
    let p = parts[this.#first]
    while (p && isComplete(p)) p = parts[++this.#first]
    return p ? p.start + p.done : (this.#size ?? 0)
  }

  /** Measures the single GET every `probeMs`; spreads the rest when it is slow but could go faster. */
  #startProbe(): void {
    const { parallelBelowBytesPerS: threshold, probeMs, concurrency } = this.#settings
    if (this.#streams > 1 || concurrency < 2 || this.#parts.length < 2 || !(threshold > 0)) return
    const sample = (this.#settings.load ?? loadSampler)()
    let since = performance.now()
    let received = this.#received
    this.#probe = setInterval(() => {
      const now = performance.now()
      const bytesPerS = ((this.#received - received) * 1000) / Math.max(now - since, 1)
      const load = sample()
      since = now
      received = this.#received
      if (bytesPerS < threshold && isNetworkBound(load) && this.#spread()) {
        clearInterval(this.#probe)
        this.#hooks.onParallel?.(bytesPerS, this.#streams)
      }
    }, probeMs)
    this.#probe.unref()
  }

  /** Hands the parts the single GET has not reached to `concurrency` GETs; false: none left. */
  #spread(): boolean {
    const [run] = this.#active
    if (!run || this.#signal.aborted) return false
    const at = run.writer?.accepted ?? this.#position(run)
    // keep the part holding the last byte accepted: nothing it holds is written twice
    const keep = Math.max(run.first, Math.floor((at - 1) / this.#settings.partSize))
    if (keep >= run.last) return false
    for (let i = keep + 1; i <= run.last; i++) this.#parts[i]!.taken = false
    run.last = keep
    this.#next = Math.min(this.#next, keep + 1)
    this.#streams = this.#settings.concurrency
    for (let i = 1; i < this.#streams; i++) this.#addWorker()
    return true
  }

  async #streamOnce(run: Run): Promise<void> {
    const from = this.#position(run)
    const requestedEnd = this.#runEnd(run)
    const whole = this.#parts.length === 1 && from === 0
    const range = whole ? undefined : { start: from, end: requestedEnd }
    const { stallTimeoutMs } = this.#settings
    const stall = new AbortController()
    const cut = new AbortController()
    const signal = AbortSignal.any([this.#signal, stall.signal, cut.signal])
    const timer = setTimeout(() => {
      stall.abort(new Error(`no data for ${stallTimeoutMs} ms (stalled connection)`))
    }, stallTimeoutMs)
    const window = { end: () => this.#runEnd(run) ?? Infinity, requestedEnd }
    const writer = new PositionalWriter(this.#fh, from, window, {
      onReceived: (n) => {
        timer.refresh()
        this.#received += n
      },
      onWritten: (at, buffers, n) => {
        this.#credit(run, n)
        this.#hooks.onWritten(n, at, buffers)
        this.#hooks.onContiguous(this.#contiguous())
      },
      onEnd: () => {
        cut.abort(new Error('the rest of this range went to other requests'))
      },
    })
    run.writer = writer
    try {
      await pipeline(await this.#read(range, signal), writer, { signal })
    } catch (err) {
      if (!(cut.signal.aborted && this.#isDone(run))) throw err
    } finally {
      clearTimeout(timer)
      await writer.settled()
      run.writer = undefined
    }
    const end = this.#runEnd(run)
    if (end === undefined) {
      run.cursor = run.last + 1 // unknown size: the body's end is the file's end
    } else if (!this.#isDone(run)) {
      const msg = `body ended at byte ${this.#position(run)} of bytes ${from}-${end - 1}`
      throw new ModelLoaderError('DOWNLOAD_FAILED', msg)
    }
  }

  async #fetchRun(run: Run): Promise<void> {
    const { retries, backoff } = this.#settings
    for (let attempt = 1; ; attempt++) {
      if (this.#isDone(run)) return // e.g. every byte arrived before the connection broke
      const before = this.#position(run)
      try {
        await this.#streamOnce(run)
        return
      } catch (err) {
        if (this.#signal.aborted || !isTransient(err)) throw err
        if (this.#position(run) > before) attempt = 1 // it made progress: resume, with a fresh budget
        const end = this.#runEnd(run)
        if (attempt > retries) {
          const what = `bytes ${this.#parts[run.first]!.start}-${(end ?? 0) - 1}`
          const msg = `${what} failed ${attempt} times in a row: ${(err as Error).message}`
          throw new ModelLoaderError('DOWNLOAD_FAILED', msg, { cause: err })
        }
        const delayMs = backoffMs(attempt, backoff)
        this.#hooks.onRetry(err, { start: this.#position(run), end }, attempt, delayMs)
        await sleep(delayMs, undefined, { signal: this.#signal })
      }
    }
  }
}

/**
 * Downloads `size` bytes (undefined: unknown, one stream) into `fh`, in ranged parts when `ranged`;
 * returns the bytes written. The first failure stops the other GETs before it throws.
 */
export function fetchParts(
  fh: FileHandle,
  size: number | undefined,
  read: RangeReader,
  ranged: boolean,
  settings: PartSettings,
  hooks: PartHooks,
  signal: AbortSignal
): Promise<number> {
  return new PartFetcher(fh, size, read, ranged, settings, hooks, signal).run()
}
