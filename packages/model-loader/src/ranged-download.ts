/**
 * Fetches a remote file into an open temp file: parallel ranged GETs of `partSize` bytes, each
 * resumed from its last written byte after a dropped connection or short body, retried with
 * backoff on transient errors, and aborted when it stalls.
 */
import type { FileHandle } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { ModelLoaderError } from './errors.js'
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
  readonly concurrency: number
  /** Tries per part after the first, reset whenever a try made progress. */
  readonly retries: number
  readonly backoff: BackoffOptions
  /** A request that delivers no byte for this long is aborted and retried. */
  readonly stallTimeoutMs: number
}

/** Callbacks for progress and logs. */
export interface PartHooks {
  onWritten(bytes: number): void
  /** The first `upTo` bytes of the file are now written. */
  onContiguous(upTo: number): void
  onRetry(err: unknown, range: ByteRange, attempt: number, delayMs: number): void
}

interface Part {
  readonly start: number
  readonly end: number | undefined
  done: number
}

interface Job {
  readonly fh: FileHandle
  readonly read: RangeReader
  readonly settings: PartSettings
  readonly hooks: PartHooks
  readonly signal: AbortSignal
  readonly single: boolean
  readonly contiguous: () => number
}

function planParts(size: number | undefined, ranged: boolean, partSize: number): Part[] {
  if (size === undefined || !ranged || size <= partSize) return [{ start: 0, end: size, done: 0 }]
  const parts: Part[] = []
  for (let start = 0; start < size; start += partSize) {
    parts.push({ start, end: Math.min(size, start + partSize), done: 0 })
  }
  return parts
}

const isComplete = (p: Part): boolean => p.end !== undefined && p.start + p.done >= p.end

async function streamOnce(job: Job, part: Part): Promise<void> {
  const from = part.start + part.done
  const range = job.single && from === 0 ? undefined : { start: from, end: part.end }
  const stall = new AbortController()
  const signal = AbortSignal.any([job.signal, stall.signal])
  const timer = setTimeout(() => {
    stall.abort(new Error(`no data for ${job.settings.stallTimeoutMs} ms (stalled connection)`))
  }, job.settings.stallTimeoutMs)
  const onWritten = (n: number): void => {
    part.done += n
    timer.refresh()
    job.hooks.onWritten(n)
    job.hooks.onContiguous(job.contiguous())
  }
  const writer = new PositionalWriter(job.fh, from, part.end, onWritten)
  try {
    await pipeline(await job.read(range, signal), writer, { signal })
  } finally {
    clearTimeout(timer)
    await writer.settled()
  }
  if (part.end !== undefined && part.start + part.done < part.end) {
    const msg = `body ended at byte ${part.start + part.done} of bytes ${from}-${part.end - 1}`
    throw new ModelLoaderError('DOWNLOAD_FAILED', msg)
  }
}

async function fetchPart(job: Job, part: Part): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const before = part.done
    try {
      await streamOnce(job, part)
      return
    } catch (err) {
      if (job.signal.aborted || !isTransient(err)) throw err
      if (part.done > before) attempt = 1 // it made progress: resume, with a fresh retry budget
      if (attempt > job.settings.retries) {
        const msg = `bytes ${part.start}-${(part.end ?? 0) - 1} failed ${attempt} times in a row`
        throw new ModelLoaderError('DOWNLOAD_FAILED', `${msg}: ${(err as Error).message}`, {
          cause: err,
        })
      }
      const delayMs = backoffMs(attempt, job.settings.backoff)
      job.hooks.onRetry(err, { start: part.start + part.done, end: part.end }, attempt, delayMs)
      await sleep(delayMs, undefined, { signal: job.signal })
    }
  }
}

/**
 * Downloads `size` bytes (undefined: unknown, one stream) into `fh`, ranged in parallel when
 * `ranged`; returns the bytes written. The first failure stops the other parts before it throws.
 */
export async function fetchParts(
  fh: FileHandle,
  size: number | undefined,
  read: RangeReader,
  ranged: boolean,
  settings: PartSettings,
  hooks: PartHooks,
  signal: AbortSignal
): Promise<number> {
  const parts = planParts(size, ranged, settings.partSize)
  const stop = new AbortController()
  let first = 0
  const contiguous = (): number => {
    let p = parts[first]
    while (p && isComplete(p)) p = parts[++first]
    return p ? p.start + p.done : (size ?? 0)
  }
  const single = parts.length === 1
  const job: Job = {
    fh,
    read,
    settings,
    hooks,
    contiguous,
    single,
    signal: AbortSignal.any([signal, stop.signal]),
  }
  let next = 0
  let failure: { err: unknown } | undefined
  const worker = async (): Promise<void> => {
    while (next < parts.length && !job.signal.aborted) await fetchPart(job, parts[next++]!)
  }
  const onFailure = (err: unknown): void => {
    failure ??= { err }
    stop.abort(err)
  }
  const count = Math.min(settings.concurrency, parts.length)
  const workers = Array.from({ length: count }, () => worker().catch(onFailure))
  await Promise.all(workers) // every part has stopped writing before we return or throw
  if (failure) throw failure.err
  if (signal.aborted) throw signal.reason
  return parts.reduce((sum, p) => sum + p.done, 0)
}
