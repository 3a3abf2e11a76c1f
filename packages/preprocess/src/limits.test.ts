import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { PreprocessError } from './errors.js'
import { checkBytes, DEFAULT_DECODE_LIMITS, withDeadline } from './limits.js'

const limits = { maxInputBytes: 100, maxPixels: 1000 }

describe('checkBytes', () => {
  it('returns the sniffed format of acceptable bytes', () => {
    expect(checkBytes(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0), limits)).toBe('jpeg')
  })

  it('refuses empty, oversized and unknown input with typed errors', () => {
    expect(() => checkBytes(new Uint8Array(), limits)).toThrow(
      expect.objectContaining({ code: 'UNDECODABLE_IMAGE' })
    )
    expect(() => checkBytes(new Uint8Array(101).fill(0xff), limits)).toThrow(
      'The image is 101 bytes; the limit is 100'
    )
    expect(() => checkBytes(Buffer.from('%PDF-1.7'), limits)).toThrow(
      /^PDF images are not supported; send JPEG, PNG, WebP, GIF, AVIF or TIFF$/
    )
    expect(() => checkBytes(Uint8Array.of(1, 2, 3), limits)).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_IMAGE' })
    )
  })
})

describe('withDeadline', () => {
  it('returns the result of work that finishes in time', async () => {
    await expect(withDeadline(1000, () => Promise.resolve(42))).resolves.toBe(42)
  })

  it('rejects with DECODE_TIMEOUT at the deadline, without waiting for the work', async () => {
    const started = performance.now()
    const slow = withDeadline(50, () => sleep(2000))
    await expect(slow).rejects.toThrow(PreprocessError)
    await expect(slow).rejects.toMatchObject({ code: 'DECODE_TIMEOUT' })
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('does not leave an unhandled rejection when abandoned work fails later', async () => {
    const unhandled: unknown[] = []
    const listener = (reason: unknown): void => {
      unhandled.push(reason)
    }
    process.on('unhandledRejection', listener)
    try {
      const late = withDeadline(10, () => sleep(50).then(() => Promise.reject(new Error('late'))))
      await expect(late).rejects.toMatchObject({ code: 'DECODE_TIMEOUT' })
      await sleep(100)
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', listener)
    }
  })

  it("gives sharp whole seconds, rounded up and never 0 (which would mean 'no timeout')", async () => {
    const seconds = await withDeadline(1500, (d) => Promise.resolve(d.sharpSeconds()))
    expect(seconds).toBe(2)
    expect(await withDeadline(1, (d) => Promise.resolve(d.sharpSeconds()))).toBe(1)
    expect(await withDeadline(1e12, (d) => Promise.resolve(d.sharpSeconds()))).toBe(3600)
    expect(DEFAULT_DECODE_LIMITS.timeoutMs).toBe(10_000)
  })

  it('refuses a deadline that is not a positive number', async () => {
    await expect(withDeadline(0, () => Promise.resolve(1))).rejects.toThrow(RangeError)
    await expect(withDeadline(Number.NaN, () => Promise.resolve(1))).rejects.toThrow(RangeError)
  })
})
