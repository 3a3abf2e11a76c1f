/** Errors thrown by @resnet/preprocess, each with a stable code to branch on. */

/**
 * Stable codes for everything this package throws; safe to branch on.
 * - `UNSUPPORTED_IMAGE`: not a format we decode (decided from the bytes), e.g. SVG, PDF, HEIC.
 * - `UNDECODABLE_IMAGE`: an accepted format, but corrupt or truncated.
 * - `IMAGE_TOO_LARGE`: over `maxInputBytes` or `maxPixels` (checked before a full decode).
 * - `DECODE_TIMEOUT`: decoding and resizing took longer than `timeoutMs` (wall clock).
 * - `INVALID_MODEL_CONFIG`: the bundle's config.json is invalid.
 */
export type PreprocessErrorCode =
  | 'UNSUPPORTED_IMAGE'
  | 'UNDECODABLE_IMAGE'
  | 'IMAGE_TOO_LARGE'
  | 'DECODE_TIMEOUT'
  | 'INVALID_MODEL_CONFIG'

/** The one error class of this package: `code` says what went wrong, `message` says where. */
export class PreprocessError extends Error {
  override readonly name = 'PreprocessError'
  readonly code: PreprocessErrorCode

  constructor(code: PreprocessErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}

/**
 * Turns an error from sharp/libvips into a PreprocessError: its pixel limit -> IMAGE_TOO_LARGE,
 * its timeout -> DECODE_TIMEOUT, anything else -> UNDECODABLE_IMAGE (corrupt or truncated data).
 */
export function fromSharpError(err: unknown): PreprocessError {
  if (err instanceof PreprocessError) return err
  const detail = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''
  if (detail.includes('pixel limit')) {
    return new PreprocessError('IMAGE_TOO_LARGE', `The image has too many pixels (${detail})`, {
      cause: err,
    })
  }
  if (/^timeout\b/.test(detail)) {
    const msg = `Decoding the image was stopped by the timeoutMs limit (${detail})`
    return new PreprocessError('DECODE_TIMEOUT', msg, { cause: err })
  }
  const message = `The image could not be decoded (${detail || 'unknown error'})`
  return new PreprocessError('UNDECODABLE_IMAGE', message, { cause: err })
}

/** Awaits a sharp pipeline, turning its failures into PreprocessErrors ({@link fromSharpError}). */
export async function sharpResult<T>(work: Promise<T>): Promise<T> {
  try {
    return await work
  } catch (err) {
    throw fromSharpError(err)
  }
}
