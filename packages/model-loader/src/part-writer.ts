/**
 * A Writable that writes what is piped into it at `start`, `start + n`, ... of an open file
 * (never closing it). Chunks that arrive while a write is in flight are written together by the
 * next `writev`, so a fast body becomes few large writes without a copy.
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
  #inFlight: Promise<unknown> = Promise.resolve()

  constructor(fh: FileHandle, start: number, end: number | undefined, hooks: WriterHooks) {
    super({ highWaterMark: 256 * 1024 })
    this.#fh = fh
    this.#pos = start
    this.#end = end ?? Infinity
    this.#hooks = hooks
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk)
    const bytes = buffers.reduce((sum, b) => sum + b.length, 0)
    this.#hooks.onReceived(bytes)
    if (this.#pos + bytes > this.#end) {
      callback(new Error(`the server sent more than the ${this.#end} bytes asked for`))
      return
    }
    const at = this.#pos
    const write = writeAllAt(this.#fh, buffers, at).then(() => {
      this.#pos = at + bytes
      this.#hooks.onWritten(bytes)
    })
    this.#inFlight = write.catch(() => undefined)
    write.then(() => {
      callback()
    }, callback)
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
