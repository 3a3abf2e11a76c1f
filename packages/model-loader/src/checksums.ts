/** What a file's bytes must hash to, from wherever that is known: S3, an ETag, a SHA256SUMS file. */
import type { HeadObjectCommandOutput } from '@aws-sdk/client-s3'
import { BUNDLE_FILES, isModelFile } from './bundle.js'
import { ModelLoaderError } from './errors.js'

/** Digests the loader can compute (crc32 is S3's CRC32, big-endian). */
export type DigestAlgorithm = 'md5' | 'sha1' | 'sha256' | 'crc32'

/** One expected digest and where it came from (for error messages and `verifiedBy`). */
export interface ExpectedDigest {
  readonly algorithm: DigestAlgorithm
  /** Lower-case hex. */
  readonly hex: string
  /** e.g. `S3 ETag (MD5)`, `S3 ChecksumSHA256`, `SHA256SUMS`. */
  readonly source: string
}

/** Computed digests, hex, by algorithm. */
export type Digests = Partial<Record<DigestAlgorithm, string>>

const unquote = (etag: string | undefined): string => (etag ?? '').replaceAll('"', '')

/** A single-part upload's ETag is the MD5 of the content; multipart ones (`-N`) are not. */
export function md5FromEtag(etag: string | undefined): ExpectedDigest | undefined {
  const value = unquote(etag).toLowerCase()
  return /^[0-9a-f]{32}$/.test(value)
    ? { algorithm: 'md5', hex: value, source: 'S3 ETag (MD5)' }
    : undefined
}

/**
 * Full-object S3 checksums (base64) of a HeadObject asked with `ChecksumMode: 'ENABLED'`. Composite
 * ones (multipart, `-N`) describe the parts, not the file, and are skipped, as are CRC32C and
 * CRC64NVME (not computed here).
 */
export function fromS3Checksums(head: Partial<HeadObjectCommandOutput>): ExpectedDigest[] {
  if (head.ChecksumType === 'COMPOSITE') return []
  const fields: [DigestAlgorithm, string | undefined][] = [
    ['sha256', head.ChecksumSHA256],
    ['sha1', head.ChecksumSHA1],
    ['crc32', head.ChecksumCRC32],
  ]
  return fields
    .filter((f): f is [DigestAlgorithm, string] => f[1] !== undefined && !f[1].includes('-'))
    .map(([algorithm, b64]) => ({
      algorithm,
      hex: Buffer.from(b64, 'base64').toString('hex'),
      source: `S3 Checksum${algorithm.toUpperCase()}`,
    }))
}

/** Parses `sha256sum` output (`<hex>  <name>` or `<hex> *<name>`) into name -> hex. */
export function parseSha256Sums(text: string): Map<string, string> {
  const sums = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64}) [ *](?:\.\/)?(.+)$/.exec(line.trim())
    if (m?.[1] && m[2]) sums.set(m[2], m[1].toLowerCase())
  }
  return sums
}

/** What SHA256SUMS (`sums`) and the caller's `sha256` (for the model) say `name` must hash to. */
export function expectedChecks(
  name: string,
  sums: ReadonlyMap<string, string>,
  sha256: string | undefined
): ExpectedDigest[] {
  const listed = sums.get(name)
  const checks: ExpectedDigest[] = []
  if (listed) checks.push({ algorithm: 'sha256', hex: listed, source: BUNDLE_FILES.checksums })
  if (sha256 && isModelFile(name)) {
    checks.push({ algorithm: 'sha256', hex: sha256.toLowerCase(), source: 'the expected sha256' })
  }
  return checks
}

/**
 * Which digests to compute: always sha256 (the bundle's identity), plus what the checks need.
 * An MD5 check is dropped when a stronger one exists: hashing 500 MB twice costs seconds.
 */
export function digestsToCompute(checks: readonly ExpectedDigest[]): DigestAlgorithm[] {
  const strong = checks.some((c) => c.algorithm !== 'md5')
  const wanted = new Set<DigestAlgorithm>(['sha256'])
  for (const c of checks) if (c.algorithm !== 'md5' || !strong) wanted.add(c.algorithm)
  return [...wanted]
}

/**
 * Compares computed digests with the checks; returns what verified the file (e.g. `['size',
 * 'SHA256SUMS']`), or throws INTEGRITY_MISMATCH naming the file, the digest and its source.
 */
export function verifyDigests(
  label: string,
  digests: Digests,
  checks: readonly ExpectedDigest[]
): string[] {
  const verifiedBy: string[] = []
  for (const check of checks) {
    const got = digests[check.algorithm]
    if (got === undefined) continue // dropped in favour of a stronger check
    if (got !== check.hex) {
      const msg = `${label}: ${check.algorithm} ${got} does not match ${check.source} ${check.hex}`
      throw new ModelLoaderError('INTEGRITY_MISMATCH', msg)
    }
    verifiedBy.push(check.source)
  }
  return verifiedBy
}
