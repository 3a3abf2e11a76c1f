/** Parallel ranged GETs into one file, resumed, retried and cut when stalled (README, Download). */
import type { FileHandle } from 'node:fs/promises'
import { Writable } from 'node:stream'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { ModelLoaderError } from './errors.js'
import { backoffMs, isTransient } from './retry.js'
import type { BackoffOptions } from './retry.js'

/** Bytes [start, end) of a file; no `end`: to the end of the file. */
export interface ByteRange {
  readonly start: number
  readonly end?: number | undefined
}

/** The HTTP `Range` header value for a byte range (inclusive end, as RFC 9110 says). */
export const rangeHeader = (range: ByteRange): string =>
  `bytes=${range.start}-${range.end === undefined ? '' : range.end - 1}`

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
  /** `bytes` more are now in the file, whose first `contiguous` bytes are complete. */
  onWritten(bytes: number, contiguous: number): void
  onRetry(err: unknown, range: ByteRange, attempt: number, delayMs: number): void
}

/** Bytes [start, end) of the file (no `end`: unknown size, until the body ends); `done`: written */
export interface Part {
  readonly start: number
  end: number | undefined
  done: number
}

/**
 * The parts of a file: one when it is not ranged or fits in one part, else parts of `partSize`,
 * or as many equal parts as full waves of `concurrency` GETs need (README, Download: equal parts).
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

/** Writes `buffers` at `position`, continuing after a short write (rare on regular files). */
async function writeAllAt(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  for (let rest = buffers, pos = position; rest.length > 0;) {
    const { bytesWritten } = await fh.writev(rest, pos)
    pos += bytesWritten
    let skip = bytesWritten
    while (rest.length > 0 && skip >= rest[0]!.length) skip -= rest.shift()!.length
    if (skip > 0) rest = [rest[0]!.subarray(skip), ...rest.slice(1)]
  }
}

/**
 * A Writable that writes a part's body at its offset with positional `writev`s (the stream
 * buffers up to 512 KiB while one is in flight), and a promise that settles with that write.
 * Bytes count only once in the file, so a retry resumes right after them; bytes past `part.end`
 * (a server ignoring Range) are refused.
 */
function partWriter(
  fh: FileHandle,
  part: Part,
  stallTimer: NodeJS.Timeout,
  onWritten: (bytes: number) => void
): { writable: Writable; settled: () => Promise<unknown> } {
  let inFlight: Promise<unknown> = Promise.resolve()
  const writable = new Writable({
    highWaterMark: 512 * 1024,
    writev(chunks, callback) {
      const buffers = chunks.map((c) => c.chunk as Buffer)
      const bytes = buffers.reduce((sum, b) => sum + b.length, 0)
      stallTimer.refresh() // bytes arrived: the connection is alive
      if (part.start + part.done + bytes > (part.end ?? Infinity)) {
        callback(new Error(`the server sent more than the ${part.end} bytes asked for`))
        return
      }
      const write = writeAllAt(fh, buffers, part.start + part.done).then(() => {
        part.done += bytes
        onWritten(bytes)
      })
      inFlight = write.then(() => {
        callback()
      }, callback)
    },
  })
  return { writable, settled: () => inFlight }
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
  let first = 0 // no part before this one is incomplete
  const contiguous = (): number => {
    while (parts[first] && isComplete(parts[first]!)) first++
    const p = parts[first] ?? parts.at(-1)!
    return p.start + p.done
  }
  const onWritten = (n: number): void => {
    hooks.onWritten(n, contiguous())
  }

  const streamOnce = async (part: Part): Promise<void> => {
    const from = part.start + part.done
    const range = parts.length === 1 && from === 0 ? undefined : { start: from, end: part.end }
    const stall = new AbortController()
    const both = AbortSignal.any([signal, stall.signal])
    const timer = setTimeout(() => {
      stall.abort(new Error(`no data for ${settings.stallTimeoutMs} ms (stalled connection)`))
    }, settings.stallTimeoutMs)
    const writer = partWriter(fh, part, timer, onWritten)
    try {
      await pipeline(await read(range, both), writer.writable, { signal: both })
    } finally {
      clearTimeout(timer)
      await writer.settled() // a write in flight lands before a retry resumes after it
    }
    if (part.end === undefined) {
      part.end = part.start + part.done // unknown size: the body's end is the file's end
      onWritten(0)
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
  const worker = async (): Promise<void> => {
    while (next < parts.length && !signal.aborted) await fetchPart(parts[next++]!)
  }
  let failure: { err: unknown } | undefined
  const workers = Array.from({ length: Math.min(settings.concurrency, parts.length) }, () =>
    worker().catch((err: unknown) => {
      failure ??= { err } // the first failure, not the other GETs' aborts
      stop.abort(err)
    })
  )
  await Promise.all(workers)
  if (failure) throw failure.err
  signal.throwIfAborted()
  return parts.reduce((sum, p) => sum + p.done, 0)
}
