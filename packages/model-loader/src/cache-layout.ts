/** Where things live in the cache directory (see README, Cache). */
import { createHash } from 'node:crypto'
import path from 'node:path'
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

/** `<cacheDir>/<kind>/<name>-<hash of cacheKey>`: one source's directory, known without asking it. */
export const sourceDirFor = (
  cacheDir: string,
  { kind, name, cacheKey }: Pick<RemoteSource, 'kind' | 'name' | 'cacheKey'>
): string => path.join(cacheDir, kind, `${safeName(name)}-${sha(cacheKey).slice(0, 12)}`)

/** Where a listed source goes: its directory and its version's (the one file's version, or a digest of all). */
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
