/** A listed remote bundle (S3 or HTTPS) -> a leased, complete cache entry (see README, Cache). */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { BUNDLE_FILES } from './bundle.js'
import type { BundleOrigin, ModelBundle } from './bundle.js'
import { recordUseAndEvict, sweepCacheOnce, sweepSource } from './cache-sweep.js'
import { expectedChecks, parseSha256Sums } from './checksums.js'
import type { ExpectedDigest } from './checksums.js'
import { downloadFile } from './download-file.js'
import { ModelLoaderError } from './errors.js'
import { sha256File } from './file-hasher.js'
import { acquireLock } from './file-lock.js'
import { leaseEntry } from './leases.js'
import {
  bundleFromEntry,
  entryLayout,
  filesPresent,
  listEntries,
  modelFileOf,
  readMatchingManifest,
  safeName,
  SOURCE_LOCK,
  sourceDirFor,
  writeManifest,
} from './manifest.js'
import type { Manifest, ManifestFile } from './manifest.js'
import { sourceIdentity } from './model-uri.js'
import type { RemoteLocation } from './model-uri.js'
import type { LoadModelOptions } from './options.js'
import { rangeHeader } from './ranged-download.js'
import type { ByteRange, PartSettings, RangeReader } from './ranged-download.js'

/** One file of a remote bundle, as listed by the source before downloading. */
export interface RemoteFile {
  /** The bundle file name it becomes locally (`model.onnx`, `labels.txt`, ...). */
  readonly name: string
  /** Where it is read from, for logs and errors (`s3://bucket/key`, a URL). */
  readonly location: string
  /** The source's version of this file: S3 VersionId or ETag, HTTP ETag or Last-Modified. */
  readonly version: string
  readonly size: number | undefined
  /** Digests known from the listing (e.g. a single-part ETag's MD5). */
  readonly checks: readonly ExpectedDigest[]
}

/** A listed remote bundle and how to read each of its files. */
export interface RemoteSource {
  /** The URI as given (reported in the bundle). */
  readonly uri: string
  /** The source's identity in the cache (the URI without a version pin). */
  readonly cacheKey: string
  readonly kind: 's3' | 'https'
  readonly name: string
  readonly files: readonly RemoteFile[]
  /** Whether ranged reads (parallel parts) are possible. */
  readonly ranged: boolean
  /** Digests known only by asking about one file (S3 object checksums), before its download. */
  describe(file: RemoteFile, signal: AbortSignal): Promise<readonly ExpectedDigest[]>
  /** A reader for `file` that fails with SOURCE_CHANGED when it is no longer `file.version`. */
  reader(file: RemoteFile): RangeReader
}

/** What the cache needs of one load: its options, deadline signal and download settings. */
export type CacheContext = Pick<
  LoadModelOptions,
  'cacheDir' | 'logger' | 'maxCacheBytes' | 'sha256'
> & {
  readonly signal: AbortSignal
  readonly settings: PartSettings
}

/** Downloads every file (SHA256SUMS first: it verifies the others), then writes the manifest. */
async function downloadEntry(
  ctx: CacheContext,
  source: RemoteSource,
  layout: { dir: string; version: string }
): Promise<Manifest> {
  const isSums = (f: RemoteFile): number => Number(f.name === BUNDLE_FILES.checksums)
  const ordered = [...source.files].sort((a, b) => isSums(b) - isSums(a))
  // every file's HEAD at once (S3 checksums), not one round trip before each download
  const describing = ordered.map((file) => source.describe(file, ctx.signal))
  for (const d of describing) d.catch(() => undefined) // awaited in turn below; the first throws
  let sums = new Map<string, string>()
  const files: Record<string, ManifestFile> = {}
  for (const [i, file] of ordered.entries()) {
    const target = path.join(layout.dir, file.name)
    const checks = [...file.checks, ...(await describing[i]!)]
    checks.push(...expectedChecks(file.name, sums, ctx.sha256))
    files[file.name] = await downloadFile(ctx, source, file, target, checks)
    if (isSums(file)) sums = parseSha256Sums(await readFile(target, 'utf8'))
  }
  const completedAt = new Date().toISOString()
  const manifest = {
    uri: source.uri,
    name: source.name,
    version: layout.version,
    files,
    completedAt,
  }
  await writeManifest(layout.dir, manifest)
  return manifest
}

