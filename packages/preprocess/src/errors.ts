/** Errors thrown by @resnet/preprocess, each with a stable code to branch on. */

/** Stable codes for everything this package throws; safe to branch on. */
export type PreprocessErrorCode =
  'UNSUPPORTED_IMAGE' | 'UNDECODABLE_IMAGE' | 'IMAGE_TOO_LARGE' | 'INVALID_MODEL_CONFIG'

/** The one error class of this package: `code` says what went wrong, `message` says where. */
export class PreprocessError extends Error {
  override readonly name = 'PreprocessError'
  readonly code: PreprocessErrorCode

  constructor(code: PreprocessErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}
