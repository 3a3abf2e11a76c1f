/** Offline start: the last verified cached copy of a source that cannot be reached (see README). */
import path from 'node:path'
import type { ModelBundle } from './bundle.js'
import { safeName, SOURCE_LOCK, sourceDirFor } from './cache-layout.js'
import { sha256File } from './file-hasher.js'
import { acquireLock } from './file-lock.js'
import { leaseEntry } from './leases.js'
import { bundleFromEntry, filesPresent, listEntries, modelFileOf } from './manifest.js'
import type { CacheEntry } from './manifest.js'
import { sourceIdentity } from './model-uri.js'
import type { RemoteLocation } from './model-uri.js'

/** Whether the entry's files have their sizes and its model its sha256 (re-read only when changed). */
async function verified({ dir, manifest, sha256 }: CacheEntry): Promise<boolean> {
  const model = path.join(dir, modelFileOf(manifest))
  return (await filesPresent(dir, manifest)) && (await sha256File(model)) === sha256
}

/**
 * The most recently used verified copy of `loc` in the cache (only the pinned S3 version, if any),
 * leased; undefined when there is none. Waits at most `lockWaitMs` for the source's lock.
 */
export async function loadOfflineCopy(
  cacheDir: string,
  uri: string,
  loc: RemoteLocation,
  lockWaitMs = 30_000
): Promise<ModelBundle | undefined> {
  const identity = sourceIdentity(loc)
  const sourceDir = sourceDirFor(cacheDir, identity)
  const pinned = loc.kind === 's3-object' ? loc.versionId : undefined
  const entries = (await listEntries(cacheDir, [sourceDir]))
    .filter((e) => pinned === undefined || path.basename(e.dir) === safeName(pinned))
    .sort((a, b) => b.lastUsedMs - a.lastUsedMs)
  if (entries.length === 0) return undefined
  const lock = await acquireLock(path.join(sourceDir, SOURCE_LOCK), {
    signal: AbortSignal.timeout(lockWaitMs),
  })
  try {
    for (const entry of entries) {
      if (!entry.sha256 || !(await verified(entry))) continue
      const details = {
        uri,
        name: identity.name,
        downloadedBytes: 0,
        origin: 'offline-cache' as const,
      }
      return bundleFromEntry(entry.dir, entry.manifest, details, await leaseEntry(entry.dir))
    }
    return undefined
  } finally {
    await lock.release()
  }
}
