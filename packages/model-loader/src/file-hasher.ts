/** Hashes a file while it downloads, reading its complete prefix back (see README, Integrity). */
import { createHash } from 'node:crypto'
import { open, stat } from 'node:fs/promises'
import { crc32 } from 'node:zlib'
import type { DigestAlgorithm, Digests } from './checksums.js'

/** What bytes are fed to: a node:crypto Hash, or S3's CRC32 (big-endian hex). */
interface Digest {
  update(data: Uint8Array): unknown
  digest(encoding: 'hex'): string
}

function crc32Digest(): Digest {
  let value = 0
  return {
    update(data) {
      value = crc32(data, value)
    },
    digest: () => (value >>> 0).toString(16).padStart(8, '0'),
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
  const digests = algorithms.map((a) => [a, a === 'crc32' ? crc32Digest() : createHash(a)] as const)
  const handle = open(file, 'r')
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
        for (const [, d] of digests) d.update(buf.subarray(0, bytesRead))
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
        return Object.fromEntries(digests.map(([a, d]) => [a, d.digest('hex')]))
      } finally {
        await close()
      }
    },
    close,
  }
}

const known = new Map<string, { key: string; sha256: string }>()

/** A file's sha256, remembered while its size and mtime stay (polls of an unchanged file). */
export async function sha256File(file: string): Promise<string> {
  const { size, mtimeMs } = await stat(file)
  const key = `${size}:${mtimeMs}`
  if (known.get(file)?.key !== key) {
    const { sha256 = '' } = await startFileHasher(file, ['sha256']).finish(size)
    known.set(file, { key, sha256 })
  }
  return known.get(file)?.sha256 ?? ''
}
