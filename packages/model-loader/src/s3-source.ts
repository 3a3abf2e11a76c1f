/** Lists an S3 object or bundle prefix and opens its files, with the real AWS SDK. */
import type { Readable } from 'node:stream'
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import type { S3Client } from '@aws-sdk/client-s3'
import { BUNDLE_FILES } from './bundle.js'
import { ModelLoaderError } from './errors.js'
import type { ModelLocation } from './model-uri.js'
import type { RemoteFile, RemoteSource } from './remote-cache.js'

type S3Location = Extract<ModelLocation, { kind: 's3-object' | 's3-prefix' }>

const unquote = (etag: string | undefined): string => (etag ?? '').replaceAll('"', '')
// A single-part upload's ETag is the MD5 of the content (multipart ones end in -N).
const md5Of = (etag: string): string | undefined =>
  /^[0-9a-f]{32}$/i.test(etag) ? etag : undefined
const bundleNames = new Set<string>(Object.values(BUNDLE_FILES))

const notFound = (uri: string, err?: unknown): ModelLoaderError =>
  new ModelLoaderError('MODEL_NOT_FOUND', `No model at ${uri}`, { cause: err })

const isMissing = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } }
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404
}

const remoteFile = (
  name: string,
  key: string,
  etag: string | undefined,
  size: number | undefined
) => ({
  name,
  key,
  version: unquote(etag),
  expected: { size, md5: md5Of(unquote(etag)) },
})

async function listFiles(
  client: S3Client,
  loc: S3Location,
  uri: string
): Promise<(RemoteFile & { key: string })[]> {
  if (loc.kind === 's3-object') {
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }))
      return [remoteFile(BUNDLE_FILES.model, loc.key, head.ETag, head.ContentLength)]
    } catch (err) {
      throw isMissing(err) ? notFound(uri, err) : err
    }
  }
  const listed = await client.send(
    new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: loc.prefix, Delimiter: '/' })
  )
  const files = (listed.Contents ?? [])
    .map((o) => ({ o, name: (o.Key ?? '').slice(loc.prefix.length) }))
    .filter(({ name }) => bundleNames.has(name))
    .map(({ o, name }) => remoteFile(name, o.Key ?? '', o.ETag, o.Size))
  if (!files.some((f) => f.name === BUNDLE_FILES.model)) {
    throw new ModelLoaderError('MODEL_NOT_FOUND', `No ${BUNDLE_FILES.model} under ${uri}`)
  }
  return files
}

const nameFrom = (loc: S3Location): string => {
  const key = loc.kind === 's3-object' ? loc.key : loc.prefix.replace(/\/$/, '')
  return (key.split('/').pop() ?? '').replace(/\.onnx$/, '') || loc.bucket
}

/** Lists the model files at an S3 location; `open` streams one and checks it is the listed version. */
export async function s3Source(
  client: S3Client,
  loc: S3Location,
  uri: string
): Promise<RemoteSource> {
  const files = await listFiles(client, loc, uri)
  return {
    uri,
    kind: 's3',
    name: nameFrom(loc),
    files,
    async open(file: RemoteFile): Promise<Readable> {
      const key = files.find((f) => f.name === file.name)?.key ?? ''
      const got = await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: key }))
      if (unquote(got.ETag) !== file.version) {
        const msg = `s3://${loc.bucket}/${key} changed while loading (ETag ${got.ETag ?? '?'})`
        throw new ModelLoaderError('SOURCE_CHANGED', msg)
      }
      return got.Body as Readable
    },
  }
}
