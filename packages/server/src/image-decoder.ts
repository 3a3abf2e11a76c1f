/**
 * Uploads -> pixels at the model's input size, in this thread or in a decode worker thread.
 * Either way sharp's work runs on libuv's pool; the worker keeps the rest off the event loop.
 */
import { Worker } from 'node:worker_threads'
import { decodeImage, PreprocessError } from '@resnet/preprocess'
import type { DecodeLimits, InputSpec, PreprocessErrorCode } from '@resnet/preprocess'
import type {
  DecodeReply,
  DecodeRequest,
  DecodeSettings,
  DecodeWorkerInit,
} from './decode-worker.js'
import { PixelArenas } from './pixel-arenas.js'
import { DEFAULT_DECODE_NICENESS } from './thread-priority.js'

/** Decodes the images of one request; one promise per image, in order. */
export interface ImageDecoder {
  /**
   * `images` may be views of one request body, which the decoder may take over (transfer): the
   * caller must not read them afterwards.
   */
  decode(
    images: readonly Uint8Array[],
    input: InputSpec,
    limits: DecodeLimits
  ): Promise<Uint8Array>[]
  /** Pixels from `decode` that will not be run (another image of the request failed). */
  discard(pixels: Uint8Array): void
  /** Stops its threads, if any. */
  close(): Promise<void>
}

/** Decodes on this thread's event loop (sharp still works on libuv's pool). */
export const inProcessDecoder: ImageDecoder = {
  decode: (images, input, limits) =>
    images.map((bytes) => decodeImage(bytes, input, limits).then((d) => d.data)),
  discard: () => undefined,
  close: () => Promise.resolve(),
}

interface Pending {
  readonly resolve: (pixels: Uint8Array) => void
  readonly reject: (err: Error) => void
  readonly pixels: Uint8Array
}

// Run the compiled worker next to this file; under vitest the sources are .ts (type-stripped).
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './decode-worker.ts' : './decode-worker.js',
  import.meta.url
)

/** The body the images are views of, if it can be handed to the worker whole (transferred). */
function wholeBody(images: readonly Uint8Array[]): ArrayBuffer | undefined {
  const buffer = images[0]?.buffer
  if (!(buffer instanceof ArrayBuffer) || images.some((i) => i.buffer !== buffer)) return undefined
  return buffer
}

const failure = (reply: Extract<DecodeReply, { type: 'failed' }>): Error =>
  reply.code === undefined
    ? new Error(reply.message)
    : new PreprocessError(reply.code as PreprocessErrorCode, reply.message)

/**
 * Decodes in one worker thread, straight into slots of the shared pixel arenas: the event loop
 * hands over the request body (transferred, not copied) and gets back arrays the inference worker
 * reads in place. A worker that dies fails what it had and is started again on the next request.
 */
export class WorkerDecoder implements ImageDecoder {
  readonly #arenas: PixelArenas
  readonly #pending = new Map<string, Pending>()
  #worker: Worker | undefined
  #unsubscribe: (() => void) | undefined
  #nextId = 0
  /** Settings ids known to the current worker, by object identity (a new worker starts afresh). */
  #settings = new WeakMap<InputSpec, WeakMap<DecodeLimits, number>>()
  #nextSettings = 0

  readonly #init: DecodeWorkerInit

  /** `niceness`: the worker thread's nice value (Linux), like libuv's decoding threads. */
  constructor(options: { niceness?: number; arenas?: PixelArenas } = {}) {
    this.#arenas = options.arenas ?? PixelArenas.shared
    this.#init = { niceness: options.niceness ?? DEFAULT_DECODE_NICENESS }
  }

  decode(
    images: readonly Uint8Array[],
    input: InputSpec,
    limits: DecodeLimits
  ): Promise<Uint8Array>[] {
    const worker = this.#started()
    const id = this.#nextId++
    const outputs = images.map(() => this.#arenas.take(input.width * input.height * 3))
    const promises = outputs.map(
      (pixels, index) =>
        new Promise<Uint8Array>((resolve, reject) => {
          this.#pending.set(`${id}:${index}`, { resolve, reject, pixels })
        })
    )
    const settings = this.#settingsId(worker, input, limits)
    const message = (body: ArrayBuffer, offsets: readonly number[]): DecodeRequest => ({
      type: 'decode',
      id,
      body,
      settings,
      images: images.map((image, i) => ({
        offset: offsets[i]!,
        length: image.byteLength,
        arena: this.#arenas.arenaOf(outputs[i]!),
        at: outputs[i]!.byteOffset,
      })),
    })
    const body = wholeBody(images)
    if (body) {
      try {
        const offsets = images.map((image) => image.byteOffset)
        worker.postMessage(message(body, offsets), [body]) // the body moves: no copy
        return promises
      } catch {
        // not transferable (e.g. part of Node's shared Buffer pool): copied below instead
      }
    }
    const packed = new Uint8Array(images.reduce((n, image) => n + image.byteLength, 0))
    let at = 0
    const offsets = images.map((image) => {
      packed.set(image, at)
      at += image.byteLength
      return at - image.byteLength
    })
    worker.postMessage(message(packed.buffer, offsets), [packed.buffer])
    return promises
  }

  /** The id of `input` + `limits` in `worker`, sent to it the first time they are used. */
  #settingsId(worker: Worker, input: InputSpec, limits: DecodeLimits): number {
    const byLimits = this.#settings.get(input) ?? new WeakMap<DecodeLimits, number>()
    this.#settings.set(input, byLimits)
    let id = byLimits.get(limits)
    if (id === undefined) {
      id = this.#nextSettings++
      byLimits.set(limits, id)
      worker.postMessage({ type: 'settings', settings: id, input, limits } satisfies DecodeSettings)
    }
    return id
  }

  discard(pixels: Uint8Array): void {
    const slot = this.#arenas.claim(pixels)
    if (slot) this.#arenas.release(slot)
  }

  async close(): Promise<void> {
    const worker = this.#worker
    this.#worker = undefined
    this.#unsubscribe?.()
    await worker?.terminate()
  }

  #started(): Worker {
    if (this.#worker) return this.#worker
    // a small heap: its garbage is short-lived (sharp's objects; pixels and bodies are outside the
    // heap), and an uncapped heap grew the process's RSS by ~25% over 16,000 requests
    const resourceLimits = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 }
    const worker = new Worker(WORKER_URL, {
      workerData: this.#init,
      resourceLimits,
      name: 'decode',
    })
    worker.unref() // idle, it does not keep the process alive
    worker.on('message', (reply: DecodeReply) => {
      this.#settle(reply)
    })
    const fail = (err: Error): void => {
      if (this.#worker !== worker) return
      this.#worker = undefined
      this.#unsubscribe?.()
      for (const pending of this.#pending.values()) {
        this.discard(pending.pixels)
        pending.reject(err)
      }
      this.#pending.clear()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => {
      fail(new Error(`the decode worker exited (${code})`))
    })
    this.#unsubscribe = this.#arenas.subscribe((message) => {
      worker.postMessage(message)
    })
    this.#settings = new WeakMap()
    this.#worker = worker
    return worker
  }

  #settle(reply: DecodeReply): void {
    const key = `${reply.id}:${reply.index}`
    const pending = this.#pending.get(key)
    if (!pending) return
    this.#pending.delete(key)
    if (reply.type === 'decoded') {
      pending.resolve(pending.pixels)
      return
    }
    this.discard(pending.pixels) // nobody will read it
    pending.reject(failure(reply))
  }
}
