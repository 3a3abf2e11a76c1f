/**
 * A Writable that writes what is piped into it at `start`, `start + n`, ... of an open file
 * (never closing it), gathering chunks into one `writev` of 512 KiB instead of one write per
 * 64 KiB socket chunk: ~20% less client CPU on a fast connection (fewer thread-pool round trips,
 * measured on loopback with the hand-written client this replaced; larger batches were slower).
 */
import type { FileHandle } from 'node:fs/promises'
import { Writable } from 'node:stream'

/** Callbacks of a writer. */
export interface WriterHooks {
  /** Bytes arrived (not yet written): the connection is alive. */
  onReceived(bytes: number): void
  /** `bytes` more are now in the file, after the ones before. */
  onWritten(bytes: number): void
}

/** Bytes gathered before one `writev`. */
const BATCH_BYTES = 512 * 1024

async function writeAllAt(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let pos = position
  let rest = buffers
  while (rest.length > 0) {
    const { bytesWritten } = await fh.writev(rest, pos)
    pos += bytesWritten
    let skip = bytesWritten
    // A short write (rare on regular files): continue after the bytes that made it.
    while (rest.length > 0 && skip >= rest[0]!.length) skip -= rest.shift()!.length
    if (skip > 0) rest = [rest[0]!.subarray(skip), ...rest.slice(1)]
  }
}

/**
 * Writes a body at `start` of `fh`, refusing bytes at or past `end` (a server that ignores a
 * Range must not overwrite other parts). Bytes count as written only once they are in the file,
 * so a retry resumes exactly after them.
 */
export class PartWriter extends Writable {
  readonly #fh: FileHandle
  readonly #end: number
  readonly #hooks: WriterHooks
  #pos: number
  #batch: Buffer[] = []
  #batchBytes = 0
  #inFlight: Promise<unknown> = Promise.resolve()

  constructor(fh: FileHandle, start: number, end: number | undefined, hooks: WriterHooks) {
    super({ highWaterMark: BATCH_BYTES })
    this.#fh = fh
    this.#pos = start
    this.#end = end ?? Infinity
    this.#hooks = hooks
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    const bytes = chunks.reduce((sum, c) => sum + c.chunk.length, 0)
    this.#hooks.onReceived(bytes)
    const gathered = this.#pos + this.#batchBytes + bytes
    if (gathered > this.#end) {
      callback(new Error(`the server sent more than the ${this.#end} bytes asked for`))
      return
    }
    for (const c of chunks) this.#batch.push(c.chunk)
    this.#batchBytes += bytes
    // the range's last byte is written at once: the part is complete without waiting for _final
    if (this.#batchBytes < BATCH_BYTES && gathered < this.#end) callback()
    else
      this.#flush().then(() => {
        callback()
      }, callback)
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
    this.#inFlight = flushed.catch(() => undefined)
    const done = (): void => {
      callback(error)
    }
    flushed.then(done, done)
  }

  /** Writes the gathered chunks; they count as written once they are in the file. */
  #flush(): Promise<void> {
    const buffers = this.#batch
    const bytes = this.#batchBytes
    this.#batch = []
    this.#batchBytes = 0
    if (bytes === 0) return Promise.resolve()
    const at = this.#pos
    const write = writeAllAt(this.#fh, buffers, at).then(() => {
      this.#pos = at + bytes
      this.#hooks.onWritten(bytes)
    })
    this.#inFlight = write.catch(() => undefined)
    return write
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (e?: Error | null) => void
  ): void {
    this._writev([{ chunk }], callback)
  }

  /** Resolves once no write is in flight (a failed pipeline may leave one running). */
  settled(): Promise<unknown> {
    return this.#inFlight
  }
}
