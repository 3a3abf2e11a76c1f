/** Lists an S3 object or bundle prefix and reads its files in ranges, with the real AWS SDK. */
import type { Readable } from 'node:stream'
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import type { S3Client, _Object } from '@aws-sdk/client-s3'
import { BUNDLE_FILES, MAX_SELF_TEST_FILES, NESTED_BUNDLE_PATHS } from './bundle.js'
import { fromS3Checksums, md5FromEtag } from './checksums.js'
import type { ExpectedDigest } from './checksums.js'
import { ModelLoaderError } from './errors.js'
import type { ModelLocation } from './model-uri.js'
import type { RangeReader } from './ranged-download.js'
import { rangeHeader } from './remote-source.js'
import type { RemoteFile, RemoteSource } from './remote-source.js'
import { httpStatusOf } from './retry.js'

type S3Location = Extract<ModelLocation, { kind: 's3-object' | 's3-prefix' }>

interface S3File extends RemoteFile {
  readonly key: string
  readonly etag: string
}

const unquote = (etag: string | undefined): string => (etag ?? '').replaceAll('"', '')
const bundleNames = new Set<string>(Object.values(BUNDLE_FILES))

const isMissing = (err: unknown): boolean =>
  ['NotFound', 'NoSuchKey', 'NoSuchVersion'].includes((err as Error).name) ||
  httpStatusOf(err) === 404

async function headFile(
  client: S3Client,
  loc: S3Location,
  key: string,
  signal: AbortSignal
): Promise<{ etag: string; size: number | undefined; checks: ExpectedDigest[] }> {
  const versionId = loc.kind === 's3-object' ? loc.versionId : undefined
  const input = {
    Bucket: loc.bucket,
    Key: key,
    VersionId: versionId,
    ChecksumMode: 'ENABLED' as const,
  }
  try {
    const head = await client.send(new HeadObjectCommand(input), { abortSignal: signal })
    const checks = [md5FromEtag(head.ETag), ...fromS3Checksums(head)]
    return {
      etag: unquote(head.ETag),
      size: head.ContentLength,
      checks: checks.filter((c) => c !== undefined),
    }
  } catch (err) {
    if (!isMissing(err)) throw err
    const what = `s3://${loc.bucket}/${key}${versionId ? ` (version ${versionId})` : ''}`
    throw new ModelLoaderError('MODEL_NOT_FOUND', `No model at ${what}`, { cause: err })
  }
}

/** The objects directly under `prefix` and the names of its sub-prefixes (`onnx/`, ...). */
async function listPrefix(
  client: S3Client,
  bucket: string,
  prefix: string,
  signal: AbortSignal
): Promise<{ objects: _Object[]; folders: Set<string> }> {
  const objects: _Object[] = []
  const folders = new Set<string>()
  let token: string | undefined
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        Delimiter: '/',
        ContinuationToken: token,
      }),
      { abortSignal: signal }
    )
    objects.push(...(page.Contents ?? []))
    for (const p of page.CommonPrefixes ?? []) folders.add((p.Prefix ?? '').slice(prefix.length))
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
  return { objects, folders }
}

/**
 * The bundle's objects: its top-level files, `onnx/model.onnx` when there is no top-level model
 * (a Transformers.js layout), and the files directly in `selftest/`. Each one a List call.
 */
async function listBundle(
  client: S3Client,
  loc: Extract<S3Location, { kind: 's3-prefix' }>,
  uri: string,
  signal: AbortSignal
): Promise<{ o: _Object; name: string }[]> {
  const { bucket, prefix } = loc
  const named = (objects: _Object[]) =>
    objects.map((o) => ({ o, name: (o.Key ?? '').slice(prefix.length) }))
  const top = await listPrefix(client, bucket, prefix, signal)
  const found = named(top.objects).filter(({ name }) => bundleNames.has(name))
  const [nestedDir] = NESTED_BUNDLE_PATHS.nestedModel.split('/')
  const hasModel = found.some(({ name }) => name === BUNDLE_FILES.model)
  if (!hasModel && top.folders.has(`${nestedDir}/`)) {
    const nested = await listPrefix(client, bucket, `${prefix}${nestedDir}/`, signal)
    const model = named(nested.objects).filter((f) => f.name === NESTED_BUNDLE_PATHS.nestedModel)
    found.push(...model)
  }
  if (top.folders.has(`${NESTED_BUNDLE_PATHS.selfTest}/`)) {
    const dir = `${prefix}${NESTED_BUNDLE_PATHS.selfTest}/`
    const selfTest = named((await listPrefix(client, bucket, dir, signal)).objects)
    if (selfTest.length > MAX_SELF_TEST_FILES) {
      const msg = `${uri}${NESTED_BUNDLE_PATHS.selfTest}/ holds ${selfTest.length} files (at most ${MAX_SELF_TEST_FILES})`
      throw new ModelLoaderError('INVALID_MODEL', msg)
    }
    found.push(...selfTest)
  }
  return found
}

