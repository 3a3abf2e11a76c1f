import { describe, expect, it } from 'vitest'
import { fromSharpError, PreprocessError, sharpResult } from './errors.js'

describe('fromSharpError', () => {
  it("maps libvips' pixel limit, its timeout and anything else to stable codes", () => {
    const limit = fromSharpError(new Error('Input image exceeds pixel limit'))
    expect(limit.code).toBe('IMAGE_TOO_LARGE')
    expect(limit.message).toMatch(/too many pixels/)
    expect(fromSharpError(new Error('timeout: 42% complete'))).toMatchObject({
      code: 'DECODE_TIMEOUT',
    })
    const corrupt = new Error('VipsJpeg: Premature end of input file\nmore detail')
    expect(fromSharpError(corrupt)).toMatchObject({
      code: 'UNDECODABLE_IMAGE',
      message: 'The image could not be decoded (VipsJpeg: Premature end of input file)',
      cause: corrupt,
    })
  })

  it('passes PreprocessErrors through unchanged', () => {
    const err = new PreprocessError('UNSUPPORTED_IMAGE', 'no')
    expect(fromSharpError(err)).toBe(err)
  })
})

describe('sharpResult', () => {
  it('resolves with the value, or rejects with the mapped error', async () => {
    await expect(sharpResult(Promise.resolve(1))).resolves.toBe(1)
    await expect(sharpResult(Promise.reject(new Error('bad')))).rejects.toBeInstanceOf(
      PreprocessError
    )
  })
})
