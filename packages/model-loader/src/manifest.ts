/** A cache entry's manifest: written last, it says the entry is complete and what it holds. */
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { writeJsonAtomically } from './atomic-write.js'
import { BUNDLE_FILES, NESTED_BUNDLE_PATHS } from './bundle.js'
import type { BundleOrigin, ModelBundle } from './bundle.js'
import { MANIFEST } from './cache-layout.js'
import { isMissing } from './fs-util.js'
import type { RemoteSource } from './remote-source.js'

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
export async function readManifest(dir: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, MANIFEST), 'utf8')) as Manifest
  } catch {
    return undefined // absent (never completed) or unreadable: treated as incomplete
  }
}

/** Whether every file in `manifest` is present with its recorded size. */
export async function filesPresent(dir: string, manifest: Manifest): Promise<boolean> {
  for (const [name, file] of Object.entries(manifest.files)) {
    const info = await stat(path.join(dir, name)).catch((err: unknown) => {
      if (isMissing(err)) return undefined
      throw err
    })
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
  if (!manifest) return undefined
  const names = Object.keys(manifest.files)
  if (names.length !== source.files.length) return undefined
  for (const file of source.files) {
    if (manifest.files[file.name]?.version !== file.version) return undefined
  }
  return (await filesPresent(dir, manifest)) ? manifest : undefined
}

/** Writes the manifest (atomically, last). */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeJsonAtomically(path.join(dir, MANIFEST), manifest)
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
  const modelName = modelFileOf(manifest)
  const model = manifest.files[modelName]
  const selfTest = `${NESTED_BUNDLE_PATHS.selfTest}/`
  return {
    modelPath: path.join(dir, modelName),
    labelsPath: has(BUNDLE_FILES.labels),
    configPath: has(BUNDLE_FILES.config),
    preprocessorConfigPath: has(BUNDLE_FILES.preprocessorConfig),
    featuresPath: has(BUNDLE_FILES.features),
    selfTestDir: Object.keys(manifest.files).some((name) => name.startsWith(selfTest))
      ? path.join(dir, NESTED_BUNDLE_PATHS.selfTest)
      : undefined,
    name: details.name,
    version: manifest.version,
    sha256: model?.sha256 ?? '',
    uri: details.uri,
    downloadedBytes: details.downloadedBytes,
    origin: details.origin,
    verifiedBy: model?.verifiedBy ?? [],
    release,
  }
}
