/** `s3://bucket/prefix` URIs of the batch job's input, manifest and output. */

/** A bucket and a key (or key prefix) in it. */
export interface S3Location {
  readonly bucket: string
  readonly key: string
}

/** Thrown for a malformed `s3://` URI (a usage error: the job does not start). */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/**
 * Parses `s3://bucket/key`. With `prefix`, the key is a folder: '' or ending in '/' (added).
 * @example parseS3Uri('s3://photos/2026/', true) // { bucket: 'photos', key: '2026/' }
 */
export function parseS3Uri(uri: string, prefix: boolean): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri)
  if (!match) throw new UsageError(`Not an s3://bucket/key URI: "${uri}"`)
  const key = match[2] ?? ''
  if (!prefix && key === '') throw new UsageError(`"${uri}" names a bucket, not an object`)
  return { bucket: match[1]!, key: prefix && key !== '' && !key.endsWith('/') ? `${key}/` : key }
}

/** `s3://bucket/key`. */
export const s3Uri = (location: S3Location): string => `s3://${location.bucket}/${location.key}`

/** The location `name` under the folder `prefix`. */
export const under = (prefix: S3Location, name: string): S3Location => ({
  bucket: prefix.bucket,
  key: prefix.key + name,
})
