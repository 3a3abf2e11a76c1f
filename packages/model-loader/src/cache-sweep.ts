/** Cache upkeep under each source's lock: clean-up after interrupted loads, size cap (README). */
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { isTempName, listDir, removeDirAtomically, TRASH_PREFIX } from './atomic-write.js'
import { tryLock } from './file-lock.js'
import { hasLiveLease } from './leases.js'
import { MANIFEST, SOURCE_KINDS, SOURCE_LOCK, listEntries, markUsed } from './manifest.js'
import type { CacheEntry } from './manifest.js'
import type { LoaderLogger } from './progress.js'

const swept = new Set<string>()

/**
 * Cleans one source directory (the caller holds its lock): temp files, entries without a manifest,
 * half-deleted entries and broken locks' leftovers; complete entries stay. Returns what it removed.
 */
export async function sweepSource(sourceDir: string): Promise<string[]> {
  const removed: string[] = []
  for (const entry of await listDir(sourceDir)) {
    const full = path.join(sourceDir, entry.name)
    if (entry.name.startsWith(TRASH_PREFIX) || entry.name.startsWith(`${SOURCE_LOCK}.stale-`)) {
      await rm(full, { recursive: true, force: true })
      removed.push(full)
    } else if (entry.isDirectory() && !entry.name.startsWith('.')) {
      const names = (await listDir(full)).map((e) => e.name)
      if (!names.includes(MANIFEST)) {
        await removeDirAtomically(full) // never completed: its owner died mid-download
        removed.push(full)
        continue
      }
      for (const name of names.filter(isTempName)) {
        await rm(path.join(full, name), { force: true })
        removed.push(path.join(full, name))
      }
    }
  }
  return removed
}

/** Once per process and cache directory: sweeps every source whose lock is free. */
export async function sweepCacheOnce(cacheDir: string): Promise<string[]> {
  if (swept.has(cacheDir)) return []
  swept.add(cacheDir)
  const removed: string[] = []
  for (const kind of SOURCE_KINDS) {
    for (const source of await listDir(path.join(cacheDir, kind))) {
      const lock = source.isDirectory()
        ? await tryLock(path.join(cacheDir, kind, source.name, SOURCE_LOCK))
        : undefined
      if (!lock) continue
      try {
        removed.push(...(await sweepSource(path.join(cacheDir, kind, source.name))))
      } finally {
        await lock.release()
      }
    }
  }
  return removed
}

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
 * (never `current`) while the total exceeds `maxBytes` (undefined: no cap). Logs, never throws.
 */
export async function recordUseAndEvict(
  cacheDir: string,
  current: string,
  maxBytes: number | undefined,
  logger: LoaderLogger | undefined
): Promise<void> {
  try {
    await markUsed(current)
    const entries = maxBytes === undefined ? [] : await listEntries(cacheDir)
    let total = entries.reduce((sum, e) => sum + e.bytes, 0)
    for (const e of entries.sort((a, b) => a.lastUsedMs - b.lastUsedMs)) {
      if (total <= maxBytes!) break
      if (e.dir === current || !(await evictOne(e))) continue
      total -= e.bytes
      logger?.info({ dir: e.dir, bytes: e.bytes, uri: e.uri }, 'model cache: evicted')
    }
  } catch (err) {
    logger?.warn({ err, cacheDir }, 'model cache: recording the use or eviction failed')
  }
}