async function listFiles(
  client: S3Client,
  loc: S3Location,
  uri: string,
  signal: AbortSignal
): Promise<S3File[]> {
  if (loc.kind === 's3-object') {
    const head = await headFile(client, loc, loc.key, signal)
    const version = loc.versionId ?? head.etag
    const location = `s3://${loc.bucket}/${loc.key}`
    return [{ name: BUNDLE_FILES.model, key: loc.key, location, version, ...head }]
  }
  const bucket = loc.bucket
  const files = (await listBundle(client, loc, uri, signal)).map(({ o, name }): S3File => {
    const etag = unquote(o.ETag)
    const md5 = md5FromEtag(etag)
    const key = o.Key ?? ''
    const location = `s3://${bucket}/${key}`
    return { name, key, location, etag, version: etag, size: o.Size, checks: md5 ? [md5] : [] }
  })
  const models = [BUNDLE_FILES.model, NESTED_BUNDLE_PATHS.nestedModel] as string[]
  if (!files.some((f) => models.includes(f.name))) {
    const names = models.join(' or ')
    throw new ModelLoaderError('MODEL_NOT_FOUND', `No ${names} under ${uri}`)
  }
  return files
}

function s3Reader(client: S3Client, loc: S3Location, file: S3File): RangeReader {
  const where = file.location
  const input = {
    Bucket: loc.bucket,
    Key: file.key,
    VersionId: loc.kind === 's3-object' ? loc.versionId : undefined,
  }
  return async (range, signal): Promise<Readable> => {
    const command = new GetObjectCommand({ ...input, Range: range && rangeHeader(range) })
    const got = await client.send(command, { abortSignal: signal }).catch((err: unknown) => {
      // 416: the range is past the end of what is there now; 412: a precondition on the version
      if (![412, 416].includes(httpStatusOf(err) ?? 0)) throw err
      const msg = `${where} changed while loading (${(err as Error).message})`
      throw new ModelLoaderError('SOURCE_CHANGED', msg, { cause: err })
    })
    const body = got.Body as Readable
    if (unquote(got.ETag) !== file.etag) {
      body.destroy()
      const msg = `${where} changed while loading (ETag ${file.etag} became ${unquote(got.ETag)})`
      throw new ModelLoaderError('SOURCE_CHANGED', msg)
    }
    if (range && !(got.ContentRange ?? '').startsWith(`bytes ${range.start}-`)) {
      body.destroy()
      const msg = `${where}: asked ${rangeHeader(range)}, got ${got.ContentRange ?? 'all of it'}`
      throw new ModelLoaderError('DOWNLOAD_FAILED', msg, { cause: new Error('range ignored') })
    }
    return body
  }
}

const nameFrom = (loc: S3Location): string => {
  const key = loc.kind === 's3-object' ? loc.key : loc.prefix.replace(/\/$/, '')
  return (key.split('/').pop() ?? '').replace(/\.onnx$/, '') || loc.bucket
}

/** The cache identity of an S3 location (without a version pin) and its display name. */
export function s3Identity(loc: S3Location): { cacheKey: string; name: string } {
  const path = loc.kind === 's3-object' ? loc.key : loc.prefix
  return { cacheKey: `s3://${loc.bucket}/${path}`, name: nameFrom(loc) }
}

/** Lists the model files at an S3 location (HEAD or ListObjectsV2): no download yet. */
export async function s3Source(
  client: S3Client,
  loc: S3Location,
  uri: string,
  signal: AbortSignal
): Promise<RemoteSource> {
  const files = await listFiles(client, loc, uri, signal)
  const byName = new Map(files.map((f) => [f.name, f]))
  const fileOf = (f: RemoteFile): S3File => byName.get(f.name) ?? files[0]!
  return {
    uri,
    ...s3Identity(loc),
    kind: 's3',
    files,
    ranged: true,
    async describe(file, describeSignal) {
      if (loc.kind === 's3-object') return [] // the HEAD of the listing had them
      const head = await headFile(client, loc, fileOf(file).key, describeSignal)
      if (head.etag !== fileOf(file).etag) {
        const msg = `s3://${loc.bucket}/${fileOf(file).key} changed while loading`
        throw new ModelLoaderError('SOURCE_CHANGED', msg)
      }
      return head.checks.filter((c) => c.algorithm !== 'md5') // the listing's ETag gave the MD5
    },
    reader: (file) => s3Reader(client, loc, fileOf(file)),
  }
}
