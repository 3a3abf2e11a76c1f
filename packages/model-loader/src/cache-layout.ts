/**
 * Where things live in the cache directory:
 * `<cacheDir>/<s3|https>/<name>-<hash of source>/<version>/` per source and version, the
 * source's `.lock`, the entries' `manifest.json` (its mtime: the last use) and temp files
 * `.<file>.<pid>.<uuid>.tmp`.
 */
import { createHash, randomUUID } from 'node:crypto'
import path from 'node:path'
import type { RemoteSource } from './remote-source.js'

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

/** A temp file next to `target` (same directory, so the final rename is atomic). */
export const tempPathFor = (target: string): string =>
  path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`
  )

/** Whether a directory entry is one of our temp files. */
export const isTempName = (name: string): boolean => name.startsWith('.') && name.endsWith('.tmp')

/** Paths of one source in the cache; computable without asking the source. */
export function sourceDirFor(
  cacheDir: string,
  kind: RemoteSource['kind'],
  name: string,
  cacheKey: string
): string {
  return path.join(cacheDir, kind, `${safeName(name)}-${sha(cacheKey).slice(0, 12)}`)
}

/** The version of a listing: the one file's version, or a digest of all files' versions. */
export function versionName(source: Pick<RemoteSource, 'files'>): string {
  const [only] = source.files
  return source.files.length === 1 && only
    ? only.version
    : sha(source.files.map((f) => `${f.name}:${f.version}`).join('\n')).slice(0, 16)
}

/** Where one listed source+version goes. */
export interface EntryLayout {
  readonly sourceDir: string
  readonly dir: string
  readonly version: string
  readonly lockFile: string
}

/** The layout for a listed source. */
export function entryLayout(cacheDir: string, source: RemoteSource): EntryLayout {
  const sourceDir = sourceDirFor(cacheDir, source.kind, source.name, source.cacheKey)
  const version = versionName(source)
  return {
    sourceDir,
    dir: path.join(sourceDir, safeName(version)),
    version,
    lockFile: path.join(sourceDir, SOURCE_LOCK),
  }
}
