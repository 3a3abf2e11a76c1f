/**
 * Materialises a listed remote bundle (S3 or HTTPS) in the disk cache. Under the source's lock:
 * clean up, reuse a complete entry of the listed version or download one (files first, manifest
 * last), lease it; then record the use and apply the size cap.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { BUNDLE_FILES, NESTED_BUNDLE_PATHS } from './bundle.js'
import type { BundleOrigin, ModelBundle } from './bundle.js'
import { recordUseAndEvict } from './cache-evict.js'
import { entryLayout } from './cache-layout.js'
import type { EntryLayout } from './cache-layout.js'
import { sweepCacheOnce, sweepSource } from './cache-sweep.js'
import { parseSha256Sums } from './checksums.js'
import type { ExpectedDigest } from './checksums.js'
import { downloadFile } from './download-file.js'
import { acquireLock } from './file-lock.js'
import { leaseEntry } from './leases.js'
import { bundleFromEntry, readMatchingManifest, writeManifest } from './manifest.js'
import type { Manifest, ManifestFile } from './manifest.js'
import type { LoaderLogger } from './progress.js'
import type { PartSettings } from './ranged-download.js'
import type { RemoteFile, RemoteSource } from './remote-source.js'

/** Settings of one load that the cache needs. */
export interface CacheContext {
  readonly cacheDir: string
  readonly settings: PartSettings
  readonly logger: LoaderLogger | undefined
  readonly signal: AbortSignal
  readonly maxCacheBytes: number | undefined
  /** Expected sha256 of model.onnx, from the caller. */
  readonly sha256: string | undefined
}

interface Entry {
  readonly manifest: Manifest
  readonly downloadedBytes: number
  readonly origin: BundleOrigin
}

function extraChecks(
  ctx: CacheContext,
  file: RemoteFile,
  sums: Map<string, string>
): ExpectedDigest[] {
  const checks: ExpectedDigest[] = []
  const listed = sums.get(file.name)
  if (listed) checks.push({ algorithm: 'sha256', hex: listed, source: BUNDLE_FILES.checksums })
  const isModel = file.name === BUNDLE_FILES.model || file.name === NESTED_BUNDLE_PATHS.nestedModel
  if (isModel && ctx.sha256) {
    checks.push({
      algorithm: 'sha256',
      hex: ctx.sha256.toLowerCase(),
      source: 'the expected sha256',
    })
  }
  return checks
}

async function downloadOne(
  ctx: CacheContext,
  source: RemoteSource,
  target: string,
  file: RemoteFile,
  sums: Map<string, string>,
  describing: Promise<readonly ExpectedDigest[]>
): Promise<ManifestFile> {
  const described = await describing
  const done = await downloadFile({
    target,
    name: file.name,
    label: file.location,
    size: file.size,
    checks: [...file.checks, ...described, ...extraChecks(ctx, file, sums)],
    read: source.reader(file),
    ranged: source.ranged,
    settings: ctx.settings,
    logger: ctx.logger,
    signal: ctx.signal,
  })
  return { version: file.version, ...done }
}

async function downloadEntry(
  ctx: CacheContext,
  source: RemoteSource,
  layout: EntryLayout
): Promise<Entry> {
  const isSums = (f: RemoteFile): number => Number(f.name === BUNDLE_FILES.checksums)
  const ordered = [...source.files].sort((a, b) => isSums(b) - isSums(a)) // SHA256SUMS first
  // every file's HEAD at once (S3 checksums), not one round trip before each download
  const describing = ordered.map((file) => source.describe(file, ctx.signal))
  for (const d of describing) d.catch(() => undefined) // awaited in turn below; the first throws
  const sums = new Map<string, string>()
  const files: Record<string, ManifestFile> = {}
  for (const [i, file] of ordered.entries()) {
    const target = path.join(layout.dir, file.name)
    files[file.name] = await downloadOne(ctx, source, target, file, sums, describing[i]!)
    if (file.name === BUNDLE_FILES.checksums) {
      for (const [name, hex] of parseSha256Sums(await readFile(target, 'utf8'))) sums.set(name, hex)
    }
  }
  const manifest: Manifest = {
    uri: source.uri,
    name: source.name,
    version: layout.version,
    files,
    completedAt: new Date().toISOString(),
  }
  await writeManifest(layout.dir, manifest)
  const downloadedBytes = Object.values(files).reduce((sum, f) => sum + f.size, 0)
  return { manifest, downloadedBytes, origin: 'download' }
}

/** Records the use and applies the size cap; logs, never throws: the model is ready. */
async function recordUse(ctx: CacheContext, dir: string): Promise<void> {
  try {
    const evicted = await recordUseAndEvict(ctx.cacheDir, dir, ctx.maxCacheBytes)
    for (const e of evicted) {
      ctx.logger?.info({ dir: e.dir, bytes: e.bytes, uri: e.uri }, 'model cache: evicted')
    }
  } catch (err) {
    const fields = { err, cacheDir: ctx.cacheDir }
    ctx.logger?.warn(fields, 'model cache: recording the use or eviction failed')
  }
}

/**
 * Returns the cached entry when every file's version matches the listing; otherwise downloads
 * and verifies each file, then writes the manifest, so an entry is only ever used complete.
 */
export async function materializeRemote(
  ctx: CacheContext,
  source: RemoteSource
): Promise<ModelBundle> {
  const leftovers = await sweepCacheOnce(ctx.cacheDir)
  const layout = entryLayout(ctx.cacheDir, source)
  const lock = await acquireLock(layout.lockFile, {
    signal: ctx.signal,
    onWait: (holder) => {
      const fields = { uri: source.uri, holderPid: holder?.pid, holderHost: holder?.host }
      ctx.logger?.info(fields, 'another process is loading this model: waiting for it')
    },
  })
  let entry: Entry
  let release: () => Promise<void>
  try {
    leftovers.push(...(await sweepSource(layout.sourceDir)))
    if (leftovers.length > 0) {
      ctx.logger?.info(
        { removed: leftovers },
        'model cache: removed leftovers of interrupted loads'
      )
    }
    const cached = await readMatchingManifest(layout.dir, source)
    entry = cached
      ? { manifest: cached, downloadedBytes: 0, origin: 'cache' }
      : await downloadEntry(ctx, source, layout)
    release = await leaseEntry(layout.dir) // before unlocking: eviction cannot slip in between
  } finally {
    await lock.release()
  }
  await recordUse(ctx, layout.dir)
  const { downloadedBytes, origin } = entry
  const details = { uri: source.uri, name: source.name, downloadedBytes, origin }
  return bundleFromEntry(layout.dir, entry.manifest, details, release)
}
