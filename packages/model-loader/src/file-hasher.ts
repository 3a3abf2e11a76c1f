/**
 * Hashes a file while it is still being downloaded, in order. On the main thread, bytes written
 * right at the hashed prefix's end are hashed from memory as they are written (one GET streaming
 * in order never reads anything back); bytes written ahead of it (parallel GETs) are read back
 * from the page cache once the prefix reaches them, in 512 KiB steps between network callbacks.
 * A worker thread instead hashes the chunks it is lent where they are (direct-get's body buffers
 * are shared memory; each is held until the worker is done with it, at most 32 at once) and reads
 * back from the page cache whatever it was not lent. It costs ~16 MB of RSS and ~40 ms of CPU to
 * start, so it is used only for big files whose digests this CPU computes slower than 1 GiB/s
 * (e.g. MD5 + SHA-256, ~0.5 GiB/s; SHA-256 alone is ~1.7 GiB/s with SHA-NI and stays on the main
 * thread) on a machine with at least two cores.
 */
import { existsSync } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { DigestAlgorithm, Digests } from './checksums.js'
import { holdBodyBuffer, releaseBodyBuffer } from './direct-get.js'
import { Digester, WORKER_KIND } from './hash-worker.js'
import type {
  HashWorkerChunk,
  HashWorkerData,
  HashWorkerReply,
  HashWorkerRequest,
} from './hash-worker.js'

/** Feeds a hasher with how far the file is complete; `finish` waits for the digests. */
export interface FileHasher {
  /** `data` was just written at `at`: hashed now if it is next, else read back later. */
  offer(at: number, data: readonly Uint8Array[]): void
  /** The first `upTo` bytes of the file are written and final. */
  advance(upTo: number): void
  finish(size: number): Promise<Digests>
  /** Stops reading (on failure); safe to call more than once. */
  close(): Promise<void>
}

/** Files at least this big are hashed in a worker thread, if hashing them is slow. */
export const WORKER_MIN_BYTES: number = 64 * 1024 * 1024
/** Hashing slower than this (bytes/s, all digests together) goes to a worker thread. */
const WORKER_BELOW_BYTES_PER_S = 1024 * 1024 * 1024

const STEP = 512 * 1024
/** Most chunks lent to the worker at once (16 MiB of 512 KiB buffers): memory stays bounded. */
const MAX_LENT = 32
/** Hash while downloading only once this much more is ready (fewer, larger reads). */
const ADVANCE_EVERY = 4 * 1024 * 1024

/** Reads `file` in order up to a growing mark, one read at a time, feeding a Digester. */
class PrefixReader {
  readonly #file: string
  readonly #digester: Digester
  readonly #buf = Buffer.allocUnsafe(STEP)
  readonly #handle: Promise<FileHandle>
  #pos = 0
  #queued = 0
  #closed = false
  #chain: Promise<void> = Promise.resolve()

  constructor(file: string, digester: Digester) {
    this.#file = file
    this.#digester = digester
    this.#handle = open(file, 'r')
    this.#handle.catch(() => undefined) // observed by the read chain
  }

