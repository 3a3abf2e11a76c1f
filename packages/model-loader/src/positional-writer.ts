/**
 * A Writable that writes at an offset of an open file in batches of 512 KiB: one `writev` per
 * batch instead of one write per 64 KiB socket chunk, which saves ~20% of the client's CPU on a
 * fast connection (fewer thread-pool round trips). Larger batches were slower on loopback.
 */
import type { FileHandle } from 'node:fs/promises'
import { Writable } from 'node:stream'
import { releaseBodyBuffer } from './direct-get.js'

/** Bytes gathered before one `writev` is issued. */
export const WRITE_BATCH_BYTES: number = 512 * 1024

/** Where a writer may write: `[start, end())`; `end()` may shrink while it writes. */
export interface WriteWindow {
  /** Bytes at or past this are not written: the writer stops there and calls `onEnd`. */
  end(): number
  /** The end of the range asked for (undefined: unknown); a body going past it is an error. */
  readonly requestedEnd: number | undefined
}

/** Callbacks of a writer. */
export interface WriterHooks {
  /** Bytes arrived (not yet written): the connection is alive. */
  onReceived(bytes: number): void
  /**
   * `buffers` (`bytes` in all) reached the file at `at` (not just the stream buffer), in order.
   * They are valid during the call only: direct-get's buffers are reused once it returns.
   */
  onWritten(at: number, buffers: readonly Buffer[], bytes: number): void
  /** The window's end was reached after it shrank: whatever still arrives is not needed. */
  onEnd(): void
}

async function writeAllAt(
  fh: FileHandle,
  buffers: readonly Buffer[],
  position: number
): Promise<number> {
  let pos = position
  let rest = [...buffers] // `buffers` is reported as written afterwards: keep it whole
  while (rest.length > 0) {
    const { bytesWritten } = await fh.writev(rest, pos)
    pos += bytesWritten
    let skip = bytesWritten
    // A short write (rare on regular files): continue after the bytes that made it.
    while (rest.length > 0 && skip >= rest[0]!.length) skip -= rest.shift()!.length
    if (skip > 0) rest = [rest[0]!.subarray(skip), ...rest.slice(1)]
  }
  return pos - position
}

/**
 * Writes everything piped into it at `start`, `start + n`, ... of `fh` (never closing `fh`),
 * refusing bodies longer than the range asked for (a server that ignores a Range must not
 * overwrite other parts) and stopping at `window.end()`. Bytes gathered when the stream is
 * destroyed (a failed request) are still written: a resume starts after the last byte received.
 */
export class PositionalWriter extends Writable {
  readonly #fh: FileHandle
  readonly #window: WriteWindow
  readonly #hooks: WriterHooks
  /** Next offset to write at (bytes before it are written or being written). */
  #pos: number
  #batch: Buffer[] = []
  #batchBytes = 0
  #reachedEnd = false
  #inFlight: Promise<unknown> = Promise.resolve()

  constructor(fh: FileHandle, start: number, window: WriteWindow, hooks: WriterHooks) {
    super({ highWaterMark: WRITE_BATCH_BYTES })
    this.#fh = fh
    this.#pos = start
    this.#window = window
    this.#hooks = hooks
  }

  /** The offset after every byte accepted so far (written, being written or gathered). */
  get accepted(): number {
    return this.#pos + this.#batchBytes
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void
  ): void {
    const bytes = chunks.reduce((sum, c) => sum + c.chunk.length, 0)
    this.#hooks.onReceived(bytes)
    const requestedEnd = this.#window.requestedEnd ?? Infinity
    if (this.accepted + bytes > requestedEnd) {
      callback(new Error(`the server sent more than the ${requestedEnd} bytes asked for`))
      return
    }
    if (this.#reachedEnd) {
      callback() // past the end: the request is being cut
      return
    }
    const end = this.#window.end()
    const room = end - this.accepted
    let left = Math.max(0, room)
    for (const { chunk } of chunks) {
      if (left === 0) break
      const piece = chunk.length <= left ? chunk : chunk.subarray(0, left)
      this.#batch.push(piece)
      this.#batchBytes += piece.length
      left -= piece.length
    }
    this.#reachedEnd = end < requestedEnd && bytes >= room // shrunk: cut the request there
    if (this.#batchBytes < WRITE_BATCH_BYTES && !this.#reachedEnd) {
      callback() // gather more before writing
      return
    }
    this.#flush().then(() => {
      callback()
      if (this.#reachedEnd) this.#hooks.onEnd()
    }, callback)
  }

  override _write(
    chunk: Buffer,
    encoding: BufferEncoding,
    callback: (error?: Error | null) => void
  ): void {
    this._writev([{ chunk, encoding }], callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#flush().then(() => {
      callback()
    }, callback)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // bytes gathered before a failure (a cut connection, a stall) are good bytes of the range:
    // write them, so that the retry resumes after them
    const flushed = this.#inFlight.then(() => this.#flush())
    this.#inFlight = flushed.catch(() => undefined) // settled() waits for it too
    flushed.then(
      () => {
        callback(error)
      },
      () => {
        callback(error)
      }
    )
  }

  /** Writes the gathered batch (one write at a time); `#pos` moves once it is in the file. */
  #flush(): Promise<void> {
    const buffers = this.#batch
    if (buffers.length === 0) return Promise.resolve()
    this.#batch = []
    const at = this.#pos
    const write = writeAllAt(this.#fh, buffers, at).then((n) => {
      this.#pos = at + n
      this.#batchBytes -= n
      this.#hooks.onWritten(at, buffers, n)
      for (const b of buffers) releaseBodyBuffer(b) // reused for the next body bytes (direct-get.ts)
    })
    this.#inFlight = write.then(
      () => undefined,
      () => undefined // reported through the callback
    )
    return write
  }

  /**
   * Resolves once no write is in flight. A failed pipeline destroys this stream while a write may
   * still be running: wait for it before resuming at the written offset, or bytes count twice.
   */
  settled(): Promise<unknown> {
    return this.#inFlight
  }
}
