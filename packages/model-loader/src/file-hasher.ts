/**
 * Hashes a file while it is still being downloaded, in order, on the main thread: the file's
 * complete prefix is read back from the page cache in 1 MiB steps as it grows (parallel GETs
 * write out of order; hashing bytes from memory would only cover the first part's).
 */
import { createHash } from 'node:crypto'
import type { Hash } from 'node:crypto'
import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { crc32 } from 'node:zlib'
import type { DigestAlgorithm, Digests } from './checksums.js'

/** Feeds bytes, in order, to every wanted digest. */
export class Digester {
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

/** Feeds a hasher with how far the file is complete; `finish` waits for the digests. */
export interface FileHasher {
  /** The first `upTo` bytes of the file are written and final. */
  advance(upTo: number): void
  finish(size: number): Promise<Digests>
  /** Stops reading (on failure); safe to call more than once. */
  close(): Promise<void>
}

const STEP = 1024 * 1024

/** A hasher for `file` (which must exist): call `advance` as its prefix completes, then `finish`. */
export function startFileHasher(file: string, algorithms: readonly DigestAlgorithm[]): FileHasher {
  const digester = new Digester(algorithms)
  const handle: Promise<FileHandle> = open(file, 'r')
  handle.catch(() => undefined) // observed by the read chain
  const buf = Buffer.allocUnsafe(STEP)
  let pos = 0 // bytes hashed
  let queued = 0 // bytes queued to be read back
  let closed = false
  let chain: Promise<void> = Promise.resolve()
  const readUpTo = (upTo: number): Promise<void> => {
    queued = Math.max(queued, upTo)
    chain = chain.then(async () => {
      const fh = await handle
      while (pos < upTo && !closed) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(STEP, upTo - pos), pos)
        if (bytesRead === 0) throw new Error(`unexpected end of ${file} at byte ${pos}`)
        digester.update(buf.subarray(0, bytesRead))
        pos += bytesRead
      }
    })
    chain.catch(() => undefined) // a failure surfaces in finish(), not as unhandled
    return chain
  }
  const close = async (): Promise<void> => {
    closed = true
    await chain.catch(() => undefined)
    await (await handle.catch(() => undefined))?.close()
  }
  return {
    advance(upTo) {
      if (upTo - queued >= STEP) void readUpTo(upTo)
    },
    async finish(size) {
      try {
        await readUpTo(size)
        return digester.digests()
      } finally {
        await close()
      }
    },
    close,
  }
}