  /** Bytes hashed, or queued to be read and hashed. */
  get queued(): number {
    return Math.max(this.#pos, this.#queued)
  }

  /** Hashes `data` from memory if it starts where hashing stands and no read is queued. */
  offer(at: number, data: readonly Uint8Array[]): void {
    if (at !== this.#pos || this.#queued > this.#pos || this.#closed) return
    for (const chunk of data) {
      this.#digester.update(chunk)
      this.#pos += chunk.length
    }
  }

  /** Queues reading up to `upTo`; the returned promise is also awaited by later calls. */
  readUpTo(upTo: number): Promise<void> {
    this.#queued = Math.max(this.#queued, upTo)
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

function startInlineHasher(file: string, algorithms: readonly DigestAlgorithm[]): FileHasher {
  const digester = new Digester(algorithms)
  const reader = new PrefixReader(file, digester)
  return {
    offer(at, data) {
      reader.offer(at, data)
    },
    advance(upTo) {
      if (upTo - reader.queued < ADVANCE_EVERY) return
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

/** The worker's file next to this one: `.ts` when run from source (tests), `.js` once built. */
const here = fileURLToPath(import.meta.url)
const workerFile = path.join(path.dirname(here), `hash-worker${path.extname(here)}`)

function startWorkerHasher(file: string, algorithms: readonly DigestAlgorithm[]): FileHasher {
  const workerData: HashWorkerData = { kind: WORKER_KIND, file, algorithms }
  const worker = new Worker(workerFile, { workerData })
  const post = (request: HashWorkerRequest | HashWorkerChunk): void => {
    worker.postMessage(request)
  }
  const result = new Promise<Digests>((resolve, reject) => {
    worker.on('message', (reply: HashWorkerReply) => {
      if ('digests' in reply) resolve(reply.digests)
      else if ('error' in reply) reject(new Error(reply.error))
    })
    worker.on('error', reject)
    worker.on('exit', (code) => {
      reject(new Error(`the hashing worker stopped (exit code ${code})`))
    })
  })
  result.catch(() => undefined) // a failure surfaces in finish()
  let queued = 0
  let stopped: Promise<unknown> | undefined
  /** Chunks the worker may still be reading, by ack id: their buffers are held for it. */
  const lent = new Map<number, Uint8Array>()
  let nextAck = 0
  worker.on('message', (reply: HashWorkerReply) => {
    if (!('ack' in reply)) return
    const chunk = lent.get(reply.ack)
    lent.delete(reply.ack)
    if (chunk) releaseBodyBuffer(chunk)
  })
  const close = async (): Promise<void> => {
    stopped ??= worker.terminate()
    await stopped
  }
  return {
    offer(at, data) {
      // chunks in shared memory (direct-get's body buffers) are hashed where they are; anything
      // else, or more than MAX_LENT at once, the worker reads back from the file
      let pos = at
      for (const chunk of data) {
        const shared = chunk.buffer instanceof SharedArrayBuffer
        if (shared && lent.size < MAX_LENT && !stopped && holdBodyBuffer(chunk)) {
          const ack = nextAck++
          lent.set(ack, chunk)
          const { byteOffset: offset, length } = chunk
          post({ at: pos, buffer: chunk.buffer, offset, length, ack })
        }
        pos += chunk.length
      }
    },
    advance(upTo) {
      if (upTo - queued < ADVANCE_EVERY) return
      queued = upTo
      post({ upTo })
    },
    async finish(size) {
      try {
        post({ upTo: size, finish: true })
        return await result
      } finally {
        await close()
      }
    },
    close,
  }
}

const secondsPerByte = new Map<DigestAlgorithm, number>()

/** This CPU's speed (bytes/s) at computing all of `algorithms`, measured once per algorithm. */
export function hashBytesPerS(algorithms: readonly DigestAlgorithm[]): number {
  let seconds = 0
  for (const algorithm of algorithms) {
    let perByte = secondsPerByte.get(algorithm)
    if (perByte === undefined) {
      const sample = Buffer.alloc(256 * 1024, 0x5a)
      let best = Infinity
      for (let i = 0; i < 4; i++) {
        const t = performance.now()
        new Digester([algorithm]).update(sample)
        best = Math.min(best, performance.now() - t)
      }
      perByte = best / 1000 / sample.length
      secondsPerByte.set(algorithm, perByte)
    }
    seconds += perByte
  }
  return seconds > 0 ? 1 / seconds : Infinity
}

/**
 * Whether a file of `size` bytes is worth hashing in a worker thread: big, slow to hash, and a
 * second core. Measured on 2 cores, 500 MB from a local S3 server verified by MD5 + SHA-256: 0.99x
 * the speed of a plain GetObject with the worker, 0.84x without, 0.92x with only MD5 in the worker.
 */
export function wantsWorker(size: number, algorithms: readonly DigestAlgorithm[]): boolean {
  return (
    size >= WORKER_MIN_BYTES &&
    availableParallelism() >= 2 &&
    hashBytesPerS(algorithms) < WORKER_BELOW_BYTES_PER_S
  )
}

/** How to hash: `worker` forces the choice, else `size` decides ({@link wantsWorker}). */
export interface HasherOptions {
  readonly size?: number | undefined
  readonly worker?: boolean | undefined
}

/**
 * A hasher for `file` (which must exist): call `offer`/`advance` as bytes land, then `finish`.
 * A worker thread is used only if this module's worker file is next to it (not bundled away).
 */
export function startFileHasher(
  file: string,
  algorithms: readonly DigestAlgorithm[],
  options: HasherOptions = {}
): FileHasher {
  const worker = options.worker ?? wantsWorker(options.size ?? 0, algorithms)
  return worker && existsSync(workerFile)
    ? startWorkerHasher(file, algorithms)
    : startInlineHasher(file, algorithms)
}

/** Hashes a whole file, streaming (in a worker thread when it is big and hashing it is slow). */
export async function hashFile(
  file: string,
  algorithms: readonly DigestAlgorithm[]
): Promise<Digests> {
  const { size } = await stat(file)
  return startFileHasher(file, algorithms, { size }).finish(size)
}