/**
 * Under the source's lock: cleans up, reuses the complete entry of the listed version or downloads
 * one (files first, manifest last) and leases it; then records the use and applies the size cap.
 */
export async function materializeRemote(
  ctx: CacheContext,
  source: RemoteSource
): Promise<ModelBundle> {
  const removed = await sweepCacheOnce(ctx.cacheDir)
  const { sourceDir, dir, version } = entryLayout(ctx.cacheDir, source)
  const lock = await acquireLock(path.join(sourceDir, SOURCE_LOCK), {
    signal: ctx.signal,
    onWait: (holder) => {
      const fields = { uri: source.uri, holderPid: holder?.pid, holderHost: holder?.host }
      ctx.logger?.info(fields, 'another process is loading this model: waiting for it')
    },
  })
  let manifest: Manifest | undefined
  let origin: BundleOrigin = 'cache'
  let release: () => Promise<void>
  try {
    removed.push(...(await sweepSource(sourceDir)))
    if (removed.length > 0) {
      ctx.logger?.info({ removed }, 'model cache: removed leftovers of interrupted loads')
    }
    manifest = await readMatchingManifest(dir, source)
    if (!manifest) {
      manifest = await downloadEntry(ctx, source, { dir, version })
      origin = 'download'
    }
    release = await leaseEntry(dir) // before unlocking: eviction cannot slip in between
  } finally {
    await lock.release()
  }
  await recordUseAndEvict(ctx.cacheDir, dir, ctx.maxCacheBytes, ctx.logger)
  const downloadedBytes =
    origin === 'download' ? Object.values(manifest.files).reduce((sum, f) => sum + f.size, 0) : 0
  const details = { uri: source.uri, name: source.name, downloadedBytes, origin }
  return bundleFromEntry(dir, manifest, details, release)
}

/**
 * A GET's body, unless its version changed (`changed` says how: SOURCE_CHANGED) or the server
 * ignored `range` (DOWNLOAD_FAILED, retried); the body is destroyed then.
 */
export function checkedBody(
  where: string,
  body: Readable,
  range: ByteRange | undefined,
  { changed, contentRange }: { changed: string | undefined; contentRange: string | undefined }
): Readable {
  if (changed !== undefined) {
    body.destroy()
    throw new ModelLoaderError('SOURCE_CHANGED', `${where} changed while loading (${changed})`)
  }
  if (range && !contentRange?.startsWith(`bytes ${range.start}-`)) {
    body.destroy()
    const msg = `${where}: asked ${rangeHeader(range)}, got ${contentRange ?? 'all of it'}`
    throw new ModelLoaderError('DOWNLOAD_FAILED', msg, { cause: new Error('range ignored') })
  }
  return body
}

/**
 * Offline start: the most recently used copy of `loc` in the cache (only the pinned S3 version, if
 * any) whose file sizes and model sha256 still match, leased; waits 30 s at most for the lock.
 */
export async function loadOfflineCopy(
  cacheDir: string,
  uri: string,
  loc: RemoteLocation
): Promise<ModelBundle | undefined> {
  const identity = sourceIdentity(loc)
  const sourceDir = sourceDirFor(cacheDir, identity)
  const pinned = loc.kind === 's3-object' ? loc.versionId : undefined
  const entries = (await listEntries(cacheDir, [sourceDir]))
    .filter((e) => pinned === undefined || path.basename(e.dir) === safeName(pinned))
    .sort((a, b) => b.lastUsedMs - a.lastUsedMs)
  if (entries.length === 0) return undefined
  const signal = AbortSignal.timeout(30_000)
  const lock = await acquireLock(path.join(sourceDir, SOURCE_LOCK), { signal })
  try {
    for (const { dir, manifest, sha256 } of entries) {
      if (!sha256 || !(await filesPresent(dir, manifest))) continue
      // hashed again only when the file changed: polling while offline does not re-read it
      if ((await sha256File(path.join(dir, modelFileOf(manifest)))) !== sha256) continue
      const origin: BundleOrigin = 'offline-cache'
      const details = { uri, name: identity.name, downloadedBytes: 0, origin }
      return bundleFromEntry(dir, manifest, details, await leaseEntry(dir))
    }
    return undefined
  } finally {
    await lock.release()
  }
}
