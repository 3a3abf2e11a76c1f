/** In-use marks on cache entries: one `.lease-<pid>-<token>` file per process (see README, In use and eviction). */
import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { listDir } from './atomic-write.js'
import { isHolderAlive, keepAlive, readHolder, SELF, stopKeepAlive } from './file-lock.js'

const LEASE_PREFIX = '.lease-'
const counts = new Map<string, number>()

/**
 * Marks the entry in `dir` in use by this process until the returned function is called
 * (idempotent). Several leases on one entry share one file.
 */
export async function leaseEntry(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, `${LEASE_PREFIX}${SELF.pid}-${SELF.token}`)
  const before = leaseCount(dir)
  counts.set(dir, before + 1)
  if (before === 0) {
    await writeFile(file, JSON.stringify(SELF))
    keepAlive(file)
  }
  let released = false
  return async () => {
    if (released) return
    released = true
    counts.set(dir, leaseCount(dir) - 1)
    if (leaseCount(dir) > 0) return
    counts.delete(dir)
    stopKeepAlive(file)
    await rm(file, { force: true })
  }
}

/** How many leases this process holds on the entry in `dir`. */
export const leaseCount = (dir: string): number => counts.get(dir) ?? 0

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
