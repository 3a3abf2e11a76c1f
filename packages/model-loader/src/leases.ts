/** In-use marks on cache entries: a `.lease-<pid>-<token>` file per process (README: In use). */
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { listDir } from './atomic-write.js'
import { holdFile, isHolderAlive, readHolder, SELF } from './file-lock.js'

const LEASE_PREFIX = '.lease-'
const leases = new Map<
  string,
  { count: number; file: Promise<(() => Promise<void>) | undefined> }
>()

/**
 * Marks the entry in `dir` in use by this process until the returned function is called
 * (idempotent). Several leases on one entry share one file.
 */
export async function leaseEntry(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, `${LEASE_PREFIX}${SELF.pid}-${SELF.token}`)
  const lease = leases.get(dir) ?? { count: 0, file: holdFile(file) }
  leases.set(dir, lease)
  lease.count++
  try {
    await lease.file
  } catch (err) {
    if (--lease.count === 0) leases.delete(dir) // the next lease tries to write the file again
    throw err
  }
  let released = false
  return async () => {
    if (released) return
    released = true
    if (--lease.count > 0) return
    leases.delete(dir)
    await (
      await lease.file
    )?.()
  }
}

/** How many leases this process holds on the entry in `dir`. */
export const leaseCount = (dir: string): number => leases.get(dir)?.count ?? 0

/** Whether any process (this one included) holds a live lease on `dir`; removes dead ones. */
export async function hasLiveLease(dir: string): Promise<boolean> {
  let live = false
  for (const { name } of await listDir(dir)) {
    if (!name.startsWith(LEASE_PREFIX)) continue
    const file = path.join(dir, name)
    const holder = await readHolder(file)
    if (holder && isHolderAlive(file, holder)) live = true
    else await rm(file, { force: true })
  }
  return live
}
