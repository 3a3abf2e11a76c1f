/** Atomic file operations of the cache: temp file, fsync, rename (see README, Cache). */
import { randomUUID } from 'node:crypto'
import type { Dirent } from 'node:fs'
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'

/** What `op` resolves to, or undefined when it fails with ENOENT (no such file or directory). */
export const unlessMissing = <T>(op: Promise<T>): Promise<T | undefined> =>
  op.catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  })

/** The entries of `dir`, or none when it does not exist. */
export const listDir = async (dir: string): Promise<Dirent[]> =>
  (await unlessMissing(readdir(dir, { withFileTypes: true }))) ?? []

/** A temp file `.<name>.<pid>.<id>.tmp` next to `target`, so the final rename is atomic. */
export const tempPathFor = (target: string): string =>
  path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`
  )

/** Whether a directory entry is one of our temp files. */
export const isTempName = (name: string): boolean => name.startsWith('.') && name.endsWith('.tmp')

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

/** Prefix of directories being deleted (renamed first, so they vanish at once). */
export const TRASH_PREFIX = '.trash-'

/** Removes a directory so that nobody ever sees it half-deleted: rename aside, then delete. */
export async function removeDirAtomically(dir: string): Promise<void> {
  const trash = path.join(path.dirname(dir), `${TRASH_PREFIX}${randomUUID()}`)
  if (await unlessMissing(rename(dir, trash).then(() => true)))
    await rm(trash, { recursive: true, force: true })
}
