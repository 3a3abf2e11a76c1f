/** MODEL_URI -> a verified model bundle on local disk (S3, HTTPS, local path, or the demo). */
import { setTimeout as sleep } from 'node:timers/promises'
import { S3Client } from '@aws-sdk/client-s3'
import type { ModelBundle } from './bundle.js'
import { ensureDemoBundle } from './demo/demo-bundle.js'
import { hasCode, ModelLoaderError } from './errors.js'
import { httpsSource } from './https-source.js'
import { loadLocal } from './local-source.js'
import { parseModelUri } from './model-uri.js'
import type { RemoteLocation } from './model-uri.js'
import { loadOfflineCopy } from './offline.js'
import { partSettings } from './options.js'
import type { LoadModelOptions } from './options.js'
import { materializeRemote } from './remote-cache.js'
import { backoffMs, httpStatusOf } from './retry.js'
import { s3Source } from './s3-source.js'

let sharedClient: S3Client | undefined

/**
 * One client per process for every load without `s3Client`: a poll every few seconds reuses its
 * credentials (the ECS task role) and connections. Idle keep-alive sockets do not hold the
 * process open (Node's agent unrefs them).
 */
const defaultS3Client = (): S3Client =>
  (sharedClient ??= new S3Client({ requestHandler: { connectionTimeout: 10_000 } }))

/** Not outages: no other attempt, and no offline fallback either (TIMEOUT has one). */
const NOT_OUTAGES = ['INVALID_MODEL_URI', 'MODEL_NOT_FOUND', 'INVALID_MODEL'] as const

/** Errors another attempt cannot fix: bad URI, missing model, invalid file, 4xx (but 408/429). */
const isFinal = (err: unknown): boolean => {
  if (err instanceof ModelLoaderError) {
    if (err.code === 'DOWNLOAD_FAILED' && err.cause !== undefined) return isFinal(err.cause)
    return hasCode(err, ...NOT_OUTAGES, 'TIMEOUT')
  }
  const status = httpStatusOf(err)
  return status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 408
}

async function loadRemoteOnce(
  options: LoadModelOptions,
  loc: RemoteLocation,
  uri: string,
  signal: AbortSignal
): Promise<ModelBundle> {
  const ctx = {
    cacheDir: options.cacheDir,
    settings: partSettings(options),
    logger: options.logger,
    signal,
    maxCacheBytes: options.maxCacheBytes,
    sha256: options.sha256,
  }
  if (loc.kind === 'https') {
    return materializeRemote(ctx, await httpsSource(loc.url, options.fetch ?? fetch, signal))
  }
  const client = options.s3Client ?? defaultS3Client()
  return materializeRemote(ctx, await s3Source(client, loc, uri, signal))
}

async function withAttempts(
  options: LoadModelOptions,
  signal: AbortSignal,
  once: () => Promise<ModelBundle>
): Promise<ModelBundle> {
  const attempts = Math.max(options.attempts ?? 3, 1)
  for (let attempt = 1; ; attempt++) {
    try {
      return await once()
    } catch (err) {
      if (attempt >= attempts || isFinal(err) || signal.aborted) throw err
      const delayMs = backoffMs(attempt, { baseMs: options.retryBaseDelayMs ?? 200 })
      const reason = (err as Error).message
      options.logger?.warn(
        { uri: options.uri, attempt, delayMs: Math.round(delayMs), reason },
        'model load failed: retrying'
      )
      await sleep(delayMs, undefined, { signal })
    }
  }
}

/** The error to throw: TIMEOUT past the deadline, the caller's reason if cancelled, else a ModelLoaderError. */
function finalError(
  err: unknown,
  uri: string,
  deadline: AbortSignal,
  options: LoadModelOptions
): unknown {
  if (options.signal?.aborted) return options.signal.reason
  if (deadline.aborted) {
    const msg = `Loading the model from ${uri} did not finish within ${options.timeoutMs ?? 600_000} ms`
    return new ModelLoaderError('TIMEOUT', msg, { cause: err })
  }
  if (err instanceof ModelLoaderError) return err
  const msg = `Could not load the model from ${uri}: ${(err as Error).message}`
  return new ModelLoaderError('DOWNLOAD_FAILED', msg, { cause: err })
}

async function loadRemote(
  options: LoadModelOptions,
  location: RemoteLocation,
  uri: string
): Promise<ModelBundle> {
  const deadline = AbortSignal.timeout(options.timeoutMs ?? 600_000)
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline
  try {
    return await withAttempts(options, signal, () => loadRemoteOnce(options, location, uri, signal))
  } catch (err) {
    const error = finalError(err, uri, deadline, options)
    const fallback = options.offlineFallback !== false && !options.signal?.aborted
    if (!fallback || hasCode(error, ...NOT_OUTAGES)) throw error
    const copy = await loadOfflineCopy(options.cacheDir, uri, location)
    if (!copy) throw error
    const fields = { uri, version: copy.version, sha256: copy.sha256 }
    const msg = 'model source unreachable: starting from the last verified cached copy'
    options.logger?.warn({ ...fields, reason: (error as Error).message }, msg)
    return copy
  }
}

/** The URI of the ResNet-50 this package generates itself (random weights, for performance work). */
export const DEMO_MODEL_URI = 'demo:resnet50'

/**
 * Loads the model bundle named by `options.uri` (unset or {@link DEMO_MODEL_URI}: the demo) into the cache and returns where it is. A cached
 * copy whose source version is unchanged is reused after a HEAD or List only. Call
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
