/** The parent side of the inference worker: promise-based runs with transferred buffers. */
import { Worker } from 'node:worker_threads'
import type { BatchTensor, InputSpec } from '@resnet/preprocess'
import type {
  DeclaredTensor,
  RunMessage,
  RunPixelsMessage,
  WorkerInit,
  WorkerReply,
} from './inference-worker.js'
import { PixelArenas } from './pixel-arenas.js'
import type { Slot } from './pixel-arenas.js'

type Ready = Extract<WorkerReply, { type: 'ready' }>

/** One run's output, and how long the worker spent writing its tensor from pixels. */
export interface SessionOutput {
  readonly data: Float32Array
  readonly dims: readonly number[]
  readonly tensorMs: number
}

/** A model's input or output as the session declares it. */
export type SessionInput = DeclaredTensor

interface Pending {
  resolve(value: SessionOutput): void
  reject(reason: Error): void
  /** Pixel slots the run reads, free again once it is answered. */
  readonly slots?: readonly Slot[] | undefined
}

// Run the compiled worker next to this file; under vitest the sources are .ts (type-stripped).
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './inference-worker.ts' : './inference-worker.js',
  import.meta.url
)

/** An onnxruntime session living in its own worker thread. */
export class WorkerSession {
  readonly inputNames: readonly string[]
  readonly outputNames: readonly string[]
  readonly inputs: readonly SessionInput[]
  readonly outputs: readonly SessionInput[]
  readonly #worker: Worker
  readonly #pending = new Map<number, Pending>()
  readonly #arenas: PixelArenas
  readonly #unsubscribe: () => void
  #nextId = 0
  #failure: Error | undefined

  private constructor(worker: Worker, ready: Ready) {
    this.#worker = worker
    this.inputNames = ready.inputNames
    this.outputNames = ready.outputNames
    this.inputs = ready.inputs
    this.outputs = ready.outputs
    this.#arenas = PixelArenas.shared
    this.#unsubscribe = this.#arenas.subscribe((message) => {
      worker.postMessage(message)
    })
    worker.on('message', (reply: WorkerReply) => {
      this.#settle(reply)
    })
    worker.on('error', (err: Error) => {
      this.#failAll(err)
    })
    worker.on('exit', (code) => {
      this.#failAll(new Error(`inference worker exited (${code})`))
    })
  }

  /** Starts a worker and opens the model in it; rejects if the model cannot be opened. */
  static async open(init: WorkerInit): Promise<WorkerSession> {
    const worker = new Worker(WORKER_URL, { workerData: init, name: 'inference' })
    let onMessage = (_reply: WorkerReply): void => undefined
    let onError = (_err: Error): void => undefined
    let onExit = (_code: number): void => undefined
    const ready = await new Promise<Ready>((resolve, reject) => {
      onMessage = (reply) => {
        if (reply.type === 'ready') resolve(reply)
        else reject(new Error(reply.type === 'fatal' ? reply.message : `unexpected ${reply.type}`))
      }
      onError = reject
      onExit = (code) => {
        reject(new Error(`inference worker exited (${code}) while opening`))
      }
      worker.on('message', onMessage).on('error', onError).on('exit', onExit)
    })
      .catch(async (err: unknown) => {
        await worker.terminate()
        throw err
      })
      .finally(() => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit)
      })
    return new WorkerSession(worker, ready)
  }

  /** Runs one batch; its data buffer is transferred to the worker (the caller must not reuse it). */
  run(batch: BatchTensor, inputName: string, outputName: string): Promise<SessionOutput> {
    if (this.#failure) return Promise.reject(this.#failure)
    const id = this.#nextId++
    const whole =
      batch.data.byteOffset === 0 && batch.data.byteLength === batch.data.buffer.byteLength
    const data = (whole ? batch.data : batch.data.slice()).buffer as ArrayBuffer
    const message: RunMessage = {
      type: 'run',
      id,
      inputName,
      outputName,
      dtype: batch.dtype,
      dims: batch.dims,
      data,
    }
    return this.#send(id, message, [data])
  }

  /**
   * Runs decoded images (HWC RGB at `input`'s size); the worker writes the batch tensor. Images in
   * slots of the shared pixel arenas (decoded there) are read in place; others are copied into
   * one. Either way the caller may drop its arrays. `batchSize` (at least the image count) pads
   * the tensor for a model with a fixed batch dimension.
   */
  runPixels(
    pixels: readonly Uint8Array[],
    input: InputSpec,
    names: { readonly input: string; readonly output: string },
    batchSize: number = pixels.length
  ): Promise<SessionOutput> {
    if (this.#failure) return Promise.reject(this.#failure)
    const bytes = pixels[0]?.length ?? 0
    if (pixels.some((p) => p.length !== bytes)) {
      return Promise.reject(new RangeError('the images of one run differ in size'))
    }
    const id = this.#nextId++
    const slots = pixels.map((p) => this.#arenas.claim(p) ?? this.#arenas.place(p))
    const message: RunPixelsMessage = {
      type: 'run-pixels',
      id,
      inputName: names.input,
      outputName: names.output,
      input,
      batchSize,
      bytes,
      slots: slots.map(({ arena, offset }) => ({ arena, offset })),
    }
    return this.#send(id, message, [], slots)
  }

  #send(
    id: number,
    message: RunMessage | RunPixelsMessage,
    transfer: ArrayBuffer[],
    slots?: Pending['slots']
  ): Promise<SessionOutput> {
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, slots })
      this.#worker.postMessage(message, transfer)
    })
  }

  /** Releases the session and ends the worker. */
  async close(): Promise<void> {
    this.#unsubscribe()
    const exited = new Promise((resolve) => this.#worker.once('exit', resolve))
    this.#worker.postMessage({ type: 'close' })
    await exited
  }

  #settle(reply: WorkerReply): void {
    if (reply.type !== 'result' && reply.type !== 'failed') return
    const pending = this.#pending.get(reply.id)
    this.#pending.delete(reply.id)
    for (const slot of pending?.slots ?? []) this.#arenas.release(slot)
    if (reply.type === 'result')
      pending?.resolve({
        data: new Float32Array(reply.data),
        dims: reply.dims,
        tensorMs: reply.tensorMs,
      })
    else pending?.reject(new Error(reply.message))
  }

  #failAll(err: Error): void {
    this.#failure ??= err
    for (const pending of this.#pending.values()) {
      for (const slot of pending.slots ?? []) this.#arenas.release(slot)
      pending.reject(err)
    }
    this.#pending.clear()
  }
}
