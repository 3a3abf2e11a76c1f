/** A single ONNX file over HTTPS, versioned by its ETag or Last-Modified. */
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { BUNDLE_FILES } from './bundle.js'
import { ModelLoaderError } from './errors.js'
import type { RemoteFile, RemoteSource } from './remote-cache.js'

const versionOf = (res: Response): string | undefined =>
  res.headers.get('etag')?.replace(/^W\//, '').replaceAll('"', '') ??
  res.headers.get('last-modified') ??
  undefined

/** Asks the server for the file's version (HEAD), then streams it on `open`. */
export async function httpsSource(
  url: URL,
  fetchImpl: typeof fetch = fetch
): Promise<RemoteSource> {
  const uri = url.toString()
  const head = await fetchImpl(url, { method: 'HEAD', redirect: 'follow' })
  if (head.status === 404) throw new ModelLoaderError('MODEL_NOT_FOUND', `No model at ${uri}`)
  if (!head.ok) {
    throw new ModelLoaderError('DOWNLOAD_FAILED', `HEAD ${uri} answered ${head.status}`)
  }
  const version = versionOf(head) ?? `unversioned-${Date.now()}`
  const length = head.headers.get('content-length')
  const file: RemoteFile = {
    name: BUNDLE_FILES.model,
    version,
    expected: { size: length === null ? undefined : Number(length) },
  }
  return {
    uri,
    kind: 'https',
    name: (url.pathname.split('/').pop() ?? '').replace(/\.onnx$/, '') || url.hostname,
    files: [file],
    async open(): Promise<Readable> {
      const res = await fetchImpl(url, { redirect: 'follow' })
      if (!res.ok || !res.body) {
        throw new ModelLoaderError('DOWNLOAD_FAILED', `GET ${uri} answered ${res.status}`)
      }
      if (versionOf(res) !== undefined && versionOf(res) !== version) {
        throw new ModelLoaderError('SOURCE_CHANGED', `${uri} changed while loading`)
      }
      return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>)
    },
  }
}
