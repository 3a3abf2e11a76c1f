/**
 * One remote file -> one verified file in the cache: parts are written into a temp file in the
 * target's directory, which is fsynced, checked (size, digests, file format) and only then
 * renamed into place. On any failure the temp file is removed. While downloading, what is written
 * is flushed to disk every 32 MiB in the background, so the final fsync has little left to do.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { fsyncDir } from './atomic-write.js'
import { checkBundleFile } from './bundle-check.js'
import { tempPathFor } from './cache-layout.js'
import { digestsToCompute, verifyDigests } from './checksums.js'
import type { ExpectedDigest } from './checksums.js'
import { ModelLoaderError } from './errors.js'
import { startFileHasher } from './file-hasher.js'
import type { FileHasher } from './file-hasher.js'
import { createProgress } from './progress.js'
import type { LoaderLogger, Progress } from './progress.js'
import { fetchParts } from './ranged-download.js'
import type { PartHooks, PartSettings, RangeReader } from './ranged-download.js'

/** Everything needed to fetch and verify one file. */
export interface FileJob {
  readonly target: string
  /** Bundle file name (`model.onnx`, ...): selects the format check. */
  readonly name: string
  /** Where it comes from, for logs and errors (e.g. `s3://bucket/key`). */
  readonly label: string
  readonly size: number | undefined
  readonly checks: readonly ExpectedDigest[]
  readonly read: RangeReader
  readonly ranged: boolean
  readonly settings: PartSettings
  readonly logger: LoaderLogger | undefined
  readonly signal: AbortSignal
}

/** A file now in place: its size, sha256 and what verified it. */
export interface VerifiedFile {
  readonly size: number
  readonly sha256: string
  readonly verifiedBy: readonly string[]
}

const MB = 1024 * 1024
/** Flush written data every this many bytes, in the background. */
const SYNC_EVERY = 32 * MB

/** Background `fdatasync`s as bytes land (one at a time); `finish` fsyncs and reports failures. */
interface Flusher {
  add(bytes: number): void
  /** Waits for a background flush (before closing the file). */
  settled(): Promise<void>
  /** Everything on disk, or the first flush failure. */
  finish(): Promise<void>
}

function startFlusher(fh: FileHandle): Flusher {
  let written = 0
  let flushedAt = 0
  let inFlight: Promise<void> | undefined
  let failure: { err: unknown } | undefined
  const settled = async (): Promise<void> => {
    await inFlight
  }
  return {
    add(bytes) {
      written += bytes
      if (inFlight || failure || written - flushedAt < SYNC_EVERY) return
      flushedAt = written
      inFlight = fh
        .datasync()
        .catch((err: unknown) => {
          failure = { err } // a failed flush may not fail again: report this one
        })
        .finally(() => (inFlight = undefined))
    },
    settled,
    async finish() {
      await settled()
      if (failure) throw failure.err
      await fh.sync()
    },
  }
}

function hooksFor(
  job: FileJob,
  progress: Progress,
  hasher: FileHasher,
  flusher: Flusher
): PartHooks {
  return {
    onWritten: (n) => {
      progress.add(n)
      flusher.add(n)
    },
    onContiguous: (upTo) => {
      hasher.advance(upTo)
    },
    onRetry(err, range, attempt, delayMs) {
      const reason = (err as Error).message
      const fields = { file: job.label, from: range.start, attempt, delayMs: Math.round(delayMs) }
      job.logger?.warn({ ...fields, reason }, 'model download interrupted: retrying')
    },
  }
}

/** Fetches into the open temp file, fsyncs and closes it; returns its size. */
async function fetchInto(job: FileJob, fh: FileHandle, hasher: FileHasher): Promise<number> {
  const flusher = startFlusher(fh)
  try {
    const progress = createProgress(job.logger, { file: job.label }, job.size)
    const hooks = hooksFor(job, progress, hasher, flusher)
    const { size: expected, read, ranged, settings, signal } = job
    const size = await fetchParts(fh, expected, read, ranged, settings, hooks, signal)
    await flusher.finish() // on disk before it is verified and renamed
    progress.done()
    if (expected !== undefined && size !== expected) {
      const msg = `${job.label}: got ${size} bytes, expected ${expected}`
      throw new ModelLoaderError('INTEGRITY_MISMATCH', msg)
    }
    return size
  } finally {
    await flusher.settled()
    await fh.close()
  }
}

/** Downloads, verifies and atomically places one file; throws INTEGRITY_MISMATCH on bad bytes. */
export async function downloadFile(job: FileJob): Promise<VerifiedFile> {
  await mkdir(path.dirname(job.target), { recursive: true })
  const temp = tempPathFor(job.target)
  const fh = await open(temp, 'w')
  const hasher = startFileHasher(temp, digestsToCompute(job.checks))
  try {
    const size = await fetchInto(job, fh, hasher)
    const digests = await hasher.finish(size)
    const verifiedBy = verifyDigests(job.label, digests, job.checks)
    await checkBundleFile(job.name, temp, job.label)
    await rename(temp, job.target)
    await fsyncDir(path.dirname(job.target))
    return { size, sha256: digests.sha256 ?? '', verifiedBy }
  } catch (err) {
    await hasher.close()
    await rm(temp, { force: true })
    throw err
  }
}
