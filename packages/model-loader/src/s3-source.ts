/** Lists an S3 object or bundle prefix and reads its files in ranges, with the real AWS SDK. */
import type { Readable } from 'node:stream'
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import type { S3Client } from '@aws-sdk/client-s3'
import { BUNDLE_FILES, isModelFile, MAX_SELF_TEST_FILES, NESTED_BUNDLE_PATHS } from './bundle.js'
import { fromS3Checksums, md5FromEtag } from './checksums.js'
import type { ExpectedDigest } from './checksums.js'
import { ModelLoaderError } from './errors.js'
import { sourceIdentity } from './model-uri.js'
import type { ModelLocation } from './model-uri.js'
import { rangeHeader } from './ranged-download.js'
import { checkedBody } from './remote-cache.js'
import type { RemoteFile, RemoteSource } from './remote-cache.js'
import { httpStatusOf } from './retry.js'

type S3Location = Extract<ModelLocation, { kind: 's3-object' | 's3-prefix' }>

interface S3File extends RemoteFile {
  readonly key: string
  readonly etag: string
}

const unquote = (etag: string | undefined): string => (etag ?? '').replaceAll('"', '')
const bundleNames = new Set<string>(Object.values(BUNDLE_FILES))

/** The digest an ETag gives: its MD5, when it is a single-part upload's. */
const etagChecks = (etag: string | undefined): ExpectedDigest[] =>
  [md5FromEtag(etag)].filter((c) => c !== undefined)

/** HEAD of one object: its ETag, size and every digest S3 knows; MODEL_NOT_FOUND when missing. */
async function headFile(client: S3Client, loc: S3Location, key: string, signal: AbortSignal) {
  const VersionId = loc.kind === 's3-object' ? loc.versionId : undefined
  const input = { Bucket: loc.bucket, Key: key, VersionId, ChecksumMode: 'ENABLED' as const }
  try {
    const head = await client.send(new HeadObjectCommand(input), { abortSignal: signal })
    const checks = [...etagChecks(head.ETag), ...fromS3Checksums(head)]
    return { etag: unquote(head.ETag), size: head.ContentLength, checks }
  } catch (err) {
    const missing = ['NotFound', 'NoSuchKey', 'NoSuchVersion'].includes((err as Error).name)
    if (!missing && httpStatusOf(err) !== 404) throw err
    const what = `s3://${loc.bucket}/${key}${VersionId ? ` (version ${VersionId})` : ''}`
    throw new ModelLoaderError('MODEL_NOT_FOUND', `No model at ${what}`, { cause: err })
  }
}

type S3Prefix = Extract<S3Location, { kind: 's3-prefix' }>

/** The files directly under `dir` (named relative to the bundle prefix) and its sub-prefixes. */
async function listDir(client: S3Client, loc: S3Prefix, dir: string, signal: AbortSignal) {
  const files: S3File[] = []
  const folders = new Set<string>()
  let ContinuationToken: string | undefined
  do {
    const input = { Bucket: loc.bucket, Prefix: dir, Delimiter: '/', ContinuationToken }
    const page = await client.send(new ListObjectsV2Command(input), { abortSignal: signal })
    for (const { Key: key = '', ETag, Size: size } of page.Contents ?? []) {
      const [etag, location] = [unquote(ETag), `s3://${loc.bucket}/${key}`]
      const name = key.slice(loc.prefix.length)
      files.push({ name, key, location, etag, version: etag, size, checks: etagChecks(etag) })
    }
    for (const p of page.CommonPrefixes ?? []) folders.add((p.Prefix ?? '').slice(dir.length))
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (ContinuationToken)
  return { files, folders }
}

/**
 * The bundle's files: its top-level ones, `onnx/model.onnx` when there is no top-level model
 * (a Transformers.js layout), and the files directly in `selftest/`. Each one a List call.
 */
async function listBundle(
  client: S3Client,
  loc: S3Prefix,
  uri: string,
  signal: AbortSignal
): Promise<S3File[]> {
  const top = await listDir(client, loc, loc.prefix, signal)
  const found = top.files.filter(({ name }) => bundleNames.has(name))
  const [nestedDir] = NESTED_BUNDLE_PATHS.nestedModel.split('/')
  if (!found.some(({ name }) => name === BUNDLE_FILES.model) && top.folders.has(`${nestedDir}/`)) {
    const nested = await listDir(client, loc, `${loc.prefix}${nestedDir}/`, signal)
    found.push(...nested.files.filter((f) => f.name === NESTED_BUNDLE_PATHS.nestedModel))
  }
  const selfTestDir = `${NESTED_BUNDLE_PATHS.selfTest}/`
  if (top.folders.has(selfTestDir)) {
    const { files } = await listDir(client, loc, `${loc.prefix}${selfTestDir}`, signal)
    if (files.length > MAX_SELF_TEST_FILES) {
      const msg = `${uri}${selfTestDir} holds ${files.length} files (at most ${MAX_SELF_TEST_FILES})`
      throw new ModelLoaderError('INVALID_MODEL', msg)
    }
    found.push(...files)
  }
  if (!found.some((f) => isModelFile(f.name))) {
    const names = `${BUNDLE_FILES.model} or ${NESTED_BUNDLE_PATHS.nestedModel}`
    throw new ModelLoaderError('MODEL_NOT_FOUND', `No ${names} under ${uri}`)
  }
  return found
}

/** Lists the model files at an S3 location (HEAD or ListObjectsV2): no download yet. */
export async function s3Source(
  client: S3Client,
  loc: S3Location,
  uri: string,
  signal: AbortSignal
): Promise<RemoteSource> {
  const VersionId = loc.kind === 's3-object' ? loc.versionId : undefined
  let files: S3File[]
  if (loc.kind === 's3-object') {
    const { etag, ...head } = await headFile(client, loc, loc.key, signal)
    const { key } = loc
    const location = `s3://${loc.bucket}/${key}`
    files = [{ name: BUNDLE_FILES.model, key, location, etag, version: VersionId ?? etag, ...head }]
  } else files = await listBundle(client, loc, uri, signal)
  return {
    uri,
    ...sourceIdentity(loc),
    files,
    ranged: true,
    async describe(file, describeSignal) {
      if (loc.kind === 's3-object') return [] // the HEAD of the listing had them
      const { key, etag, location } = file as S3File // the files handed back are ours
      const head = await headFile(client, loc, key, describeSignal)
      if (head.etag !== etag) {
        throw new ModelLoaderError('SOURCE_CHANGED', `${location} changed while loading`)
      }
      return head.checks.filter((c) => c.algorithm !== 'md5') // the listing's ETag gave the MD5
    },
    reader: (file) => async (range, readSignal) => {
      const { key, etag, location } = file as S3File
      const input = { Bucket: loc.bucket, Key: key, VersionId, Range: range && rangeHeader(range) }
      const got = await client
        .send(new GetObjectCommand(input), { abortSignal: readSignal })
        .catch((err: unknown) => {
          // 416: the range is past the end of what is there now; 412: a precondition on the version
          if (![412, 416].includes(httpStatusOf(err) ?? 0)) throw err
          const msg = `${location} changed while loading (${(err as Error).message})`
          throw new ModelLoaderError('SOURCE_CHANGED', msg, { cause: err })
        })
      const gotEtag = unquote(got.ETag)
      const changed = gotEtag === etag ? undefined : `ETag ${etag} became ${gotEtag}`
      return checkedBody(location, got.Body as Readable, range, {
        changed,
        contentRange: got.ContentRange,
      })
    },
  }
}
