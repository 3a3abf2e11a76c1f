/** One remote file -> a verified file in the cache: temp file, fsync, verify, rename (README). */
import { mkdir, open, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { fsyncDir, tempPathFor } from './atomic-write.js'
import { checkBundleFile } from './bundle-check.js'
import { digestsToCompute, verifyDigests } from './checksums.js'
import type { ExpectedDigest } from './checksums.js'
import { ModelLoaderError } from './errors.js'
import { startFileHasher } from './file-hasher.js'
import type { ManifestFile } from './manifest.js'
import { createProgress } from './progress.js'
import { fetchParts } from './ranged-download.js'
import type { PartHooks } from './ranged-download.js'
import type { CacheContext, RemoteFile, RemoteSource } from './remote-cache.js'

/** Written data is flushed every this many bytes in the background (README, Download). */
const SYNC_EVERY = 32 * 1024 * 1024

/** Downloads, verifies and atomically places one file; throws INTEGRITY_MISMATCH on bad bytes. */
export async function downloadFile(
  ctx: CacheContext,
  source: RemoteSource,
  file: RemoteFile,
  target: string,
  checks: readonly ExpectedDigest[]
): Promise<ManifestFile> {
  await mkdir(path.dirname(target), { recursive: true })
  const temp = tempPathFor(target)
  const fh = await open(temp, 'w')
  const hasher = startFileHasher(temp, digestsToCompute(checks))
  const progress = createProgress(ctx.logger, { file: file.location }, file.size)
  let written = 0
  let flushedAt = 0
  let flushing: Promise<void> | undefined
  let flushFailure: { err: unknown } | undefined // a failed flush may not fail again: keep it
  const hooks: PartHooks = {
    onWritten(n, contiguous) {
      progress.add(n)
      hasher.advance(contiguous)
      written += n
      if (flushing || flushFailure || written - flushedAt < SYNC_EVERY) return
      flushedAt = written
      flushing = fh
        .datasync()
        .catch((err: unknown) => {
          flushFailure = { err }
        })
        .finally(() => (flushing = undefined))
    },
    onRetry(err, range, attempt, delayMs) {
      const fields = {
        file: file.location,
        from: range.start,
        attempt,
        delayMs: Math.round(delayMs),
      }
      const reason = (err as Error).message
      ctx.logger?.warn({ ...fields, reason }, 'model download interrupted: retrying')
    },
  }
  try {
    const { settings, signal } = ctx
    const size = await fetchParts(
      fh,
      file.size,
      source.reader(file),
      source.ranged,
      settings,
      hooks,
      signal
    )
    await flushing
    if (flushFailure) throw flushFailure.err
    await fh.sync() // on disk before it is verified and renamed
    await fh.close()
    progress.done()
    if (file.size !== undefined && size !== file.size) {
      const msg = `${file.location}: got ${size} bytes, expected ${file.size}`
      throw new ModelLoaderError('INTEGRITY_MISMATCH', msg)
    }
    const digests = await hasher.finish(size)
    const verifiedBy = verifyDigests(file.location, digests, checks)
    await checkBundleFile(file.name, temp, file.location)
    await rename(temp, target)
    await fsyncDir(path.dirname(target))
    return { version: file.version, size, sha256: digests.sha256 ?? '', verifiedBy }
  } catch (err) {
    await flushing
    await fh.close() // a no-op once closed
    await hasher.close()
    await rm(temp, { force: true })
    throw err
  }
}
