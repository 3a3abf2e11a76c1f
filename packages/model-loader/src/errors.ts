/** Errors thrown by @resnet/model-loader, each with a stable code to branch on. */

/**
 * Stable codes for everything this package throws; safe to branch on.
 * - `INVALID_MODEL_URI`, `MODEL_NOT_FOUND`, `INVALID_MODEL`: final, never retried.
 * - `DOWNLOAD_FAILED`, `INTEGRITY_MISMATCH`, `SOURCE_CHANGED`: retried, then thrown.
 * - `TIMEOUT`: the overall deadline passed (download or waiting for another process's lock).
 */
export type ModelLoaderErrorCode =
  | 'INVALID_MODEL_URI'
  | 'MODEL_NOT_FOUND'
  | 'DOWNLOAD_FAILED'
  | 'INTEGRITY_MISMATCH'
  | 'SOURCE_CHANGED'
  | 'TIMEOUT'
  | 'INVALID_MODEL'

/** The one error class of this package: `code` says what went wrong, `message` says where. */
export class ModelLoaderError extends Error {
  override readonly name = 'ModelLoaderError'
  readonly code: ModelLoaderErrorCode

  constructor(code: ModelLoaderErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}
