/**
 * Worker-thread entry that owns the onnxruntime session, so inference never blocks the HTTP
 * event loop (onnxruntime-node's `run` holds its calling thread for the whole run).
 * Self-contained on purpose: Node runs this file directly (also as .ts, by type stripping).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import { allocateBatch, tensorDims, writeImage } from '@resnet/preprocess'
import type { BatchTensor, InputSpec } from '@resnet/preprocess'
import ort from 'onnxruntime-node'
import type { ArenaMessage } from './pixel-arenas.js'

/** What the parent passes when it starts the worker. */
export interface WorkerInit {
  readonly modelPath: string
  /** The model's bytes when they differ from the file (a graph rewritten at load). */
  readonly modelBytes?: Uint8Array | undefined
  readonly threads: number
  /**
   * Nice value (0-19) for this thread and the threads onnxruntime starts, so the HTTP event loop
   * and image decoding win the CPU when inference saturates it. 0 leaves priorities alone.
   */
  readonly niceness: number
}

/** One inference request from the parent; `data` is transferred, not copied. */
export interface RunMessage {
  readonly type: 'run'
  readonly id: number
  readonly inputName: string
  readonly outputName: string
  readonly dtype: 'float32' | 'float16' | 'uint8'
  readonly dims: readonly number[]
  readonly data: ArrayBuffer
}

/**
 * Decoded images (HWC RGB at the input size, `bytes` each) waiting in slots of shared pixel
 * memory (see {@link ArenaMessage}), to be written into one batch tensor here: normalising stays
 * off the HTTP event loop, and neither thread allocates per image.
 */
export interface RunPixelsMessage {
  readonly type: 'run-pixels'
  readonly id: number
  readonly inputName: string
  readonly outputName: string
  readonly input: InputSpec
  /** Rows of the batch tensor: the images, padded up to a model's fixed batch size. */
  readonly batchSize: number
  readonly bytes: number
  /** Where each image is: an arena's id and the byte offset in it (see pixel-arenas.ts). */
  readonly slots: readonly { readonly arena: number; readonly offset: number }[]
}

/** A graph input or output as the session declares it (`non-tensor` for maps and sequences). */
export interface DeclaredTensor {
  readonly name: string
  readonly type: string
  readonly shape: readonly (number | string)[]
}

/** Messages from the worker to the parent. */
export type WorkerReply =
  | {
      readonly type: 'ready'
      readonly inputNames: readonly string[]
      readonly outputNames: readonly string[]
      readonly inputs: readonly DeclaredTensor[]
      readonly outputs: readonly DeclaredTensor[]
    }
  | {
      readonly type: 'result'
      readonly id: number
      readonly data: ArrayBuffer
      readonly dims: readonly number[]
      /** Milliseconds spent writing the tensor from pixels here (0 for a ready tensor). */
      readonly tensorMs: number
    }
  | { readonly type: 'failed'; readonly id: number; readonly message: string }
  | { readonly type: 'fatal'; readonly message: string }

// onnxruntime-node 1.30 wraps float16 data in the platform Float16Array when one exists (Node 24),
// which its native binding then reads as 0 bytes (microsoft/onnxruntime#32323). Creating the first
// float16 tensor without Float16Array makes it keep Uint16Array storage for the whole process.
const globals = globalThis as { Float16Array?: unknown }
const float16Array = globals.Float16Array
delete globals.Float16Array
new ort.Tensor('float16', new Uint16Array(1), [1])
globals.Float16Array = float16Array

const port = parentPort
if (!port) throw new Error('inference-worker must run in a worker thread')
const init = workerData as WorkerInit

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err))

const typed = (msg: RunMessage): Float32Array | Uint16Array | Uint8Array =>
  msg.dtype === 'float32'
    ? new Float32Array(msg.data)
    : msg.dtype === 'float16'
      ? new Uint16Array(msg.data)
      : new Uint8Array(msg.data)

/** Thread ids of this process (Linux), except Node's own pools; empty where /proc is missing. */
function threadIds(): Set<number> {
  try {
    const tids = readdirSync('/proc/self/task').map(Number)
    return new Set(tids.filter((tid) => !NODE_THREADS.has(threadName(tid))))
  } catch {
    return new Set()
  }
}

const NODE_THREADS = new Set(['libuv-worker', 'V8Worker', 'MainThread', 'SignalInspector'])

const threadName = (tid: number): string => {
  try {
    return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim()
  } catch {
    return ''
  }
}

/** Lowers the priority of one thread (Linux: setpriority on a thread id is per thread). */
function lower(tid: number, niceness: number): void {
  try {
    setPriority(tid, niceness)
  } catch {
    // not Linux, the thread is gone, or not permitted: priorities stay as they are
  }
}

/** This worker thread's id: sync fs calls run on the calling thread, so thread-self is ours. */
function ownThreadId(): number | undefined {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop())
  } catch {
    return undefined
  }
}

const arenas = new Map<number, Uint8Array>()

