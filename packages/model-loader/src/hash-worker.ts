/**
 * Digests of a file's bytes, and the worker thread that computes them for big files: it hashes the
 * chunks the main thread shares with it (body buffers in shared memory) where they are, and reads
 * back from the file (the page cache) whatever it was not given, as far as the main thread says it
 * is written, so MD5/SHA-256 run on another core while the download continues. Self-contained (only `node:` imports, type
 * imports erased) so that Node can start it from this file as it is, compiled or not.
 */
import { createHash } from 'node:crypto'
import type { Hash } from 'node:crypto'
import { closeSync, openSync, readSync } from 'node:fs'
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
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

/** What the worker is started with. */
export interface HashWorkerData {
  readonly kind: typeof WORKER_KIND
  readonly file: string
  readonly algorithms: readonly DigestAlgorithm[]
}
/** To the worker: the first `upTo` bytes are written; `finish`: that is all of them. */
export interface HashWorkerRequest {
  readonly upTo: number
  readonly finish?: boolean
}
/**
 * To the worker: bytes `at`..`at + length` of the file, in shared memory, to hash from there if
 * they are next (else they are read back later); answered with `{ ack }` once it is done with them.
 */
export interface HashWorkerChunk {
  readonly at: number
  readonly buffer: SharedArrayBuffer
  readonly offset: number
  readonly length: number
  readonly ack: number
}
/** From the worker: a chunk's memory is free again; the digests once finished, or why not. */
export type HashWorkerReply =
  { readonly ack: number } | { readonly digests: Digests } | { readonly error: string }

/** Marks our worker's `workerData`, so that importing this file elsewhere starts nothing. */
export const WORKER_KIND = '@resnet/model-loader:hash-worker'
const READ_BYTES = 1024 * 1024

function serve(port: MessagePort, data: HashWorkerData): void {
  const digester = new Digester(data.algorithms)
  const buf = Buffer.allocUnsafe(READ_BYTES)
  let fd: number | undefined
  let pos = 0
  let failed = false
  port.on('message', (msg: HashWorkerRequest | HashWorkerChunk) => {
    if ('buffer' in msg) {
      if (msg.at === pos && !failed) {
        digester.update(new Uint8Array(msg.buffer, msg.offset, msg.length))
        pos += msg.length
      }
      port.postMessage({ ack: msg.ack } satisfies HashWorkerReply)
      return
    }
    const { upTo, finish } = msg
    if (failed) return
    try {
      fd ??= openSync(data.file, 'r')
      while (pos < upTo) {
        const bytesRead = readSync(fd, buf, 0, Math.min(READ_BYTES, upTo - pos), pos)
        if (bytesRead === 0) throw new Error(`unexpected end of ${data.file} at byte ${pos}`)
        digester.update(buf.subarray(0, bytesRead))
        pos += bytesRead
      }
      if (finish) {
        closeSync(fd)
        port.postMessage({ digests: digester.digests() } satisfies HashWorkerReply)
      }
    } catch (err) {
      failed = true
      port.postMessage({ error: (err as Error).message } satisfies HashWorkerReply)
    }
  })
}

const data = workerData as Partial<HashWorkerData> | null
if (!isMainThread && parentPort && data?.kind === WORKER_KIND)
  serve(parentPort, data as HashWorkerData)
