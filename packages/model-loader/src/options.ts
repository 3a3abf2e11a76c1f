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
  /**
   * Read S3 object bodies straight from the socket (`direct-get.ts`): about half the CPU of the
   * SDK's HTTP handler. Turn it off when `s3Client` has a request handler of its own that must
   * carry the bodies too (a proxy agent, for example). @default true
   */
  readonly directBody?: boolean | undefined
  /** fetch for https:// sources. @default globalThis.fetch */
  readonly fetch?: typeof fetch | undefined
  /** Pins an S3 object to this VersionId (same as `?versionId=` in the URI). */
  readonly versionId?: string | undefined
  /** Expected sha256 (hex) of model.onnx; a mismatch is an INTEGRITY_MISMATCH. */
  readonly sha256?: string | undefined
  /** Whole-load attempts (a changed source, a checksum mismatch, exhausted part retries). @default 3 */
  readonly attempts?: number | undefined
  /** Size of each ranged GET once parallel; files up to this size use one GET. @default 16 MiB */
  readonly partSizeBytes?: number | undefined
  /** Most ranged GETs in flight per file. @default 4 */
  readonly concurrency?: number | undefined
  /**
   * A file of several parts starts as one GET; when it delivers less than this (bytes/s) while
   * the CPUs and the event loop have time to spare (the network is the limit), the parts it has
   * not reached are spread over `concurrency` GETs. `Infinity`: parallel from the start; `0`:
   * always one GET. @default 200 MiB/s
   */
  readonly parallelBelowBytesPerS?: number | undefined
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
/** Default speed of one GET below which a download goes parallel: 200 MiB/s. */
export const DEFAULT_PARALLEL_BELOW_BYTES_PER_S: number = 200 * 1024 * 1024
/** How long one GET is measured before going parallel (and between checks). */
const PROBE_MS = 500

/** The download settings in effect for `options`. */
export function partSettings(options: LoadModelOptions): PartSettings {
  return {
    partSize: Math.max(options.partSizeBytes ?? DEFAULT_PART_SIZE, 64 * 1024),
    concurrency: Math.max(options.concurrency ?? 4, 1),
    retries: Math.max(options.retries ?? 5, 0),
    backoff: { baseMs: options.retryBaseDelayMs ?? 200, maxMs: options.retryMaxDelayMs ?? 10_000 },
    stallTimeoutMs: options.stallTimeoutMs ?? 30_000,
    parallelBelowBytesPerS: Math.max(
      options.parallelBelowBytesPerS ?? DEFAULT_PARALLEL_BELOW_BYTES_PER_S,
      0
    ),
    probeMs: PROBE_MS,
  }
}