/**
 * Batch tensors not in use, by dtype and length: a fresh 4.8 MB float32 batch per run (ResNet
 * input, batch 8) costs zeroing it and, at ~20 batches a second, a full garbage collection of
 * this isolate several times a second. `writeImage` writes every element, so reuse is safe.
 */
const spareBatches = new Map<string, BatchTensor[]>()
const batchKey = (dtype: string, dims: readonly number[]): string => `${dtype}:${dims.join('x')}`

function takeBatch(input: InputSpec, n: number): BatchTensor {
  const key = batchKey(input.dtype, tensorDims(input, n))
  return spareBatches.get(key)?.pop() ?? allocateBatch(input, n)
}

function giveBackBatch(batch: BatchTensor): void {
  const key = batchKey(batch.dtype, batch.dims)
  const spare = spareBatches.get(key) ?? []
  if (spare.length < 2) spare.push(batch)
  spareBatches.set(key, spare)
}

function toTensor(msg: RunMessage | RunPixelsMessage): { tensor: ort.Tensor; batch?: BatchTensor } {
  if (msg.type === 'run') return { tensor: new ort.Tensor(msg.dtype, typed(msg), msg.dims) }
  const batch = takeBatch(msg.input, msg.batchSize) // padding rows keep stale data: ignored
  msg.slots.forEach((slot, i) => {
    const arena = arenas.get(slot.arena)
    if (!arena) throw new Error(`unknown pixel arena ${slot.arena}`)
    writeImage(arena.subarray(slot.offset, slot.offset + msg.bytes), msg.input, batch, i)
  })
  return { tensor: new ort.Tensor(batch.dtype, batch.data, batch.dims), batch }
}

/** A float32 copy of a float32 or float16 output (float16 arrives as half bits or a Float16Array). */
function scoresOf(out: ort.Tensor): Float32Array<ArrayBuffer> {
  if (out.type === 'float32') return (out.data as Float32Array).slice()
  if (out.type !== 'float16') throw new Error(`output is ${out.type}, not float32 or float16`)
  const data = out.data as Uint16Array | Float32Array
  if (!(data instanceof Uint16Array)) return Float32Array.from(data)
  if (typeof float16Array !== 'function') throw new Error('float16 outputs need Float16Array')
  return Float32Array.from(
    new (float16Array as Float16Ctor)(data.buffer, data.byteOffset, data.length)
  )
}

type Float16Ctor = new (
  buffer: ArrayBufferLike,
  offset: number,
  length: number
) => ArrayLike<number>

async function main(): Promise<void> {
  const before = threadIds()
  const own = ownThreadId()
  if (init.niceness > 0 && own !== undefined) lower(own, init.niceness)
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: init.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  }
  const session = init.modelBytes
    ? await ort.InferenceSession.create(init.modelBytes, sessionOptions)
    : await ort.InferenceSession.create(init.modelPath, sessionOptions)
  // the intra-op pool onnxruntime just started: every thread that did not exist before
  if (init.niceness > 0)
    for (const tid of threadIds()) if (!before.has(tid)) lower(tid, init.niceness)
  const declared = (m: ort.InferenceSession.ValueMetadata): DeclaredTensor => ({
    name: m.name,
    type: m.isTensor ? m.type : 'non-tensor',
    shape: m.isTensor ? m.shape : [],
  })
  const inputs = session.inputMetadata.map(declared)
  const outputs = session.outputMetadata.map(declared)
  port!.on('message', (msg: RunMessage | RunPixelsMessage | ArenaMessage | { type: 'close' }) => {
    if (msg.type === 'close') {
      void session.release().finally(() => process.exit(0))
      return
    }
    if (msg.type === 'arena') {
      arenas.set(msg.arena, new Uint8Array(msg.buffer))
      return
    }
    let input: { tensor: ort.Tensor; batch?: BatchTensor }
    const writeStarted = performance.now()
    let tensorMs = 0
    try {
      input = toTensor(msg)
      tensorMs = msg.type === 'run' ? 0 : performance.now() - writeStarted
    } catch (err) {
      port!.postMessage({ type: 'failed', id: msg.id, message: errorText(err) })
      return
    }
    session
      .run({ [msg.inputName]: input.tensor }, [msg.outputName])
      .finally(() => {
        if (input.batch) giveBackBatch(input.batch) // the run no longer reads it
      })
      .then(
        (outputs) => {
          const out = outputs[msg.outputName]
          if (!out) throw new Error(`no output "${msg.outputName}"`)
          const data = scoresOf(out) // own buffer, safe to transfer
          const reply = { type: 'result', id: msg.id, data: data.buffer, dims: out.dims, tensorMs }
          port!.postMessage(reply, [data.buffer])
        },
        (err: unknown) => {
          port!.postMessage({
            type: 'failed',
            id: msg.id,
            message: errorText(err),
          })
        }
      )
      .catch((err: unknown) => {
        port!.postMessage({
          type: 'failed',
          id: msg.id,
          message: errorText(err),
        })
      })
  })
  port!.postMessage({
    type: 'ready',
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputs,
    outputs,
  })
}

main().catch((err: unknown) => {
  port.postMessage({ type: 'fatal', message: errorText(err) })
})
