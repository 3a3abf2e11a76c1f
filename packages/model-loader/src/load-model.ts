/** MODEL_URI -> a verified model bundle on local disk (S3, HTTPS, local path, or the demo). */
import { setTimeout as sleep } from 'node:timers/promises'
import { S3Client } from '@aws-sdk/client-s3'
import type { ModelBundle } from './bundle.js'
import { ensureDemoBundle } from './demo/demo-bundle.js'
import { ModelLoaderError } from './errors.js'
import { httpsSource } from './https-source.js'
import { loadLocal } from './local-source.js'
import { parseModelUri } from './model-uri.js'
import { materializeRemote } from './remote-cache.js'
import { s3Source } from './s3-source.js'

/** Options for {@link loadModel}. */
export interface LoadModelOptions {
  /** `s3://bucket/key.onnx`, `s3://bucket/prefix/`, `https://...`, a local path; unset: the demo. */
  readonly uri?: string | undefined
  /** Where downloaded (and generated) models are cached. */
  readonly cacheDir: string
  /** S3 client to use. @default new S3Client({}) (the SDK's standard credential/region chain) */
  readonly s3Client?: S3Client
  /** fetch for https:// sources. @default globalThis.fetch */
  readonly fetch?: typeof fetch
  /** Attempts for transient failures (changed source, checksum mismatch, network). @default 3 */
  readonly attempts?: number
}

const FINAL_CODES = new Set(['INVALID_MODEL_URI', 'MODEL_NOT_FOUND'])

const isFinal = (err: unknown): boolean => {
  if (err instanceof ModelLoaderError) return FINAL_CODES.has(err.code)
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
  return status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 408
}

async function loadOnce(options: LoadModelOptions, uri: string): Promise<ModelBundle> {
  const location = parseModelUri(uri)
  switch (location.kind) {
    case 'local':
      return loadLocal(location.path, uri)
    case 'https':
      return materializeRemote(options.cacheDir, await httpsSource(location.url, options.fetch))
    default: {
      const client = options.s3Client ?? new S3Client({})
      return materializeRemote(options.cacheDir, await s3Source(client, location, uri))
    }
  }
}

/**
 * Loads the model bundle named by `uri` into the cache and returns where it is. A cached copy
 * whose source version (ETag) is unchanged is reused without downloading.
 * @example const bundle = await loadModel({ uri: 's3://models/resnet50/', cacheDir: '/tmp/models' })
 */
export async function loadModel(options: LoadModelOptions): Promise<ModelBundle> {
  if (options.uri === undefined || options.uri.trim() === '') {
    const demo = await ensureDemoBundle(options.cacheDir)
    return { ...(await loadLocal(demo.dir, 'demo:resnet50')), name: 'demo-resnet50' }
  }
  const attempts = options.attempts ?? 3
  for (let attempt = 1; ; attempt++) {
    try {
      return await loadOnce(options, options.uri)
    } catch (err) {
      if (attempt >= attempts || isFinal(err)) {
        if (err instanceof ModelLoaderError) throw err
        const msg = `Could not load the model from ${options.uri} after ${attempt} attempt(s)`
        throw new ModelLoaderError('DOWNLOAD_FAILED', msg, { cause: err })
      }
      await sleep(200 * 2 ** (attempt - 1) * (0.5 + Math.random()))
    }
  }
}
