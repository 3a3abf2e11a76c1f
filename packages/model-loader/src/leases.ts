/**
 * In-use marks on cache entries. Each process holding bundles of an entry keeps one lease file
 * `.lease-<pid>-<token>` in it (refcounted in memory); eviction skips entries with a live lease.
 */
import { readdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { isHolderAlive, keepAlive, readHolder, SELF, stopKeepAlive } from './owner.js'

const LEASE_PREFIX = '.lease-'
const counts = new Map<string, number>()

const leaseFile = (dir: string): string =>
  path.join(dir, `${LEASE_PREFIX}${SELF.pid}-${SELF.token}`)

/**
 * Marks the entry in `dir` in use by this process until the returned function is called
 * (idempotent). Several leases on one entry share one file.
 */
export async function leaseEntry(dir: string): Promise<() => Promise<void>> {
  const file = leaseFile(dir)
  const before = counts.get(dir) ?? 0
  counts.set(dir, before + 1)
  if (before === 0) {
    await writeFile(file, JSON.stringify(SELF))
    keepAlive(file)
  }
  let released = false
  return async () => {
    if (released) return
    released = true
    const left = (counts.get(dir) ?? 1) - 1
    if (left > 0) {
      counts.set(dir, left)
      return
    }
    counts.delete(dir)
    stopKeepAlive(file)
    await rm(file, { force: true })
  }
}

/** How many leases this process holds on the entry in `dir`. */
export const leaseCount = (dir: string): number => counts.get(dir) ?? 0

/** Whether any process (this one included) holds a live lease on `dir`; removes dead ones. */
export async function hasLiveLease(dir: string): Promise<boolean> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
  let live = false
  for (const name of names.filter((n) => n.startsWith(LEASE_PREFIX))) {
    const file = path.join(dir, name)
    const holder = await readHolder(file)
    if (holder && isHolderAlive(file, holder)) live = true
    else await rm(file, { force: true })
  }
  return live
}
