/**
 * Shared memory for decoded images on their way to the inference worker. The decode worker (or
 * the event loop, for pixels decoded elsewhere) writes an image into a free slot and the inference
 * worker writes its tensor straight from there. Posting the pixels instead made every image a new
 * 150 KB buffer (at 224x224) in each thread it crossed, which at a few hundred images a second
 * keeps V8 collecting garbage, on the event loop too. Buffers are added as needed (the batcher
 * bounds the images in flight) and kept for the process's life.
 */

/** A slot: `bytes` bytes at `offset` of arena `arena`. */
export interface Slot {
  readonly arena: number
  readonly offset: number
  readonly bytes: number
}

/** An arena's buffer, sent to a worker once, before any slot of it is used there. */
export interface ArenaMessage {
  readonly type: 'arena'
  readonly arena: number
  readonly buffer: SharedArrayBuffer
}

/** Images per shared buffer: 16 x 150 KB at 224x224. */
const SLOTS_PER_ARENA = 16

/** Slots of shared pixel memory, handed out and given back by the event loop's thread. */
export class PixelArenas {
  /** The process's arenas: the decode worker and every inference worker share them. */
  static readonly shared: PixelArenas = new PixelArenas()

  readonly #free = new Map<number, Slot[]>()
  readonly #buffers: ArenaMessage[] = []
  readonly #arenaOf = new Map<SharedArrayBuffer, number>()
  readonly #listeners = new Set<(message: ArenaMessage) => void>()
  /** Views handed out by `take` and not claimed yet: their slot comes back if they are dropped. */
  readonly #unclaimed = new FinalizationRegistry<Slot>((slot) => {
    this.release(slot)
  })

  /** Calls `send` with every arena, now and as they are added; returns how to stop. */
  subscribe(send: (message: ArenaMessage) => void): () => void {
    for (const message of this.#buffers) send(message)
    this.#listeners.add(send)
    return () => this.#listeners.delete(send)
  }

  /**
   * A free slot of `bytes` as a view, owned by the caller: pass it to a run (which claims it) or
   * drop it; a dropped view's slot is given back after the garbage collector has seen it go.
   */
  take(bytes: number): Uint8Array {
    const slot = this.#takeSlot(bytes)
    const view = this.viewOf(slot)
    this.#unclaimed.register(view, slot, view)
    return view
  }

  /**
   * The slot behind a view from `take`, now owned by the caller (give it back with `release`);
   * undefined for any other array, or a view claimed before.
   */
  claim(view: Uint8Array): Slot | undefined {
    const arena = this.arenaOf(view)
    if (arena < 0 || !this.#unclaimed.unregister(view)) return undefined
    return { arena, offset: view.byteOffset, bytes: view.byteLength }
  }

  /** The arena a view of `take` is in (-1 for any other array). */
  arenaOf(view: Uint8Array): number {
    const buffer = view.buffer
    return buffer instanceof SharedArrayBuffer ? (this.#arenaOf.get(buffer) ?? -1) : -1
  }

  /** Copies `pixels` into a free slot, owned by the caller. */
  place(pixels: Uint8Array): Slot {
    const slot = this.#takeSlot(pixels.length)
    this.viewOf(slot).set(pixels)
    return slot
  }

  /** The memory of a slot. */
  viewOf(slot: Slot): Uint8Array {
    return new Uint8Array(this.#buffers[slot.arena]!.buffer, slot.offset, slot.bytes)
  }

  /** A slot is free again. */
  release(slot: Slot): void {
    this.#free.get(slot.bytes)?.push(slot)
  }

  /** Slots handed out and not given back (for tests and metrics). */
  get inUse(): number {
    let free = 0
    for (const slots of this.#free.values()) free += slots.length
    return this.#buffers.length * SLOTS_PER_ARENA - free
  }

  #takeSlot(bytes: number): Slot {
    if (!(Number.isSafeInteger(bytes) && bytes > 0)) throw new RangeError(`bad slot size ${bytes}`)
    let free = this.#free.get(bytes)
    if (!free) this.#free.set(bytes, (free = []))
    if (free.length === 0) {
      const arena = this.#buffers.length
      const message: ArenaMessage = {
        type: 'arena',
        arena,
        buffer: new SharedArrayBuffer(bytes * SLOTS_PER_ARENA),
      }
      this.#buffers.push(message)
      this.#arenaOf.set(message.buffer, arena)
      for (const send of this.#listeners) send(message) // before any message that refers to it
      for (let i = SLOTS_PER_ARENA - 1; i >= 0; i--) free.push({ arena, offset: i * bytes, bytes })
    }
    return free.pop()!
  }
}
