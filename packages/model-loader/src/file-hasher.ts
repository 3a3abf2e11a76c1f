/**
 * Hashes a file while it is still being downloaded: as the written prefix grows, it is read back
 * (from the page cache) in order, in 512 KiB steps between the network callbacks, so hashing
 * overlaps the download. No worker thread: an isolate would cost ~18 MB of RSS for no gain on a
 * machine whose cores are busy receiving, and each step blocks the event loop ~1 ms at most.
 */
import { createHash } from 'node:crypto'
import type { Hash } from 'node:crypto'
import { open, stat } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { crc32 } from 'node:zlib'
import type { DigestAlgorithm, Digests } from './checksums.js'

/** Feeds a hasher with how far the file is complete; `finish` waits for the digests. */
export interface FileHasher {
  /** The first `upTo` bytes of the file are written and final. */
  advance(upTo: number): void
  finish(size: number): Promise<Digests>
  /** Stops reading (on failure); safe to call more than once. */
  close(): Promise<void>
}

const STEP = 512 * 1024
/** Hash while downloading only once this much more is ready (fewer, larger reads). */
const ADVANCE_EVERY = 4 * 1024 * 1024

class Digester {
  readonly #hashes: [DigestAlgorithm, Hash][]
  readonly #crc: boolean
  #crcValue = 0

  constructor(algorithms: readonly DigestAlgorithm[]) {
    this.#hashes = algorithms.filter((a) => a !== 'crc32').map((a) => [a, createHash(a)])
    this.#crc = algorithms.includes('crc32')
  }

  update(data: Uint8Array): void {
    for (const [, h] of this.#hashes) h.update(data)
    if (this.#crc) this.#crcValue = crc32(data, this.#crcValue)
  }

  digests(): Digests {
    const out: Digests = Object.fromEntries(this.#hashes.map(([a, h]) => [a, h.digest('hex')]))
    if (this.#crc) out.crc32 = (this.#crcValue >>> 0).toString(16).padStart(8, '0')
    return out
  }
}

/** Reads `file` in order up to a growing mark, one read at a time, feeding a Digester. */
class PrefixReader {
  readonly #file: string
  readonly #digester: Digester
  readonly #buf = Buffer.allocUnsafe(STEP)
  readonly #handle: Promise<FileHandle>
  #pos = 0
  #closed = false
  #chain: Promise<void> = Promise.resolve()

  constructor(file: string, digester: Digester) {
    this.#file = file
    this.#digester = digester
    this.#handle = open(file, 'r')
    this.#handle.catch(() => undefined) // observed by the read chain
  }

  /** Queues reading up to `upTo`; the returned promise is also awaited by later calls. */
  readUpTo(upTo: number): Promise<void> {
    this.#chain = this.#chain.then(() => this.#read(upTo))
    this.#chain.catch(() => undefined) // a failure surfaces in finish(), not as unhandled
    return this.#chain
  }

  async #read(upTo: number): Promise<void> {
    const fh = await this.#handle
    while (this.#pos < upTo && !this.#closed) {
      const { bytesRead } = await fh.read(this.#buf, 0, Math.min(STEP, upTo - this.#pos), this.#pos)
      if (bytesRead === 0) throw new Error(`unexpected end of ${this.#file} at byte ${this.#pos}`)
      this.#digester.update(this.#buf.subarray(0, bytesRead))
      this.#pos += bytesRead
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#chain.catch(() => undefined) // reported by finish(), or moot after a failure
    await (await this.#handle.catch(() => undefined))?.close()
  }
}

/** A hasher for `file` (which must exist): call `advance` as bytes land, then `finish`. */
export function startFileHasher(file: string, algorithms: readonly DigestAlgorithm[]): FileHasher {
  const digester = new Digester(algorithms)
  const reader = new PrefixReader(file, digester)
  let queued = 0
  return {
    advance(upTo) {
      if (upTo - queued < ADVANCE_EVERY) return
      queued = upTo
      void reader.readUpTo(upTo)
    },
    async finish(size) {
      try {
        await reader.readUpTo(size)
        return digester.digests()
      } finally {
        await reader.close()
      }
    },
    close: () => reader.close(),
  }
}

/** Hashes a whole file, streaming. */
export async function hashFile(
  file: string,
  algorithms: readonly DigestAlgorithm[]
): Promise<Digests> {
  const { size } = await stat(file)
  return startFileHasher(file, algorithms).finish(size)
}
