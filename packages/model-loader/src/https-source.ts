/** A single ONNX file over HTTPS, versioned by its ETag or Last-Modified, read in ranges. */
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { BUNDLE_FILES } from './bundle.js'
import { ModelLoaderError } from './errors.js'
import type { RangeReader } from './ranged-download.js'
import { rangeHeader } from './remote-source.js'
import type { RemoteFile, RemoteSource } from './remote-source.js'

const versionOf = (res: Response): string | undefined =>
  res.headers.get('etag')?.replace(/^W\//, '').replaceAll('"', '') ??
  res.headers.get('last-modified') ??
  undefined

/** An HTTP error status as a DOWNLOAD_FAILED (retried only for 5xx, 429 and 408). */
function statusError(method: string, uri: string, status: number): ModelLoaderError {
  const cause = Object.assign(new Error(`HTTP ${status}`), {
    $metadata: { httpStatusCode: status },
  })
  return new ModelLoaderError('DOWNLOAD_FAILED', `${method} ${uri} answered ${status}`, { cause })
}

function httpsReader(url: URL, file: RemoteFile, fetchImpl: typeof fetch): RangeReader {
  const uri = url.toString()
  return async (range, signal): Promise<Readable> => {
    const headers: Record<string, string> = range ? { range: rangeHeader(range) } : {}
    const res = await fetchImpl(url, { redirect: 'follow', headers, signal })
    if (!res.ok || !res.body) throw statusError('GET', uri, res.status)
    const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>)
    const version = versionOf(res)
    if (
      version !== undefined &&
      !file.version.startsWith('unversioned-') &&
      version !== file.version
    ) {
      body.destroy()
      throw new ModelLoaderError('SOURCE_CHANGED', `${uri} changed while loading`)
    }
    const contentRange = res.headers.get('content-range') ?? ''
    if (range && (res.status !== 206 || !contentRange.startsWith(`bytes ${range.start}-`))) {
      body.destroy()
      const msg = `GET ${uri} ignored ${rangeHeader(range)}`
      throw new ModelLoaderError('DOWNLOAD_FAILED', msg, { cause: new Error('no range support') })
    }
    return body
  }
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
  const file: RemoteFile = {
    name: BUNDLE_FILES.model,
    location: uri,
    version: versionOf(head) ?? `unversioned-${Date.now()}`,
    size: length === null ? undefined : Number(length),
    checks: [],
  }
  return {
    uri,
    ...httpsIdentity(url),
    kind: 'https',
    files: [file],
    ranged: file.size !== undefined && head.headers.get('accept-ranges') === 'bytes',
    describe: () => Promise.resolve([]),
    reader: (f) => httpsReader(url, f, fetchImpl),
  }
}

/** The cache identity of an https URL (for finding an offline copy without asking the server). */
export function httpsIdentity(url: URL): { cacheKey: string; name: string } {
  return {
    cacheKey: url.toString(),
    name: (url.pathname.split('/').pop() ?? '').replace(/\.onnx$/, '') || url.hostname,
  }
}
