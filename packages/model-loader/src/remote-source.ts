/** What the cache needs from a remote source (S3 or HTTPS): a listing, and ranged reads. */
import type { ExpectedDigest } from './checksums.js'
import type { ByteRange, RangeReader } from './ranged-download.js'

/** One file of a remote bundle, as listed by the source before downloading. */
export interface RemoteFile {
  /** The bundle file name it becomes locally (`model.onnx`, `labels.txt`, ...). */
  readonly name: string
  /** Where it is read from, for logs and errors (`s3://bucket/key`, a URL). */
  readonly location: string
  /** The source's version of this file: S3 VersionId or ETag, HTTP ETag or Last-Modified. */
  readonly version: string
  /** Size in bytes, when the listing says. */
  readonly size: number | undefined
  /** Digests known from the listing (e.g. a single-part ETag's MD5). */
  readonly checks: readonly ExpectedDigest[]
}

/** A listed remote bundle and how to read each of its files. */
export interface RemoteSource {
  /** The URI as given (reported in the bundle). */
  readonly uri: string
  /** The source's identity in the cache (the URI without a version pin). */
  readonly cacheKey: string
  readonly kind: 's3' | 'https'
  readonly name: string
  readonly files: readonly RemoteFile[]
  /** Whether ranged reads (parallel parts, resume) are possible. */
  readonly ranged: boolean
  /** Digests known only by asking about one file (S3 object checksums), before its download. */
  describe(file: RemoteFile, signal: AbortSignal): Promise<readonly ExpectedDigest[]>
  /** A reader for `file` that fails with SOURCE_CHANGED when it is no longer `file.version`. */
  reader(file: RemoteFile): RangeReader
}

/** The HTTP `Range` header value for a byte range (inclusive end, as RFC 9110 says). */
export const rangeHeader = (range: ByteRange): string =>
  `bytes=${range.start}-${range.end === undefined ? '' : range.end - 1}`
