import { describe, expect, it } from 'vitest'
import { ModelLoaderError } from './errors.js'
import { backoffMs, isTransient } from './retry.js'

const withStatus = (status: number, name = 'Error'): Error =>
  Object.assign(new Error(`HTTP ${status}`), { name, $metadata: { httpStatusCode: status } })

describe('isTransient', () => {
  it('retries throttling, 5xx, timeouts and dropped connections', () => {
    for (const err of [
      withStatus(503, 'SlowDown'),
      withStatus(500, 'InternalError'),
      withStatus(429),
      withStatus(408),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      new Error('socket hang up'),
      new ModelLoaderError('DOWNLOAD_FAILED', 'body ended at byte 10 of bytes 0-99'),
      new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'EPIPE' }) }),
    ]) {
      expect(isTransient(err), String(err)).toBe(true)
    }
  })

  it('does not retry other 4xx, integrity, version or format errors', () => {
    for (const err of [
      withStatus(403, 'AccessDenied'),
      withStatus(404, 'NoSuchKey'),
      new ModelLoaderError('INTEGRITY_MISMATCH', 'x'),
      new ModelLoaderError('SOURCE_CHANGED', 'x'),
      new ModelLoaderError('DOWNLOAD_FAILED', 'GET answered 403', { cause: withStatus(403) }),
      Object.assign(new Error('no space left'), { code: 'ENOSPC' }),
    ]) {
      expect(isTransient(err), String(err)).toBe(false)
    }
  })
})

describe('backoffMs', () => {
  it('doubles from the base up to the cap, with jitter between half and all of it', () => {
    const options = { baseMs: 100, maxMs: 1000 }
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, options, () => 1))).toEqual([
      100, 200, 400, 800, 1000,
    ])
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, options, () => 0))).toEqual([
      50, 100, 200, 400, 500,
    ])
  })
})
