/** Writes a stream to a file atomically: temp file in the same directory, verify, fsync, rename. */
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Transform } from 'node:stream'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { tempPathFor } from './cache-layout.js'
import { ModelLoaderError } from './errors.js'

/** What the bytes must match; a mismatch discards the temp file and nothing is renamed. */
export interface ExpectedContent {
  readonly size?: number | undefined
  /** Hex MD5 (a single-part S3 ETag is one). */
  readonly md5?: string | undefined
}

/** Size and digest of what was written. */
export interface WrittenFile {
  readonly size: number
  readonly sha256: string
}

/** fsyncs a directory, so a rename inside it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function verify(
  target: string,
  written: WrittenFile,
  md5: string,
  expected: ExpectedContent
): void {
  if (expected.size !== undefined && written.size !== expected.size) {
    const msg = `${target}: got ${written.size} bytes, expected ${expected.size}`
    throw new ModelLoaderError('INTEGRITY_MISMATCH', msg)
  }
  if (expected.md5 !== undefined && md5 !== expected.md5.toLowerCase()) {
    const msg = `${target}: MD5 ${md5} does not match the source's ${expected.md5}`
    throw new ModelLoaderError('INTEGRITY_MISMATCH', msg)
  }
}

/**
 * Streams `body` into `target` so readers only ever see no file or the whole, verified file.
 * Memory stays bounded by the stream's buffers, whatever the size.
 */
export async function writeStreamAtomically(
  target: string,
  body: Readable | AsyncIterable<Uint8Array>,
  expected: ExpectedContent = {}
): Promise<WrittenFile> {
  await mkdir(path.dirname(target), { recursive: true })
  const temp = tempPathFor(target)
  const sha256 = createHash('sha256')
  const md5 = createHash('md5')
  let size = 0
  const digest = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length
      sha256.update(chunk)
      md5.update(chunk)
      done(null, chunk)
    },
  })
  try {
    await pipeline(body, digest, createWriteStream(temp, { flush: true })) // flush: fsync on close
    const written = { size, sha256: sha256.digest('hex') }
    verify(target, written, md5.digest('hex'), expected)
    await rename(temp, target)
    await fsyncDir(path.dirname(target))
    return written
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}

/** Writes a small JSON document atomically (temp file, fsync, rename). */
export async function writeJsonAtomically(target: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true })
  const temp = tempPathFor(target)
  try {
    await writeFile(temp, JSON.stringify(value, null, 2) + '\n', { flush: true })
    await rename(temp, target)
    await fsyncDir(path.dirname(target))
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}
