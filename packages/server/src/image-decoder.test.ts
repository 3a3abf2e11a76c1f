import { readFile } from 'node:fs/promises'
import { DEFAULT_DECODE_LIMITS, DEFAULT_MODEL_CONFIG, PreprocessError } from '@resnet/preprocess'
import { BAD_IMAGES_DIR, IMAGES_DIR } from '@resnet/test-support'
import { afterAll, describe, expect, it } from 'vitest'
import { inProcessDecoder, WorkerDecoder } from './image-decoder.js'
import { PixelArenas } from './pixel-arenas.js'

const input = DEFAULT_MODEL_CONFIG.input
const limits = DEFAULT_DECODE_LIMITS
const arenas = new PixelArenas()
const decoder = new WorkerDecoder({ arenas })
afterAll(() => decoder.close())

/** A fresh body of its own (transferable), as the server reads it. */
const body = async (file: string): Promise<Uint8Array> => {
  const bytes = await readFile(file)
  const own = new Uint8Array(new ArrayBuffer(bytes.length))
  own.set(bytes)
  return own
}

describe('WorkerDecoder', () => {
  it('decodes in the worker into shared slots, byte for byte what this thread decodes', async () => {
    const photo = await body(`${IMAGES_DIR}kimono.jpg`)
    const [expected] = await Promise.all(inProcessDecoder.decode([photo], input, limits))
    const [pixels] = await Promise.all(decoder.decode([photo], input, limits))
    expect(pixels!.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(arenas.arenaOf(pixels!)).toBeGreaterThanOrEqual(0)
    expect(Buffer.compare(Buffer.from(pixels!), Buffer.from(expected!))).toBe(0)
    expect(photo.byteLength).toBe(0) // the body was handed over, not copied
    // a run claims the slot once; it is then the run's to give back
    const slot = arenas.claim(pixels!)
    expect(slot).toBeDefined()
    expect(arenas.claim(pixels!)).toBeUndefined()
    arenas.release(slot!)
  })

  it('decodes several images that are views of one body (multipart), each into its own slot', async () => {
    const [a, b] = await Promise.all([
      body(`${IMAGES_DIR}kimono.jpg`),
      body(`${IMAGES_DIR}goldfish.jpg`),
    ])
    const whole = new Uint8Array(a.length + b.length)
    whole.set(a)
    whole.set(b, a.length)
    const views = [whole.subarray(0, a.length), whole.subarray(a.length)]
    const expected = await Promise.all(inProcessDecoder.decode(views, input, limits))
    const got = await Promise.all(decoder.decode(views, input, limits))
    expect(got[0]!.byteOffset).not.toBe(got[1]!.byteOffset)
    for (const [i, pixels] of got.entries()) {
      expect(Buffer.compare(Buffer.from(pixels), Buffer.from(expected[i]!))).toBe(0)
      arenas.release(arenas.claim(pixels)!)
    }
  })

  it('copies images of different buffers and leaves them intact', async () => {
    const photo = await body(`${IMAGES_DIR}kimono.jpg`)
    const other = await body(`${IMAGES_DIR}goldfish.jpg`)
    const got = await Promise.all(decoder.decode([photo, other], input, limits))
    expect(photo.byteLength).toBeGreaterThan(0)
    expect(other.byteLength).toBeGreaterThan(0)
    for (const pixels of got) arenas.release(arenas.claim(pixels)!)
  })

  it('fails bad images with the same typed error as this thread, and frees their slots', async () => {
    const before = arenas.inUse
    for (const name of ['sharp__corrupt-header.jpg', 'pillow__truncated_jpeg.jpg']) {
      const bytes = await body(`${BAD_IMAGES_DIR}${name}`)
      const copy = bytes.slice()
      const local = await Promise.all(inProcessDecoder.decode([copy], input, limits)).catch(
        (e: unknown) => e
      )
      const remote = await Promise.all(decoder.decode([bytes], input, limits)).catch(
        (e: unknown) => e
      )
      expect(local).toBeInstanceOf(PreprocessError)
      expect(remote).toBeInstanceOf(PreprocessError)
      expect((remote as PreprocessError).code).toBe((local as PreprocessError).code)
      expect((remote as Error).message).toBe((local as Error).message)
    }
    expect(arenas.inUse).toBe(before)
  })

  it('gives back the slots of discarded pixels', async () => {
    const before = arenas.inUse
    const [pixels] = await Promise.all(
      decoder.decode([await body(`${IMAGES_DIR}kimono.jpg`)], input, limits)
    )
    expect(arenas.inUse).toBe(before + 1)
    decoder.discard(pixels!)
    expect(arenas.inUse).toBe(before)
  })
})

describe('PixelArenas', () => {
  it('hands out slots, grows by whole arenas, tells subscribers of every arena once', () => {
    const own = new PixelArenas()
    const seen: number[] = []
    own.subscribe((m) => seen.push(m.arena))
    const views = Array.from({ length: 17 }, () => own.take(300))
    expect(new Set(views.map((v) => `${own.arenaOf(v)}:${v.byteOffset}`)).size).toBe(17)
    expect(seen).toEqual([0, 1])
    const late: number[] = []
    own.subscribe((m) => late.push(m.arena))
    expect(late).toEqual([0, 1]) // a worker started later learns the existing arenas first
    expect(own.inUse).toBe(17)
    for (const v of views) own.release(own.claim(v)!)
    expect(own.inUse).toBe(0)
    const slot = own.place(new Uint8Array(300).fill(7))
    expect(own.viewOf(slot).every((b) => b === 7)).toBe(true)
    expect(own.claim(new Uint8Array(300))).toBeUndefined() // not an arena view
  })
})
