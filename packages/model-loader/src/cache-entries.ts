/**
 * The complete entries of a cache directory (those with a `manifest.json`), and when each was
 * last used: the manifest's mtime, set at every use. The manifests are the only record: nothing
 * to rebuild or to keep in step.
 */
import { stat, utimes } from 'node:fs/promises'
import path from 'node:path'
import { MANIFEST, SOURCE_KINDS } from './cache-layout.js'
import { listDir } from './fs-util.js'
import { modelFileOf, readManifest } from './manifest.js'

/** One complete cache entry. */
export interface CacheEntry {
  readonly dir: string
  readonly uri: string
  /** Total bytes of the entry's files. */
  readonly bytes: number
  /** sha256 of model.onnx. */
  readonly sha256: string
  /** When it was last used (ms since the epoch). */
  readonly lastUsedMs: number
}

async function subdirs(dir: string): Promise<string[]> {
  return (await listDir(dir))
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => path.join(dir, e.name))
}

/** The complete entries under `sourceDirs` (default: every source of `cacheDir`). */
export async function listEntries(cacheDir: string, sourceDirs?: string[]): Promise<CacheEntry[]> {
  const entries: CacheEntry[] = []
  const sources =
    sourceDirs ??
    (await Promise.all(SOURCE_KINDS.map((kind) => subdirs(path.join(cacheDir, kind))))).flat()
  for (const sourceDir of sources) {
    for (const dir of await subdirs(sourceDir)) {
      const manifest = await readManifest(dir)
      const used = await stat(path.join(dir, MANIFEST)).catch(() => undefined)
      if (!manifest || !used) continue
      entries.push({
        dir,
        uri: manifest.uri,
        bytes: Object.values(manifest.files).reduce((sum, f) => sum + f.size, 0),
        sha256: manifest.files[modelFileOf(manifest)]?.sha256 ?? '',
        lastUsedMs: used.mtimeMs,
      })
    }
  }
  return entries
}

/** Records that the entry in `dir` was just used. */
export async function markUsed(dir: string): Promise<void> {
  const now = new Date()
  await utimes(path.join(dir, MANIFEST), now, now)
}
