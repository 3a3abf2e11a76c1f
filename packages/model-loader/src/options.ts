/** The options of `loadModel`, and their defaults. */
import type { S3Client } from '@aws-sdk/client-s3'
import type { LoaderLogger } from './progress.js'
import type { PartSettings } from './ranged-download.js'

/** Options for {@link loadModel}. Only `cacheDir` is required. */
export interface LoadModelOptions {
  /** `s3://bucket/key.onnx[?versionId=...]`, `s3://bucket/prefix/`, `https://...`, a local path; unset or `demo:resnet50`: the demo. */
  readonly uri?: string | undefined
  /** Where downloaded (and generated) models are cached. */
  readonly cacheDir: string
  /** S3 client to use. @default new S3Client({}) (the SDK's standard credential/region/endpoint chain) */
  readonly s3Client?: S3Client | undefined
  /** fetch for https:// sources. @default globalThis.fetch */
  readonly fetch?: typeof fetch | undefined
  /** Pins an S3 object to this VersionId (same as `?versionId=` in the URI). */
  readonly versionId?: string | undefined
  /** Expected sha256 (hex) of model.onnx; a mismatch is an INTEGRITY_MISMATCH. */
  readonly sha256?: string | undefined
  /** Whole-load attempts (a changed source, a checksum mismatch, exhausted part retries). @default 3 */
  readonly attempts?: number | undefined
  /** Largest ranged GET (see planParts); files up to this size use one GET. @default 16 MiB */
  readonly partSizeBytes?: number | undefined
  /** Most ranged GETs in flight per file. @default 10 */
  readonly concurrency?: number | undefined
  /** Retries of one request after throttling, 5xx, a dropped connection or a short body. @default 5 */
  readonly retries?: number | undefined
  /** First retry delay; doubles each retry, with jitter. @default 200 */
  readonly retryBaseDelayMs?: number | undefined
  /** Longest retry delay. @default 10_000 */
  readonly retryMaxDelayMs?: number | undefined
  /** A request that delivers no byte for this long is cut and resumed. @default 30_000 */
  readonly stallTimeoutMs?: number | undefined
  /** Deadline for the whole load, lock waits included (then TIMEOUT). @default 600_000 */
  readonly timeoutMs?: number | undefined
  /** Cache size cap: least recently used entries not in use are evicted. @default no cap */
  readonly maxCacheBytes?: number | undefined
  /** Start from the last verified cached copy when the source cannot be reached. @default true */
  readonly offlineFallback?: boolean | undefined
  /** Progress (at most once a second), retries, waits and warnings. @default no logging */
  readonly logger?: LoaderLogger | undefined
  /** Cancels the load (e.g. on SIGTERM); the signal's reason is thrown. */
  readonly signal?: AbortSignal | undefined
}

/** Default part size: 16 MiB. */
export const DEFAULT_PART_SIZE: number = 16 * 1024 * 1024
/** Default ranged GETs in flight per file: 10, like `aws s3 cp` (see README, Download). */
export const DEFAULT_CONCURRENCY = 10

/** The download settings in effect for `options`. */
export function partSettings(options: LoadModelOptions): PartSettings {
  return {
    partSize: Math.max(options.partSizeBytes ?? DEFAULT_PART_SIZE, 64 * 1024),
    concurrency: Math.max(options.concurrency ?? DEFAULT_CONCURRENCY, 1),
    retries: Math.max(options.retries ?? 5, 0),
    backoff: { baseMs: options.retryBaseDelayMs ?? 200, maxMs: options.retryMaxDelayMs ?? 10_000 },
    stallTimeoutMs: options.stallTimeoutMs ?? 30_000,
  }
}
