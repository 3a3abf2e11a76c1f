/** The cache's layout and its entries' manifests, written last (see README, Cache). */
import { createHash } from 'node:crypto'
import { readFile, stat, utimes } from 'node:fs/promises'
import path from 'node:path'
import { listDir, unlessMissing, writeJsonAtomically } from './atomic-write.js'
import { BUNDLE_FILES, NESTED_BUNDLE_PATHS } from './bundle.js'
import type { BundleOrigin, ModelBundle } from './bundle.js'
import type { RemoteSource } from './remote-cache.js'

/** Written last into an entry: its presence means the entry is complete and verified. */
export const MANIFEST = 'manifest.json'
/** The per-source lock file (held while checking, downloading or evicting that source). */
export const SOURCE_LOCK = '.lock'
/** Kinds of remote source, each a top-level directory of the cache. */
export const SOURCE_KINDS = ['s3', 'https'] as const

const sha = (text: string): string => createHash('sha256').update(text).digest('hex')
/** A string made safe as one path segment (as version directory names are). */
export const safeName = (text: string): string =>
  text.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80)

/** `<cacheDir>/<kind>/<name>-<hash of cacheKey>`: a source's directory, known without asking. */
export const sourceDirFor = (
  cacheDir: string,
  { kind, name, cacheKey }: Pick<RemoteSource, 'kind' | 'name' | 'cacheKey'>
): string => path.join(cacheDir, kind, `${safeName(name)}-${sha(cacheKey).slice(0, 12)}`)

/** A listed source's directory and version's (the one file's version, or a digest of all). */
export function entryLayout(
  cacheDir: string,
  source: RemoteSource
): { sourceDir: string; dir: string; version: string } {
  const [only] = source.files
  const version =
    source.files.length === 1 && only
      ? only.version
      : sha(source.files.map((f) => `${f.name}:${f.version}`).join('\n')).slice(0, 16)
  const sourceDir = sourceDirFor(cacheDir, source)
  return { sourceDir, dir: path.join(sourceDir, safeName(version)), version }
}

/** One verified file of an entry. */
export interface ManifestFile {
  readonly version: string
  readonly size: number
  readonly sha256: string
  readonly verifiedBy?: readonly string[]
}

/** `manifest.json` of a cache entry. */
export interface Manifest {
  readonly uri: string
  readonly name?: string
  readonly version: string
  readonly files: Readonly<Record<string, ManifestFile>>
  readonly completedAt: string
}

/** The manifest in `dir`, or undefined when absent or unreadable (the entry is incomplete). */
export const readManifest = (dir: string): Promise<Manifest | undefined> =>
  readFile(path.join(dir, MANIFEST), 'utf8')
    .then((text) => JSON.parse(text) as Manifest)
    .catch(() => undefined) // absent or unreadable (half-written JSON included)

/** Writes the manifest (atomically, last). */
export const writeManifest = (dir: string, manifest: Manifest): Promise<void> =>
  writeJsonAtomically(path.join(dir, MANIFEST), manifest)

/** Whether every file in `manifest` is present with its recorded size. */
export async function filesPresent(dir: string, manifest: Manifest): Promise<boolean> {
  for (const [name, file] of Object.entries(manifest.files)) {
    const info = await unlessMissing(stat(path.join(dir, name)))
    if (info?.size !== file.size) return false
  }
  return true
}

/** The manifest in `dir` when it matches the listing (same files, versions and sizes on disk). */
export async function readMatchingManifest(
  dir: string,
  source: Pick<RemoteSource, 'files'>
): Promise<Manifest | undefined> {
  const manifest = await readManifest(dir)
  const matches =
    manifest !== undefined &&
    Object.keys(manifest.files).length === source.files.length &&
    source.files.every((f) => manifest.files[f.name]?.version === f.version)
  return matches && (await filesPresent(dir, manifest)) ? manifest : undefined
}

/** The entry's model file name: `model.onnx`, or `onnx/model.onnx` of a Transformers.js layout. */
export const modelFileOf = (manifest: Manifest): string =>
  manifest.files[BUNDLE_FILES.model] ? BUNDLE_FILES.model : NESTED_BUNDLE_PATHS.nestedModel

/** The bundle a cache entry describes. */
export function bundleFromEntry(
  dir: string,
  manifest: Manifest,
  details: { uri: string; name: string; downloadedBytes: number; origin: BundleOrigin },
  release: () => Promise<void>
): ModelBundle {
  const has = (name: string): string | undefined =>
    manifest.files[name] ? path.join(dir, name) : undefined
  const model = manifest.files[modelFileOf(manifest)]
  const selfTest = `${NESTED_BUNDLE_PATHS.selfTest}/`
  return {
    ...details,
    modelPath: path.join(dir, modelFileOf(manifest)),
    labelsPath: has(BUNDLE_FILES.labels),
    configPath: has(BUNDLE_FILES.config),
    preprocessorConfigPath: has(BUNDLE_FILES.preprocessorConfig),
    featuresPath: has(BUNDLE_FILES.features),
    selfTestDir: Object.keys(manifest.files).some((name) => name.startsWith(selfTest))
      ? path.join(dir, NESTED_BUNDLE_PATHS.selfTest)
      : undefined,
    version: manifest.version,
    sha256: model?.sha256 ?? '',
    verifiedBy: model?.verifiedBy ?? [],
    release,
  }
}

/** One complete cache entry; its last use is its manifest's mtime, set at every load. */
export interface CacheEntry {
  readonly dir: string
  readonly manifest: Manifest
  readonly uri: string
  /** sha256 of the model file. */
  readonly sha256: string
  /** Total bytes of the entry's files. */
  readonly bytes: number
  /** When it was last used (ms since the epoch). */
  readonly lastUsedMs: number
}

const subdirs = async (dir: string): Promise<string[]> =>
  (await listDir(dir))
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => path.join(dir, e.name))

/** The complete entries under `sourceDirs` (default: every source of `cacheDir`). */
export async function listEntries(cacheDir: string, sourceDirs?: string[]): Promise<CacheEntry[]> {
  const entries: CacheEntry[] = []
  const all = (): Promise<string[][]> =>
    Promise.all(SOURCE_KINDS.map((kind) => subdirs(path.join(cacheDir, kind))))
  for (const sourceDir of sourceDirs ?? (await all()).flat()) {
    for (const dir of await subdirs(sourceDir)) {
      const manifest = await readManifest(dir)
      const used = await stat(path.join(dir, MANIFEST)).catch(() => undefined)
      if (!manifest || !used) continue
      const bytes = Object.values(manifest.files).reduce((sum, f) => sum + f.size, 0)
      const sha256 = manifest.files[modelFileOf(manifest)]?.sha256 ?? ''
      entries.push({ dir, manifest, uri: manifest.uri, sha256, bytes, lastUsedMs: used.mtimeMs })
    }
  }
  return entries
}

/** Records that the entry in `dir` was just used. */
export async function markUsed(dir: string): Promise<void> {
  const now = new Date()
  await utimes(path.join(dir, MANIFEST), now, now)
}
