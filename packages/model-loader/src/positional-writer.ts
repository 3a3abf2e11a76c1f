/** A Writable that writes at an offset of an open file, batching chunks (writev) like fs streams. */
import type { FileHandle } from 'node:fs/promises'
import { Writable } from 'node:stream'

/** Called after bytes reach the file (not just the stream buffer). */
export type OnWritten = (bytes: number) => void

async function writeAllAt(fh: FileHandle, buffers: Buffer[], position: number): Promise<number> {
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
  return pos - position
}

/**
 * Writes everything piped into it at `start`, `start + n`, ... of `fh`, refusing to write at or
 * past `end` (a server that ignores a Range must not overwrite other parts); never closes `fh`.
 */
export class PositionalWriter extends Writable {
  readonly #fh: FileHandle
  readonly #onWritten: OnWritten
  readonly #end: number
  #pos: number
  #inFlight: Promise<unknown> = Promise.resolve()

  constructor(fh: FileHandle, start: number, end: number | undefined, onWritten: OnWritten) {
    super({ highWaterMark: 256 * 1024 })
    this.#fh = fh
    this.#pos = start
    this.#end = end ?? Infinity
    this.#onWritten = onWritten
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void
  ): void {
    const bytes = chunks.reduce((sum, c) => sum + c.chunk.length, 0)
    if (this.#pos + bytes > this.#end) {
      callback(new Error(`the server sent more than the ${this.#end} bytes asked for`))
      return
    }
    const write = writeAllAt(
      this.#fh,
      chunks.map((c) => c.chunk),
      this.#pos
    ).then((n) => {
      this.#pos += n
      this.#onWritten(n)
    })
    this.#inFlight = write.then(
      () => undefined,
      () => undefined // reported through the callback below
    )
    write.then(() => {
      callback()
    }, callback)
  }

  /**
   * Resolves once no write is in flight. A failed pipeline destroys this stream while a write may
   * still be running: wait for it before resuming at the written offset, or bytes count twice.
   */
  settled(): Promise<unknown> {
    return this.#inFlight
  }

  override _write(
    chunk: Buffer,
    encoding: BufferEncoding,
    callback: (error?: Error | null) => void
  ): void {
    this._writev([{ chunk, encoding }], callback)
  }
}
