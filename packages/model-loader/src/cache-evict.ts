/**
 * Size cap: after a load, the least recently used entries are deleted until the cache fits in
 * `maxBytes`, skipping every entry in use (a live lease from any process) or whose source is
 * locked (being checked or downloaded right now), and always the entry just loaded.
 */
import path from 'node:path'
import { listEntries, markUsed } from './cache-entries.js'
import type { CacheEntry } from './cache-entries.js'
import { SOURCE_LOCK } from './cache-layout.js'
import { tryLock } from './file-lock.js'
import { removeDirAtomically } from './fs-util.js'
import { hasLiveLease } from './leases.js'

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
 * while the total exceeds `maxBytes` (undefined: no cap). Returns the evicted entries.
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
