/**
 * `<cacheDir>/index.json`: one record per complete entry (source, version, size, sha256, when
 * completed, when last used), updated under `<cacheDir>/.index.lock`. Manifests stay the source
 * of truth: a missing or unreadable index is rebuilt from them.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { writeJsonAtomically } from './atomic-write.js'
import { BUNDLE_FILES } from './bundle.js'
import { SOURCE_KINDS } from './cache-layout.js'
import { acquireLock } from './file-lock.js'
import { listDir } from './fs-util.js'
import { readManifest } from './manifest.js'
import type { Manifest } from './manifest.js'

/** One complete cache entry. */
export interface IndexEntry {
  /** The entry's directory, relative to the cache directory. */
  readonly dir: string
  readonly uri: string
  readonly version: string
  /** Total bytes of the entry's files. */
  readonly bytes: number
  /** sha256 of model.onnx. */
  readonly sha256: string
  readonly completedAt: string
  readonly lastUsedAt: string
}

/** The whole index. */
export interface CacheIndex {
  entries: IndexEntry[]
}

const INDEX = 'index.json'
const INDEX_LOCK = '.index.lock'

/** The index record for a manifest found in `dir`. */
export function entryFor(
  cacheDir: string,
  dir: string,
  manifest: Manifest,
  usedAt: string
): IndexEntry {
  return {
    dir: path.relative(cacheDir, dir),
    uri: manifest.uri,
    version: manifest.version,
    bytes: Object.values(manifest.files).reduce((sum, f) => sum + f.size, 0),
    sha256: manifest.files[BUNDLE_FILES.model]?.sha256 ?? '',
    completedAt: manifest.completedAt,
    lastUsedAt: usedAt,
  }
}

async function subdirs(dir: string): Promise<string[]> {
  return (await listDir(dir))
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => path.join(dir, e.name))
}

/** Rebuilds the index from the manifests on disk (last use = completion time). */
export async function scanEntries(cacheDir: string): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = []
  for (const kind of SOURCE_KINDS) {
    for (const sourceDir of await subdirs(path.join(cacheDir, kind))) {
      for (const dir of await subdirs(sourceDir)) {
        const manifest = await readManifest(dir)
        if (manifest) entries.push(entryFor(cacheDir, dir, manifest, manifest.completedAt))
      }
    }
  }
  return entries
}

/** Reads the index without locking (a snapshot, e.g. to pick an offline copy). */
export async function readIndex(cacheDir: string): Promise<CacheIndex> {
  try {
    const index = JSON.parse(await readFile(path.join(cacheDir, INDEX), 'utf8')) as CacheIndex
    if (Array.isArray(index.entries)) return index
  } catch {
    // absent or unreadable: rebuilt from the manifests below
  }
  return { entries: await scanEntries(cacheDir) }
}

/** Runs `update` on the index under the index lock, then writes it back atomically. */
export async function updateIndex<T>(
  cacheDir: string,
  signal: AbortSignal | undefined,
  update: (index: CacheIndex) => Promise<T>
): Promise<T> {
  const lock = await acquireLock(path.join(cacheDir, INDEX_LOCK), { signal })
  try {
    const index = await readIndex(cacheDir)
    const result = await update(index)
    await writeJsonAtomically(path.join(cacheDir, INDEX), index)
    return result
  } finally {
    await lock.release()
  }
}
