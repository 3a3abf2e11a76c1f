/**
 * Fetches a remote file into an open temp file in parts of `partSize` bytes, `concurrency` ranged
 * GETs at once (what `aws s3 cp` and s5cmd do: one S3 connection is slower than a task's network).
 * Every GET is resumed from its last written byte after a dropped connection or short body,
 * retried with backoff on transient errors, and aborted when it stalls.
 */
import type { FileHandle } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { ModelLoaderError } from './errors.js'
import { partWriter } from './part-writer.js'
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
}

/** Callbacks for progress and logs. */
export interface PartHooks {
  /** `bytes` more are now in the file. */
  onWritten(bytes: number): void
  /** The first `upTo` bytes of the file are now written. */
  onContiguous(upTo: number): void
  onRetry(err: unknown, range: ByteRange, attempt: number, delayMs: number): void
}

/** A byte range of the file and how much of it is written. */
export interface Part {
  readonly start: number
  /** Undefined: unknown size, set once the body has ended. */
  end: number | undefined
  done: number
}

/**
 * The parts of a file: one when it is not ranged or fits in one part, else parts of `partSize`;
 * when they fill more than one wave of `concurrency` GETs and the last wave would be partial,
 * as many equal parts as full waves need, so that the last wave keeps every connection busy
 * (16 MiB parts of 500 MB on 10 connections left 2 GETs alone at the end: at most 0.82 of the
 * link's cap on the shaped network).
 */
export function planParts(
  size: number | undefined,
  ranged: boolean,
  { partSize, concurrency }: Pick<PartSettings, 'partSize' | 'concurrency'>
): Part[] {
  if (size === undefined || !ranged || size <= partSize) return [{ start: 0, end: size, done: 0 }]
  const count = Math.ceil(size / partSize)
  const even = count > concurrency && count % concurrency !== 0
  const each = even ? Math.ceil(size / (Math.ceil(count / concurrency) * concurrency)) : partSize
  const parts: Part[] = []
  for (let start = 0; start < size; start += each) {
    parts.push({ start, end: Math.min(size, start + each), done: 0 })
  }
  return parts
}

const isComplete = (p: Part): boolean => p.end !== undefined && p.start + p.done >= p.end

/** How far the file is complete from its start: no part before `parts[first]` is incomplete. */
function contiguous(parts: Part[], from: { first: number }): number {
  let p = parts[from.first]
  while (p && isComplete(p)) p = parts[++from.first]
  const last = parts.at(-1)!
  return p ? p.start + p.done : last.start + last.done
}

/**
 * Downloads `size` bytes (undefined: unknown, one stream) into `fh`, in ranged parts when `ranged`;
 * returns the bytes written. The first failure stops the other GETs before it throws.
 */
export async function fetchParts(
  fh: FileHandle,
  size: number | undefined,
  read: RangeReader,
  ranged: boolean,
  settings: PartSettings,
  hooks: PartHooks,
  outer: AbortSignal
): Promise<number> {
  const parts = planParts(size, ranged, settings)
  const stop = new AbortController()
  const signal = AbortSignal.any([outer, stop.signal])
  const first = { first: 0 }

  const streamOnce = async (part: Part): Promise<void> => {
    const from = part.start + part.done
    const whole = parts.length === 1 && from === 0
    const range = whole ? undefined : { start: from, end: part.end }
    const stall = new AbortController()
    const both = AbortSignal.any([signal, stall.signal])
    const timer = setTimeout(() => {
      stall.abort(new Error(`no data for ${settings.stallTimeoutMs} ms (stalled connection)`))
    }, settings.stallTimeoutMs)
    const writer = partWriter(fh, from, part.end, {
      onReceived: () => timer.refresh(),
      onWritten: (n) => {
        part.done += n
        hooks.onWritten(n)
        hooks.onContiguous(contiguous(parts, first))
      },
    })
    try {
      await pipeline(await read(range, both), writer.writable, { signal: both })
    } finally {
      clearTimeout(timer)
      await writer.settled()
    }
    if (part.end === undefined) {
      part.end = part.start + part.done // unknown size: the body's end is the file's end
      hooks.onContiguous(contiguous(parts, first))
    } else if (!isComplete(part)) {
      const msg = `body ended at byte ${part.start + part.done} of bytes ${from}-${part.end - 1}`
      throw new ModelLoaderError('DOWNLOAD_FAILED', msg)
    }
  }

  const fetchPart = async (part: Part): Promise<void> => {
    for (let attempt = 1; !isComplete(part); attempt++) {
      const before = part.done
      try {
        await streamOnce(part)
        return
      } catch (err) {
        if (signal.aborted || !isTransient(err)) throw err
        if (part.done > before) attempt = 1 // it made progress: resume, with a fresh budget
        if (attempt > settings.retries) {
          const what = `bytes ${part.start}-${(part.end ?? 0) - 1}`
          const msg = `${what} failed ${attempt} times in a row: ${(err as Error).message}`
          throw new ModelLoaderError('DOWNLOAD_FAILED', msg, { cause: err })
        }
        const delayMs = backoffMs(attempt, settings.backoff)
        hooks.onRetry(err, { start: part.start + part.done, end: part.end }, attempt, delayMs)
        await sleep(delayMs, undefined, { signal })
      }
    }
  }

  let next = 0
  let failure: { err: unknown } | undefined
  const worker = async (): Promise<void> => {
    while (next < parts.length && !signal.aborted) await fetchPart(parts[next++]!)
  }
  const streams = Math.max(1, Math.min(settings.concurrency, parts.length))
  await Promise.all(
    Array.from({ length: streams }, () =>
      worker().catch((err: unknown) => {
        failure ??= { err }
        stop.abort(err)
      })
    )
  )
  if (failure) throw failure.err
  signal.throwIfAborted()
  return parts.reduce((sum, p) => sum + p.done, 0)
}
