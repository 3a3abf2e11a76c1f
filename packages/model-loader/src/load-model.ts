/** MODEL_URI -> a verified model bundle on local disk (S3, HTTPS, local path, or the demo). */
import { setTimeout as sleep } from 'node:timers/promises'
import { S3Client } from '@aws-sdk/client-s3'
import type { ModelBundle } from './bundle.js'
import { ensureDemoBundle } from './demo/demo-bundle.js'
import { ModelLoaderError } from './errors.js'
import { httpsSource } from './https-source.js'
import { loadLocal } from './local-source.js'
import { parseModelUri } from './model-uri.js'
import type { RemoteLocation } from './model-uri.js'
import { partSettings } from './options.js'
import type { LoadModelOptions } from './options.js'
import { loadOfflineCopy, materializeRemote } from './remote-cache.js'
import { backoffMs, httpStatusOf } from './retry.js'
import { s3Source } from './s3-source.js'

let sharedClient: S3Client | undefined

/** One S3 client per process: credentials and connections reused across polls (README, S3). */
const defaultS3Client = (): S3Client =>
  (sharedClient ??= new S3Client({ requestHandler: { connectionTimeout: 10_000 } }))

/** Not outages: no other attempt, and no offline fallback either (TIMEOUT has one). */
const NOT_OUTAGES = new Set<string>(['INVALID_MODEL_URI', 'MODEL_NOT_FOUND', 'INVALID_MODEL'])

/** Errors another attempt cannot fix: bad URI, missing model, invalid file, 4xx (but 408/429). */
const isFinal = (err: unknown): boolean => {
  if (err instanceof ModelLoaderError) {
    if (err.code === 'DOWNLOAD_FAILED' && err.cause !== undefined) return isFinal(err.cause)
    return err.code === 'TIMEOUT' || NOT_OUTAGES.has(err.code)
  }
  const status = httpStatusOf(err)
  return status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 408
}

/**
 * Lists the source and materialises it in the cache: `attempts` tries with backoff unless an error
 * is final, within the deadline; after an outage, the last verified cached copy (offline start).
 * Throws TIMEOUT past the deadline, the caller's reason if cancelled, else a ModelLoaderError.
 */
async function loadRemote(
  options: LoadModelOptions,
  loc: RemoteLocation,
  uri: string
): Promise<ModelBundle> {
  const timeoutMs = options.timeoutMs ?? 600_000
  const deadline = AbortSignal.timeout(timeoutMs)
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline
  const { cacheDir, logger, maxCacheBytes, sha256 } = options
  const ctx = { cacheDir, logger, maxCacheBytes, sha256, signal, settings: partSettings(options) }
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const source =
          loc.kind === 'https'
            ? await httpsSource(loc.url, options.fetch ?? fetch, signal)
            : await s3Source(options.s3Client ?? defaultS3Client(), loc, uri, signal)
        return await materializeRemote(ctx, source)
      } catch (err) {
        if (attempt >= (options.attempts ?? 3) || isFinal(err) || signal.aborted) throw err
        const delayMs = backoffMs(attempt, { baseMs: options.retryBaseDelayMs ?? 200 })
        const fields = {
          uri,
          attempt,
          delayMs: Math.round(delayMs),
          reason: (err as Error).message,
        }
        logger?.warn(fields, 'model load failed: retrying')
        await sleep(delayMs, undefined, { signal })
      }
    }
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason
    const failed = `Could not load the model from ${uri}: ${(err as Error).message}`
    const timedOut = `Loading the model from ${uri} did not finish within ${timeoutMs} ms`
    let error = err instanceof ModelLoaderError ? err : undefined
    error ??= new ModelLoaderError('DOWNLOAD_FAILED', failed, { cause: err })
    if (deadline.aborted) error = new ModelLoaderError('TIMEOUT', timedOut, { cause: err })
    if (options.offlineFallback === false || NOT_OUTAGES.has(error.code)) throw error
    const copy = await loadOfflineCopy(cacheDir, uri, loc)
    if (!copy) throw error
    const fields = { uri, version: copy.version, sha256: copy.sha256, reason: error.message }
    logger?.warn(fields, 'model source unreachable: starting from the last verified cached copy')
    return copy
  }
}

/** The URI of the ResNet-50 this package generates itself (random weights, for performance work). */
export const DEMO_MODEL_URI = 'demo:resnet50'

/**
 * Loads the bundle named by `options.uri` (unset or {@link DEMO_MODEL_URI}: the demo) into the
 * cache and returns where it is; an unchanged cached version costs one HEAD or List. Call
 * `bundle.release()` when the bundle is no longer in use.
 * @example const bundle = await loadModel({ uri: 's3://models/resnet50/', cacheDir: '/tmp/models' })
 */
export async function loadModel(options: LoadModelOptions): Promise<ModelBundle> {
  const uri = options.uri?.trim() ?? ''
  if (uri === '' || uri === DEMO_MODEL_URI) {
    const demo = await ensureDemoBundle(options.cacheDir)
    const local = await loadLocal(demo.dir, DEMO_MODEL_URI, { check: false })
    return { ...local, name: 'demo-resnet50', origin: 'demo' }
  }
  const parsed = parseModelUri(uri)
  if (parsed.kind === 'local') return loadLocal(parsed.path, uri, { sha256: options.sha256 })
  const location =
    parsed.kind === 's3-object' && options.versionId
      ? { ...parsed, versionId: options.versionId }
      : parsed
  return loadRemote(options, location, uri)
}
