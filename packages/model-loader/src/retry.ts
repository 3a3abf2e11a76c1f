/** Which failures are worth another try, and how long to wait before it (backoff with jitter). */
import { ModelLoaderError } from './errors.js'

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])
/** Messages of a connection dropped mid-request (Node's http, undici's fetch). */
const DROPPED = /socket hang up|aborted|premature close|other side closed|terminated/i

interface ErrorShape {
  readonly name?: string
  readonly code?: string
  readonly message?: string
  readonly cause?: unknown
  readonly $metadata?: { readonly httpStatusCode?: number }
  readonly $retryable?: unknown
}

/** The HTTP status of an SDK or fetch error, if it has one. */
export function httpStatusOf(err: unknown): number | undefined {
  return (err as ErrorShape | undefined)?.$metadata?.httpStatusCode
}

/**
 * True for throttling (429, SlowDown), 5xx, request timeouts, dropped connections and short
 * bodies; false for other 4xx, integrity and version errors (the caller decides on those).
 */
export function isTransient(err: unknown, depth = 0): boolean {
  if (err instanceof ModelLoaderError) {
    // DOWNLOAD_FAILED with an HTTP status as cause: that status decides; without: a short body
    const cause = err.cause
    return err.code === 'DOWNLOAD_FAILED' && (cause === undefined || isTransient(cause, depth + 1))
  }
  const e = (err ?? {}) as ErrorShape
  const status = httpStatusOf(err)
  if (status !== undefined) return status >= 500 || status === 429 || status === 408
  // service errors (SlowDown, InternalError, ...) carry their status; the SDK's socket timeouts not
  if (e.$retryable !== undefined || e.name === 'TimeoutError') return true
  if ((e.code && NETWORK_CODES.has(e.code)) || DROPPED.test(e.message ?? '')) return true
  return depth < 3 && e.cause !== undefined && isTransient(e.cause, depth + 1)
}

/** Backoff settings: delays grow as base * 2^attempt, capped, with full jitter. */
export interface BackoffOptions {
  /** @default 200 */
  readonly baseMs?: number
  /** @default 10_000 */
  readonly maxMs?: number
}

/**
 * Delay before retry number `attempt` (1-based): uniformly random in [cap/2, cap] where cap =
 * min(max, base * 2^(attempt-1)) ("equal jitter": spreads clients, never retries at once).
 */
export function backoffMs(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random
): number {
  const cap = Math.min(options.maxMs ?? 10_000, (options.baseMs ?? 200) * 2 ** (attempt - 1))
  return cap / 2 + random() * (cap / 2)
}
