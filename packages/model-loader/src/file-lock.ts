/**
 * A cross-process lock on a cache directory: an exclusive file (`open(..., 'wx')`) holding the
 * owner's pid, host and token. A lock whose owner died (or stopped its heartbeat) is broken.
 */
import { randomUUID } from 'node:crypto'
import { link, mkdir, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ModelLoaderError } from './errors.js'
import { isHolderAlive, keepAlive, readHolder, SELF, stopKeepAlive } from './owner.js'
import type { Owner } from './owner.js'

/** A held lock; `release` is idempotent. */
export interface FileLock {
  readonly file: string
  release(): Promise<void>
}

/** How to wait for a lock another process (or call) holds. */
export interface LockWaitOptions {
  /** Aborting stops the wait with a TIMEOUT error. */
  readonly signal?: AbortSignal | undefined
  /** Called once, when the lock is found held by someone else. */
  readonly onWait?: ((holder: Owner | undefined) => void) | undefined
  /** @default 50 */
  readonly pollMs?: number
}

async function create(file: string): Promise<FileLock | undefined> {
  try {
    await writeFile(file, JSON.stringify(SELF), { flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined
    throw err
  }
  keepAlive(file)
  let released = false
  return {
    file,
    async release() {
      if (released) return
      released = true
      stopKeepAlive(file)
      // Only remove it if it is still ours (it may have been broken as stale while we hung).
      const holder = await readHolder(file)
      if (holder?.owner?.token === SELF.token) await rm(file, { force: true })
    },
  }
}

/**
 * Removes a stale lock without removing a fresh one created meanwhile: move it aside, check it
 * is the stale one we judged, and put it back (with `link`, which never overwrites) if not.
 */
async function breakStale(file: string, staleToken: string | undefined): Promise<void> {
  const aside = `${file}.stale-${randomUUID()}`
  try {
    await rename(file, aside)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return // someone else broke it
    throw err
  }
  const holder = await readHolder(aside)
  if (holder?.owner?.token !== staleToken) {
    // We moved a fresh lock taken meanwhile: put it back, unless yet another one exists by now.
    await link(aside, file).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    })
  }
  await rm(aside, { force: true })
}

/** Takes the lock if it is free (or stale); undefined if a live holder has it. */
export async function tryLock(file: string): Promise<FileLock | undefined> {
  await mkdir(path.dirname(file), { recursive: true })
  for (let i = 0; i < 3; i++) {
    const lock = await create(file)
    if (lock) return lock
    const holder = await readHolder(file)
    if (holder && isHolderAlive(file, holder)) return undefined
    if (holder) await breakStale(file, holder.owner?.token)
  }
  return undefined
}

/** Waits for the lock (polling), breaking it if its holder died; TIMEOUT when `signal` aborts. */
export async function acquireLock(file: string, options: LockWaitOptions = {}): Promise<FileLock> {
  let told = false
  for (;;) {
    const lock = await tryLock(file)
    if (lock) return lock
    if (!told) {
      told = true
      options.onWait?.((await readHolder(file))?.owner)
    }
    try {
      await sleep(options.pollMs ?? 50, undefined, { signal: options.signal })
    } catch (err) {
      const holder = (await readHolder(file))?.owner
      const who = holder ? `pid ${holder.pid} on ${holder.host}` : 'another process'
      const msg = `Gave up waiting for ${file}, held by ${who}`
      throw new ModelLoaderError('TIMEOUT', msg, { cause: options.signal?.reason ?? err })
    }
  }
}
