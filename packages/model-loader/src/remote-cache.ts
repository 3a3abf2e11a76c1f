/** Materialises a remote bundle (S3 or HTTPS) in the disk cache, reusing a complete copy. */
import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { writeJsonAtomically, writeStreamAtomically } from './atomic-write.js'
import type { ExpectedContent } from './atomic-write.js'
import { BUNDLE_FILES } from './bundle.js'
import type { ModelBundle } from './bundle.js'

/** One file of a remote bundle, as listed by the source before downloading. */
export interface RemoteFile {
  /** The bundle file name it becomes locally (`model.onnx`, `labels.txt`, `config.json`). */
  readonly name: string
  /** The source's version of this file: ETag, VersionId or Last-Modified. */
  readonly version: string
  readonly expected: ExpectedContent
}

/** A listed remote bundle and how to open each of its files. */
export interface RemoteSource {
  readonly uri: string
  readonly kind: 's3' | 'https'
  readonly name: string
  readonly files: readonly RemoteFile[]
  open(file: RemoteFile): Promise<Readable>
}

interface Manifest {
  readonly uri: string
  readonly version: string
  readonly files: Record<string, { version: string; size: number; sha256: string }>
  readonly completedAt: string
}

const MANIFEST = 'manifest.json'
const sha = (text: string): string => createHash('sha256').update(text).digest('hex')
const safe = (text: string): string => text.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80)

/** One cache directory per source and version: `<cacheDir>/<kind>/<name>-<hash>/<version>/`. */
function versionDir(cacheDir: string, source: RemoteSource): { dir: string; version: string } {
  const [only] = source.files
  const version =
    source.files.length === 1 && only
      ? safe(only.version)
      : sha(source.files.map((f) => `${f.name}:${f.version}`).join('\n')).slice(0, 16)
  const sourceDir = `${safe(source.name)}-${sha(source.uri).slice(0, 12)}`
  return { dir: path.join(cacheDir, source.kind, sourceDir, version), version }
}

async function readCompleteManifest(dir: string, source: RemoteSource): Promise<Manifest | null> {
  try {
    const manifest = JSON.parse(await readFile(path.join(dir, MANIFEST), 'utf8')) as Manifest
    for (const file of source.files) {
      const entry = manifest.files[file.name]
      if (entry?.version !== file.version) return null
      if ((await stat(path.join(dir, file.name))).size !== entry.size) return null
    }
    return manifest
  } catch {
    return null // absent or unreadable: download again
  }
}

function toBundle(
  dir: string,
  source: RemoteSource,
  manifest: Manifest,
  downloaded: number
): ModelBundle {
  const has = (name: string): string | undefined =>
    manifest.files[name] ? path.join(dir, name) : undefined
  return {
    modelPath: path.join(dir, BUNDLE_FILES.model),
    labelsPath: has(BUNDLE_FILES.labels),
    configPath: has(BUNDLE_FILES.config),
    name: source.name,
    version: manifest.version,
    sha256: manifest.files[BUNDLE_FILES.model]?.sha256 ?? '',
    uri: source.uri,
    downloadedBytes: downloaded,
  }
}

/**
 * Returns the cached copy when every file's version matches; otherwise downloads each file
 * atomically, then writes the manifest last, so a bundle is only ever used complete.
 */
export async function materializeRemote(
  cacheDir: string,
  source: RemoteSource
): Promise<ModelBundle> {
  const { dir, version } = versionDir(cacheDir, source)
  const cached = await readCompleteManifest(dir, source)
  if (cached) return toBundle(dir, source, cached, 0)

  const files: Manifest['files'] = {}
  let downloaded = 0
  for (const file of source.files) {
    const written = await writeStreamAtomically(
      path.join(dir, file.name),
      await source.open(file),
      file.expected
    )
    downloaded += written.size
    files[file.name] = { version: file.version, size: written.size, sha256: written.sha256 }
  }
  const manifest: Manifest = {
    uri: source.uri,
    version,
    files,
    completedAt: new Date().toISOString(),
  }
  await writeJsonAtomically(path.join(dir, MANIFEST), manifest)
  return toBundle(dir, source, manifest, downloaded)
}
