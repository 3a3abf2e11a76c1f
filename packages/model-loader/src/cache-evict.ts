/** Size cap: least recently used entries not in use are deleted (see README, Cache). */
import path from 'node:path'
import { removeDirAtomically } from './atomic-write.js'
import { SOURCE_LOCK } from './cache-layout.js'
import { tryLock } from './file-lock.js'
import { hasLiveLease } from './leases.js'
import { listEntries, markUsed } from './manifest.js'
import type { CacheEntry } from './manifest.js'

/** Deletes the entry unless it is leased or its source is locked (being loaded right now). */
async function evictOne({ dir }: CacheEntry): Promise<boolean> {
  const lock = await tryLock(path.join(path.dirname(dir), SOURCE_LOCK))
  if (!lock) return false
  try {
    if (await hasLiveLease(dir)) return false
    await removeDirAtomically(dir)
    return true
  } finally {
    await lock.release()
  }
}

/**
 * Records that the entry in `current` was just used, then evicts least recently used entries
 * (never `current`) while the total exceeds `maxBytes` (undefined: no cap). Returns the evicted.
 */
export async function recordUseAndEvict(
  cacheDir: string,
  current: string,
  maxBytes: number | undefined
): Promise<CacheEntry[]> {
  await markUsed(current)
  if (maxBytes === undefined) return []
  const entries = await listEntries(cacheDir)
  let total = entries.reduce((sum, e) => sum + e.bytes, 0)
  const evicted: CacheEntry[] = []
  for (const entry of entries.sort((a, b) => a.lastUsedMs - b.lastUsedMs)) {
    if (total <= maxBytes) break
    if (entry.dir === current || !(await evictOne(entry))) continue
    total -= entry.bytes
    evicted.push(entry)
  }
  return evicted
}
