/** A single ONNX file over HTTPS, versioned by its ETag or Last-Modified, read in ranges. */
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { BUNDLE_FILES } from './bundle.js'
import { ModelLoaderError } from './errors.js'
import { sourceIdentity } from './model-uri.js'
import { rangeHeader } from './ranged-download.js'
import { checkedBody } from './remote-cache.js'
import type { RemoteSource } from './remote-cache.js'

const versionOf = (res: Response): string | undefined =>
  res.headers.get('etag')?.replace(/^W\//, '').replaceAll('"', '') ??
  res.headers.get('last-modified') ??
  undefined

/** An HTTP error status as a DOWNLOAD_FAILED (retried only for 5xx, 429 and 408). */
function statusError(method: string, uri: string, status: number): ModelLoaderError {
  const $metadata = { httpStatusCode: status } // what retry.ts reads, as on SDK errors
  const cause = Object.assign(new Error(`HTTP ${status}`), { $metadata })
  return new ModelLoaderError('DOWNLOAD_FAILED', `${method} ${uri} answered ${status}`, { cause })
}

/** Asks the server for the file's version and size (HEAD); reads it on demand. */
export async function httpsSource(
  url: URL,
  fetchImpl: typeof fetch,
  signal: AbortSignal
): Promise<RemoteSource> {
  const uri = url.toString()
  const head = await fetchImpl(url, { method: 'HEAD', redirect: 'follow', signal })
  if (head.status === 404) throw new ModelLoaderError('MODEL_NOT_FOUND', `No model at ${uri}`)
  if (!head.ok) throw statusError('HEAD', uri, head.status)
  const length = head.headers.get('content-length')
  const listed = versionOf(head) // none: downloaded at every load
  const size = length === null ? undefined : Number(length)
  const version = listed ?? `unversioned-${Date.now()}`
  return {
    uri,
    ...sourceIdentity({ kind: 'https', url }),
    files: [{ name: BUNDLE_FILES.model, location: uri, version, size, checks: [] }],
    ranged: size !== undefined && head.headers.get('accept-ranges') === 'bytes',
    describe: () => Promise.resolve([]),
    reader: () => async (range, readSignal) => {
      const headers: Record<string, string> = range ? { range: rangeHeader(range) } : {}
      const res = await fetchImpl(url, { redirect: 'follow', headers, signal: readSignal })
      if (!res.ok || !res.body) throw statusError('GET', uri, res.status)
      const got = versionOf(res)
      return checkedBody(uri, Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), range, {
        changed: listed && got && got !== listed ? `${listed} became ${got}` : undefined,
        contentRange:
          res.status === 206 ? (res.headers.get('content-range') ?? undefined) : undefined,
      })
    },
  }
}
