import { randomBytes } from 'node:crypto'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { beforeEach, describe, expect, it } from 'vitest'
import { fetchParts, planParts } from './ranged-download.js'
import type { ByteRange, PartHooks, PartSettings, RangeReader } from './ranged-download.js'

const DATA = randomBytes(1_000_000)
const SETTINGS: PartSettings = {
  partSize: 128 * 1024,
  concurrency: 3,
  retries: 3,
  backoff: { baseMs: 1, maxMs: 5 },
  stallTimeoutMs: 5_000,
}
const noHooks = {
  onWritten: () => undefined,
  onRetry: () => undefined,
}
let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ranged-'))
  return () => rm(dir, { recursive: true, force: true })
})

type Fault = 'cut' | 'stall' | 'reset' | undefined

/**
 * Serves DATA in 16 KiB chunks (each after `delayMs`, if given); `fault` may cut a response
 * halfway, stall it, or reset it.
 */
function serve(
  fault?: (range: ByteRange | undefined, n: number) => Fault,
  delayMs = 0
): {
  read: RangeReader
  state: { ranges: string[]; inFlight: number; maxInFlight: number; sent: number }
} {
  const state = { ranges: [] as string[], inFlight: 0, maxInFlight: 0, sent: 0 }
  const read: RangeReader = (range) => {
    state.ranges.push(range ? `${range.start}-${range.end ?? ''}` : 'all')
    const kind = fault?.(range, state.ranges.length)
    const body = DATA.subarray(range?.start ?? 0, range?.end ?? DATA.length)
    state.inFlight++
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight)
    let at = 0
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    const next = (stream: Readable): void => {
      const chunk = body.subarray(at, (at += 16_384))
      state.sent += chunk.length
      stream.push(chunk)
    }
    return Promise.resolve(
      new Readable({
        read() {
          if (kind === 'reset' || (kind === 'cut' && at >= body.length / 2)) this.destroy(reset)
          else if (kind === 'stall' && at >= body.length / 2) return
          else if (at >= body.length) this.push(null)
          else if (delayMs > 0) {
            setTimeout(() => {
              if (!this.destroyed) next(this)
            }, delayMs)
          } else next(this)
        },
        destroy(err, callback) {
          state.inFlight--
          callback(err)
        },
      })
    )
  }
  return { read, state }
}

async function download(
  read: RangeReader,
  settings: PartSettings = SETTINGS,
  hooks: PartHooks = noHooks
): Promise<Buffer> {
  const file = path.join(dir, 'out')
  const fh = await open(file, 'w')
  try {
    expect(
      await fetchParts(fh, DATA.length, read, true, settings, hooks, AbortSignal.timeout(10_000))
    ).toBe(DATA.length)
  } finally {
    await fh.close()
  }
  return readFile(file)
}

describe('planParts', () => {
  it('uses parts of partSize, or equal ones when the last wave would be partial', () => {
    const sizes = (size: number, partSize: number, concurrency: number) =>
      planParts(size, true, { partSize, concurrency }).map((p) => (p.end ?? 0) - p.start)
    expect(sizes(100, 25, 2)).toEqual([25, 25, 25, 25]) // two full waves
    expect(sizes(100, 40, 5)).toEqual([40, 40, 20]) // one wave: as it is
    expect(sizes(120, 30, 3)).toEqual([20, 20, 20, 20, 20, 20]) // not 30, 30, 30 and 30 alone
    const MiB = 1024 * 1024 // 500 MB on 10 GETs of at most 16 MiB: 4 waves of 12.5 MiB parts
    expect(sizes(500 * MiB, 16 * MiB, 10)).toEqual(Array(40).fill(12.5 * MiB))
    expect(planParts(100, false, { partSize: 30, concurrency: 2 })).toHaveLength(1)
  })
})

describe('fetchParts', () => {
  it('fetches parts in parallel, never more than `concurrency` at once', async () => {
    const { read, state } = serve()
    expect((await download(read)).equals(DATA)).toBe(true)
    expect(state.ranges).toHaveLength(9) // 8 parts of 128 KiB: 3 full waves of 3 equal parts
    expect(state.maxInFlight).toBeLessThanOrEqual(3)
    expect(state.maxInFlight).toBeGreaterThan(1)
  })

  it('resumes a broken part from the byte where it stopped', async () => {
    const { read, state } = serve((range, n) => (n <= 2 && range?.start === 0 ? 'cut' : undefined))
    expect((await download(read)).equals(DATA)).toBe(true)
    const starts = planParts(DATA.length, true, SETTINGS).map((p) => p.start)
    expect(state.ranges.filter((r) => !starts.includes(Number(r.split('-')[0])))).not.toEqual([])
  })

  it('aborts a stalled request and retries it', async () => {
    const { read } = serve((_range, n) => (n === 1 ? 'stall' : undefined))
    expect((await download(read, { ...SETTINGS, stallTimeoutMs: 100 })).equals(DATA)).toBe(true)
  })

  it('gives up after `retries` tries without progress, and stops the other parts', async () => {
    const part = planParts(DATA.length, true, SETTINGS)[3]!
    const broken = part.start
    const { read, state } = serve((range) => (range?.start === broken ? 'reset' : undefined))
    await expect(download(read)).rejects.toMatchObject({
      code: 'DOWNLOAD_FAILED',
      message: `bytes ${broken}-${part.end! - 1} failed 4 times in a row: read ECONNRESET`,
    })
    expect(state.ranges.filter((r) => r.startsWith(`${broken}-`))).toHaveLength(4)
    expect(state.inFlight).toBe(0)
  })

  it('refuses a body longer than the range asked for (a server ignoring Range)', async () => {
    const read: RangeReader = () => Promise.resolve(Readable.from([DATA]))
    await expect(download(read)).rejects.toThrow(/more than the \d+ bytes asked for/)
  })
})
