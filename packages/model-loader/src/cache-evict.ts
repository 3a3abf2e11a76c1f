/**
 * Size cap: after a load, the least recently used entries are deleted until the cache fits in
 * `maxBytes`, skipping every entry in use (a live lease from any process) or whose source is
 * locked (being checked or downloaded right now), and always the entry just loaded.
 */
import path from 'node:path'
import { updateIndex } from './cache-index.js'
import type { IndexEntry } from './cache-index.js'
import { SOURCE_LOCK } from './cache-layout.js'
import { tryLock } from './file-lock.js'
import { removeDirAtomically } from './fs-util.js'
import { hasLiveLease } from './leases.js'

async function evictOne(cacheDir: string, entry: IndexEntry): Promise<boolean> {
  const dir = path.join(cacheDir, entry.dir)
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
 * Records that `current` was just used, then evicts least recently used entries while the
 * total exceeds `maxBytes` (undefined: no cap). Returns the evicted entries.
 */
export async function recordUseAndEvict(
  cacheDir: string,
  current: IndexEntry,
  maxBytes: number | undefined,
  signal: AbortSignal | undefined
): Promise<IndexEntry[]> {
  return updateIndex(cacheDir, signal, async (index) => {
    index.entries = [...index.entries.filter((e) => e.dir !== current.dir), current]
    if (maxBytes === undefined) return []
    let total = index.entries.reduce((sum, e) => sum + e.bytes, 0)
    const evicted: IndexEntry[] = []
    const oldestFirst = [...index.entries].sort((a, b) => a.lastUsedAt.localeCompare(b.lastUsedAt))
    for (const entry of oldestFirst) {
      if (total <= maxBytes) break
      if (entry.dir === current.dir || !(await evictOne(cacheDir, entry))) continue
      total -= entry.bytes
      evicted.push(entry)
    }
    index.entries = index.entries.filter((e) => !evicted.includes(e))
    return evicted
  })
}
