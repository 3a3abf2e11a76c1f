/** Small file-system helpers shared by the cache modules. */
import { randomUUID } from 'node:crypto'
import type { Dirent } from 'node:fs'
import { readdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'

/** True for "no such file or directory". */
export const isMissing = (err: unknown): boolean =>
  (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'

/** The entries of `dir`, or none when it does not exist. */
export async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true })
  } catch (err) {
    if (isMissing(err)) return []
    throw err
  }
}

/** Prefix of directories being deleted (renamed first, so they vanish at once). */
export const TRASH_PREFIX = '.trash-'

/** Removes a directory so that nobody ever sees it half-deleted: rename aside, then delete. */
export async function removeDirAtomically(dir: string): Promise<void> {
  const trash = path.join(path.dirname(dir), `${TRASH_PREFIX}${randomUUID()}`)
  try {
    await rename(dir, trash)
  } catch (err) {
    if (isMissing(err)) return
    throw err
  }
  await rm(trash, { recursive: true, force: true })
}
