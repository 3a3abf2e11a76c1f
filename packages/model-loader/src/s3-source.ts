/** Lists an S3 object or bundle prefix and reads its files in ranges, with the real AWS SDK. */
import type { Readable } from 'node:stream'
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import type { S3Client, _Object } from '@aws-sdk/client-s3'
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

/** HEAD of one object: its ETag, size and every digest S3 knows; MODEL_NOT_FOUND when missing. */
async function headFile(client: S3Client, loc: S3Location, key: string, signal: AbortSignal) {
  const VersionId = loc.kind === 's3-object' ? loc.versionId : undefined
  const input = { Bucket: loc.bucket, Key: key, VersionId, ChecksumMode: 'ENABLED' as const }
  try {
    const head = await client.send(new HeadObjectCommand(input), { abortSignal: signal })
    const checks = [md5FromEtag(head.ETag), ...fromS3Checksums(head)]
    return {
      etag: unquote(head.ETag),
      size: head.ContentLength,
      checks: checks.filter((c): c is ExpectedDigest => c !== undefined),
    }
  } catch (err) {
    const missing = ['NotFound', 'NoSuchKey', 'NoSuchVersion'].includes((err as Error).name)
    if (!missing && httpStatusOf(err) !== 404) throw err
    const what = `s3://${loc.bucket}/${key}${VersionId ? ` (version ${VersionId})` : ''}`
    throw new ModelLoaderError('MODEL_NOT_FOUND', `No model at ${what}`, { cause: err })
  }
}

/** The objects directly under `prefix` (named relative to `base`) and its sub-prefixes (`onnx/`, ...). */
async function listPrefix(
  client: S3Client,
  bucket: string,
  prefix: string,
  base: string,
  signal: AbortSignal
) {
  const objects: { o: _Object; name: string }[] = []
  const folders = new Set<string>()
  let ContinuationToken: string | undefined
  do {
    const input = { Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken }
    const page = await client.send(new ListObjectsV2Command(input), { abortSignal: signal })
    for (const o of page.Contents ?? []) objects.push({ o, name: (o.Key ?? '').slice(base.length) })
    for (const p of page.CommonPrefixes ?? []) folders.add((p.Prefix ?? '').slice(prefix.length))
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (ContinuationToken)
  return { objects, folders }
}

/**
 * The bundle's objects: its top-level files, `onnx/model.onnx` when there is no top-level model
 * (a Transformers.js layout), and the files directly in `selftest/`. Each one a List call.
 */
async function listBundle(
  client: S3Client,
  { bucket, prefix }: Extract<S3Location, { kind: 's3-prefix' }>,
  uri: string,
  signal: AbortSignal
): Promise<{ o: _Object; name: string }[]> {
  const top = await listPrefix(client, bucket, prefix, prefix, signal)
  const found = top.objects.filter(({ name }) => bundleNames.has(name))
  const [nestedDir] = NESTED_BUNDLE_PATHS.nestedModel.split('/')
  if (!found.some(({ name }) => name === BUNDLE_FILES.model) && top.folders.has(`${nestedDir}/`)) {
    const nested = await listPrefix(client, bucket, `${prefix}${nestedDir}/`, prefix, signal)
    found.push(...nested.objects.filter((f) => f.name === NESTED_BUNDLE_PATHS.nestedModel))
  }
  const selfTestDir = `${NESTED_BUNDLE_PATHS.selfTest}/`
  if (top.folders.has(selfTestDir)) {
    const { objects } = await listPrefix(client, bucket, `${prefix}${selfTestDir}`, prefix, signal)
    if (objects.length > MAX_SELF_TEST_FILES) {
      const msg = `${uri}${selfTestDir} holds ${objects.length} files (at most ${MAX_SELF_TEST_FILES})`
      throw new ModelLoaderError('INVALID_MODEL', msg)
    }
    found.push(...objects)
  }
  return found
}

async function listFiles(
  client: S3Client,
  loc: S3Location,
  uri: string,
  signal: AbortSignal
): Promise<S3File[]> {
  const location = (key: string): string => `s3://${loc.bucket}/${key}`
  if (loc.kind === 's3-object') {
    const head = await headFile(client, loc, loc.key, signal)
    const version = loc.versionId ?? head.etag
    return [
      { name: BUNDLE_FILES.model, key: loc.key, location: location(loc.key), version, ...head },
    ]
  }
  const files = (await listBundle(client, loc, uri, signal)).map(({ o, name }): S3File => {
    const etag = unquote(o.ETag)
    const md5 = md5FromEtag(etag)
    const key = o.Key ?? ''
    return {
      name,
      key,
      location: location(key),
      etag,
      version: etag,
      size: o.Size,
      checks: md5 ? [md5] : [],
    }
  })
  if (!files.some((f) => isModelFile(f.name))) {
    const names = `${BUNDLE_FILES.model} or ${NESTED_BUNDLE_PATHS.nestedModel}`
    throw new ModelLoaderError('MODEL_NOT_FOUND', `No ${names} under ${uri}`)
  }
  return files
}

/** Lists the model files at an S3 location (HEAD or ListObjectsV2): no download yet. */
export async function s3Source(
  client: S3Client,
  loc: S3Location,
  uri: string,
  signal: AbortSignal
): Promise<RemoteSource> {
  const files = await listFiles(client, loc, uri, signal)
  const VersionId = loc.kind === 's3-object' ? loc.versionId : undefined
  return {
    uri,
    ...sourceIdentity(loc),
    files,
    ranged: true,
    async describe(file, describeSignal) {
      if (loc.kind === 's3-object') return [] // the HEAD of the listing had them
      const { key, etag, location } = file as S3File // the files handed back are ours
      const head = await headFile(client, loc, key, describeSignal)
      if (head.etag !== etag)
        throw new ModelLoaderError('SOURCE_CHANGED', `${location} changed while loading`)
      return head.checks.filter((c) => c.algorithm !== 'md5') // the listing's ETag gave the MD5
    },
    reader: (file) => async (range, readSignal) => {
      const { key, etag, location } = file as S3File
      const command = new GetObjectCommand({
        Bucket: loc.bucket,
        Key: key,
        VersionId,
        Range: range && rangeHeader(range),
      })
      const got = await client.send(command, { abortSignal: readSignal }).catch((err: unknown) => {
        // 416: the range is past the end of what is there now; 412: a precondition on the version
        if (![412, 416].includes(httpStatusOf(err) ?? 0)) throw err
        const msg = `${location} changed while loading (${(err as Error).message})`
        throw new ModelLoaderError('SOURCE_CHANGED', msg, { cause: err })
      })
      const changed =
        unquote(got.ETag) === etag ? undefined : `ETag ${etag} became ${unquote(got.ETag)}`
      return checkedBody(location, got.Body as Readable, range, {
        changed,
        contentRange: got.ContentRange,
      })
    },
  }
}
