/**
 * A Writable that writes what is piped into it at `start`, `start + n`, ... of an open file
 * (never closing it). While one write is in flight the stream buffers what arrives (up to 512 KiB)
 * and hands it over as one `writev`: on a fast connection one write per several socket chunks.
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

/** A part's writer and a promise that resolves once no write of it is in flight. */
export interface PartWriter {
  readonly writable: Writable
  settled(): Promise<unknown>
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
 * Range must not overwrite other parts). Bytes count as written only once they are in the file
 * (what was still buffered when the connection failed is fetched again), so a retry resumes
 * exactly after them.
 */
export function partWriter(
  fh: FileHandle,
  start: number,
  end: number | undefined,
  hooks: WriterHooks
): PartWriter {
  let pos = start
  let inFlight: Promise<unknown> = Promise.resolve()
  const writable = new Writable({
    highWaterMark: 512 * 1024,
    writev(chunks, callback) {
      const buffers = chunks.map((c) => c.chunk as Buffer)
      const bytes = buffers.reduce((sum, b) => sum + b.length, 0)
      hooks.onReceived(bytes)
      if (pos + bytes > (end ?? Infinity)) {
        callback(new Error(`the server sent more than the ${end} bytes asked for`))
        return
      }
      const write = writeAllAt(fh, buffers, pos).then(() => {
        pos += bytes
        hooks.onWritten(bytes)
      })
      inFlight = write.catch(() => undefined)
      write.then(() => {
        callback()
      }, callback)
    },
  })
  return { writable, settled: () => inFlight }
}
