/** The one place where errors become HTTP responses: `{ "error": { "code", "message" } }`. */
import { PreprocessError } from '@resnet/preprocess'
import type { PreprocessErrorCode } from '@resnet/preprocess'
import type { Context, ErrorHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Logger } from 'pino'

/** Codes the server itself raises. */
export type ApiErrorCode =
  | 'BAD_REQUEST'
  | 'MISSING_IMAGE'
  | 'TOO_MANY_IMAGES'
  | 'TOO_MANY_INSTANCES'
  | 'INVALID_TOP_K'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'INVALID_TENSOR'
  | 'INVALID_INSTANCES'
  | 'NOT_READY'
  | 'OVERLOADED'
  | 'INTERNAL'

/** An error with a stable code meant for the client; its status comes from {@link STATUS}. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  readonly code: ApiErrorCode
  /** Seconds a client should wait before retrying (503s). */
  readonly retryAfter: number | undefined
  /** Every problem of the request, when there can be several (`error.problems` in the body). */
  readonly problems: readonly object[] | undefined

  constructor(
    code: ApiErrorCode,
    message: string,
    retryAfter?: number,
    problems?: readonly object[]
  ) {
    super(message)
    this.code = code
    this.retryAfter = retryAfter
    this.problems = problems
  }
}

/** HTTP status for every code a response can carry. */
export const STATUS: Record<ApiErrorCode | PreprocessErrorCode, ContentfulStatusCode> = {
  BAD_REQUEST: 400,
  MISSING_IMAGE: 400,
  INVALID_TOP_K: 400,
  TOO_MANY_IMAGES: 413,
  TOO_MANY_INSTANCES: 413,
  PAYLOAD_TOO_LARGE: 413,
  IMAGE_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNSUPPORTED_IMAGE: 415,
  UNDECODABLE_IMAGE: 422,
  NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  INVALID_TENSOR: 400,
  INVALID_INSTANCES: 400,
  NOT_READY: 503,
  // the per-image deadline counts the wait for a decoder thread: under load it is an overload
  DECODE_TIMEOUT: 503,
  OVERLOADED: 503,
  INVALID_MODEL_CONFIG: 500,
  INTERNAL: 500,
}

/** Writes the error JSON, with Retry-After when the client should come back later. */
export function errorResponse(
  c: Context,
  code: ApiErrorCode | PreprocessErrorCode,
  message: string,
  retryAfter?: number,
  problems?: readonly object[]
): Response {
  if (retryAfter !== undefined) c.header('Retry-After', String(retryAfter))
  const error = problems === undefined ? { code, message } : { code, message, problems }
  return c.json({ error }, STATUS[code])
}

/** Maps thrown errors to responses: 4xx logged at info, 5xx at error with the stack. */
export function errorHandler(logger: Logger): ErrorHandler {
  return (err, c) => {
    const requestId = c.get('requestId') as string | undefined
    if (err instanceof ApiError || err instanceof PreprocessError) {
      const status = STATUS[err.code]
      // 503s (overload, loading) are expected under load: warn, not error
      const level = status === 503 ? 'warn' : status >= 500 ? 'error' : 'info'
      logger[level]({ requestId, code: err.code, status }, err.message)
      const retryAfter = err instanceof ApiError ? err.retryAfter : status === 503 ? 1 : undefined
      const problems = err instanceof ApiError ? err.problems : undefined
      return errorResponse(c, err.code, err.message, retryAfter, problems)
    }
    if (err instanceof HTTPException && err.status < 500) {
      logger.info({ requestId, status: err.status }, err.message)
      return c.json({ error: { code: 'BAD_REQUEST', message: err.message } }, err.status)
    }
    logger.error({ requestId, err }, 'unhandled error')
    return errorResponse(c, 'INTERNAL', 'Internal server error')
  }
}
