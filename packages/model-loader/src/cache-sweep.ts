/**
 * Start-up and per-source cleanup. Runs only while holding the source's lock, so nothing found
 * there is being written by a live process: temp files, entries without a manifest (a download
 * cut short by a kill), half-deleted entries and leftovers of broken locks are all removed.
 * Complete entries are never touched here.
 */
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { isTempName, MANIFEST, SOURCE_KINDS, SOURCE_LOCK } from './cache-layout.js'
import { tryLock } from './file-lock.js'
import { listDir, removeDirAtomically, TRASH_PREFIX } from './fs-util.js'

const swept = new Set<string>()

/** Cleans one source directory; the caller holds its lock. Returns what it removed. */
export async function sweepSource(sourceDir: string): Promise<string[]> {
  const removed: string[] = []
  for (const entry of await listDir(sourceDir)) {
    const full = path.join(sourceDir, entry.name)
    if (entry.name.startsWith(TRASH_PREFIX) || entry.name.startsWith(`${SOURCE_LOCK}.stale-`)) {
      await rm(full, { recursive: true, force: true })
      removed.push(full)
      continue
    }
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
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
  return removed
}

/**
 * Once per process and cache directory: sweeps every source whose lock is free (a source
 * being loaded by another process is left to it).
 */
export async function sweepCacheOnce(cacheDir: string): Promise<string[]> {
  if (swept.has(cacheDir)) return []
  swept.add(cacheDir)
  const removed: string[] = []
  for (const kind of SOURCE_KINDS) {
    for (const source of await listDir(path.join(cacheDir, kind))) {
      if (!source.isDirectory()) continue
      const sourceDir = path.join(cacheDir, kind, source.name)
      const lock = await tryLock(path.join(sourceDir, SOURCE_LOCK))
      if (!lock) continue
      try {
        removed.push(...(await sweepSource(sourceDir)))
      } finally {
        await lock.release()
      }
    }
  }
  return removed
}
