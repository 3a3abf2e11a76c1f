/**
 * Offline start: when the source cannot be reached, the most recently used complete entry of the
 * same source (the pinned version, if any) is re-verified (sizes and model sha256) and returned.
 */
import path from 'node:path'
import type { ModelBundle } from './bundle.js'
import { listEntries } from './cache-entries.js'
import { safeName, SOURCE_LOCK, sourceDirFor } from './cache-layout.js'
import { acquireLock } from './file-lock.js'
import { sha256File } from './hash-file.js'
import { leaseEntry } from './leases.js'
import { bundleFromEntry, filesPresent, modelFileOf, readManifest } from './manifest.js'
import type { Manifest } from './manifest.js'
import type { RemoteSource } from './remote-source.js'

/** The offline source: its identity, computed without the network. */
export interface OfflineSource {
  readonly uri: string
  readonly kind: RemoteSource['kind']
  readonly name: string
  readonly cacheKey: string
  /** Only this version directory (a pinned S3 VersionId). */
  readonly version?: string | undefined
}

/** The source's complete entries (only `version`'s, if given), most recently used first. */
async function candidates(
  cacheDir: string,
  sourceDir: string,
  version: string | undefined
): Promise<string[]> {
  return (await listEntries(cacheDir, [sourceDir]))
    .filter((e) => version === undefined || path.basename(e.dir) === safeName(version))
    .sort((a, b) => b.lastUsedMs - a.lastUsedMs)
    .map((e) => e.dir)
}

async function verifiedEntry(dir: string): Promise<Manifest | undefined> {
  const manifest = await readManifest(dir)
  if (!manifest || !(await filesPresent(dir, manifest))) return undefined
  const model = manifest.files[modelFileOf(manifest)]
  if (!model) return undefined
  // re-read only when changed: polling while offline must not re-hash each time
  const sha256 = await sha256File(path.join(dir, modelFileOf(manifest)))
  return sha256 === model.sha256 ? manifest : undefined
}

/**
 * The last verified cached copy of `source`, leased, or undefined when there is none. Waits at
 * most `lockWaitMs` for the source's lock.
 */
export async function loadOfflineCopy(
  cacheDir: string,
  source: OfflineSource,
  lockWaitMs = 30_000
): Promise<ModelBundle | undefined> {
  const sourceDir = sourceDirFor(cacheDir, source.kind, source.name, source.cacheKey)
  const dirs = await candidates(cacheDir, sourceDir, source.version)
  if (dirs.length === 0) return undefined
  const lock = await acquireLock(path.join(sourceDir, SOURCE_LOCK), {
    signal: AbortSignal.timeout(lockWaitMs),
  })
  try {
    for (const dir of dirs) {
      const manifest = await verifiedEntry(dir)
      if (!manifest) continue
      const release = await leaseEntry(dir)
      const details = {
        uri: source.uri,
        name: source.name,
        downloadedBytes: 0,
        origin: 'offline-cache' as const,
      }
      return bundleFromEntry(dir, manifest, details, release)
    }
    return undefined
  } finally {
    await lock.release()
  }
}
