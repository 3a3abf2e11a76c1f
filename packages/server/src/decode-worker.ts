/**
 * Worker-thread entry that decodes uploads with sharp straight into slots of the shared pixel
 * arenas, where the inference worker reads them. The event loop then never holds an image's
 * pixels nor runs sharp's per-call JavaScript, and the garbage both make is collected here, not
 * between its HTTP callbacks. sharp's work itself runs on libuv's pool, as before.
 * Self-contained on purpose: Node runs this file directly (also as .ts, by type stripping).
 */
import { setPriority } from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import { decodeImage, PreprocessError } from '@resnet/preprocess'
import type { DecodeLimits, InputSpec } from '@resnet/preprocess'
import sharp from 'sharp'
import type { ArenaMessage } from './pixel-arenas.js'

/** Images of one request: `body` holds them all, each at `offset` for `length` bytes. */
export interface DecodeRequest {
  readonly type: 'decode'
  readonly id: number
  readonly body: ArrayBuffer
  readonly images: readonly {
    readonly offset: number
    readonly length: number
    /** Where its pixels go: an arena's id and the byte offset in it. */
    readonly arena: number
    readonly at: number
  }[]
  /** The id of a {@link DecodeSettings} message sent before. */
  readonly settings: number
}

/** A model input and decode limits, sent once and then referred to by id (cheaper per request). */
export interface DecodeSettings {
  readonly type: 'settings'
  readonly settings: number
  readonly input: InputSpec
  readonly limits: DecodeLimits
}

/** One reply per image of a request, in any order. */
export type DecodeReply =
  | { readonly type: 'decoded'; readonly id: number; readonly index: number }
  | {
      readonly type: 'failed'
      readonly id: number
      readonly index: number
      /** A PreprocessError's code; absent for any other failure. */
      readonly code?: string
      readonly message: string
    }

/** What the parent passes when it starts the worker. */
export interface DecodeWorkerInit {
  /** Nice value for this thread (Linux; 0 leaves it alone), as for libuv's decoding threads. */
  readonly niceness: number
}

const port = parentPort
if (!port) throw new Error('decode-worker must run in a worker thread')
const init = workerData as DecodeWorkerInit
if (init.niceness > 0) {
  try {
    setPriority(0, init.niceness) // 0: the calling thread (Linux: priorities are per thread)
  } catch {
    // not permitted or not Linux: the priority stays as it is
  }
}

// libvips' operation cache (process-wide) never hits for uploads, each a new buffer, but would
// keep up to 100 recent operations, with their inputs, alive
sharp.cache(false)

const arenas = new Map<number, Uint8Array>()
const settings = new Map<number, DecodeSettings>()

function decode(request: DecodeRequest, index: number): void {
  const image = request.images[index]!
  const bytes = new Uint8Array(request.body, image.offset, image.length)
  const { input, limits } = settings.get(request.settings)!
  decodeImage(bytes, input, limits)
    .then(
      (decoded) => {
        const arena = arenas.get(image.arena)
        if (!arena) throw new Error(`unknown pixel arena ${image.arena}`)
        arena.set(decoded.data, image.at)
        port!.postMessage({ type: 'decoded', id: request.id, index } satisfies DecodeReply)
      },
      (err: unknown) => {
        const reply: DecodeReply =
          err instanceof PreprocessError
            ? { type: 'failed', id: request.id, index, code: err.code, message: err.message }
            : { type: 'failed', id: request.id, index, message: (err as Error).message }
        port!.postMessage(reply)
      }
    )
    .catch((err: unknown) => {
      const message = (err as Error).message
      port!.postMessage({ type: 'failed', id: request.id, index, message } satisfies DecodeReply)
    })
}

port.on('message', (msg: DecodeRequest | DecodeSettings | ArenaMessage) => {
  if (msg.type === 'arena') {
    arenas.set(msg.arena, new Uint8Array(msg.buffer))
    return
  }
  if (msg.type === 'settings') {
    settings.set(msg.settings, msg)
    return
  }
  for (let i = 0; i < msg.images.length; i++) decode(msg, i)
})
