/** Atomic small writes: temp file in the same directory, fsync, rename, fsync the directory. */
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { tempPathFor } from './cache-layout.js'

/** fsyncs a directory, so a rename inside it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
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
