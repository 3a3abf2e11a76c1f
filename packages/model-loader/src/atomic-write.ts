/** Atomic file operations of the cache: temp file, fsync, rename (see README, Cache). */
import { randomUUID } from 'node:crypto'
import type { Dirent } from 'node:fs'
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'

/** True for "no such file or directory". */
export const isMissing = (err: unknown): boolean =>
  (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'

/** The entries of `dir`, or none when it does not exist. */
export const listDir = (dir: string): Promise<Dirent[]> =>
  readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
    if (isMissing(err)) return []
    throw err
  })

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
  const moved = await rename(dir, trash).then(
    () => true,
    (err: unknown) => {
      if (isMissing(err)) return false
      throw err
    }
  )
  if (moved) await rm(trash, { recursive: true, force: true })
}
