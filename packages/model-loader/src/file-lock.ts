/** Cross-process lock files (`open(…, 'wx')`) and lease files: holder files (README, Cache). */
import { randomUUID } from 'node:crypto'
import { link, mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { unlessMissing } from './atomic-write.js'
import { ModelLoaderError } from './errors.js'

/** The identity in lock and lease files; `token` tells us from an earlier process with our pid. */
export interface Owner {
  readonly pid: number
  readonly host: string
  readonly token: string
}

/** This process. */
export const SELF: Owner = { pid: process.pid, host: hostname(), token: randomUUID() }

/** A holder that stops touching its file for this long is considered gone (hung or elsewhere). */
const STALE_AFTER_MS = 60_000
const held = new Set<string>()
let heartbeat: NodeJS.Timeout | undefined

/**
 * Writes this process's identity to `file` (`wx`: only if absent, else undefined) and refreshes its
 * mtime every 10 s until the returned release (idempotent) removes it, if it is still ours.
 */
export async function holdFile(
  file: string,
  flag: 'w' | 'wx' = 'w'
): Promise<(() => Promise<void>) | undefined> {
  try {
    await writeFile(file, JSON.stringify(SELF), { flag })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined
    throw err
  }
  held.add(file)
  heartbeat ??= setInterval(() => {
    const now = new Date()
    // A file removed meanwhile (released, or broken as stale by another process) is simply skipped.
    for (const f of held) void utimes(f, now, now).catch(() => undefined)
  }, 10_000).unref()
  let released = false
  return async () => {
    if (released) return
    released = true
    held.delete(file)
    if (held.size === 0) {
      clearInterval(heartbeat)
      heartbeat = undefined
    }
    // A lock may have been broken as stale while we hung: only remove our own.
    if ((await readHolder(file))?.owner?.token === SELF.token) await rm(file, { force: true })
  }
}

/** A holder file's content (undefined while it is still being written) and age. */
export interface HolderFile {
  readonly owner: Owner | undefined
  readonly mtimeMs: number
}

/** Reads a lock or lease file; undefined when it is gone. */
export async function readHolder(file: string): Promise<HolderFile | undefined> {
  const [text, info] =
    (await unlessMissing(Promise.all([readFile(file, 'utf8'), stat(file)]))) ?? []
  if (!info) return undefined
  let owner: Owner | undefined
  try {
    owner = JSON.parse(text ?? '') as Owner
  } catch {
    owner = undefined // created but not yet written: judged by age alone
  }
  return { owner, mtimeMs: info.mtimeMs }
}

const pidAlive = (pid: number): boolean => {
  try {
    return process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' // exists, owned by another user
  }
}

/**
 * Whether the holder of `file` may still be running. Same host: its pid must be alive (and not be
 * ours under another token: a restarted container reuses pids). Any host: a fresh heartbeat.
 */
export function isHolderAlive(file: string, holder: HolderFile, now: number = Date.now()): boolean {
  const { owner } = holder
  if (owner?.token === SELF.token) return held.has(file)
  if (now - holder.mtimeMs > STALE_AFTER_MS) return false
  if (owner?.host !== SELF.host) return true
  return owner.pid !== SELF.pid && pidAlive(owner.pid)
}

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

/**
 * Removes a stale lock without removing a fresh one created meanwhile: move it aside, check it
 * is the stale one we judged, and put it back (with `link`, which never overwrites) if not.
 */
async function breakStale(file: string, staleToken: string | undefined): Promise<void> {
  const aside = `${file}.stale-${randomUUID()}`
  if (!(await unlessMissing(rename(file, aside).then(() => true)))) return // someone else broke it
  if ((await readHolder(aside))?.owner?.token !== staleToken) {
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
    const release = await holdFile(file, 'wx')
    if (release) return { file, release }
    const holder = await readHolder(file)
    if (holder && isHolderAlive(file, holder)) return undefined
    if (holder) await breakStale(file, holder.owner?.token)
  }
  return undefined
}

/** Waits for the lock (polling), breaking it if its holder died; TIMEOUT when `signal` aborts. */
export async function acquireLock(file: string, options: LockWaitOptions = {}): Promise<FileLock> {
  for (let told = false; ; told = true) {
    const lock = await tryLock(file)
    if (lock) return lock
    if (!told) options.onWait?.((await readHolder(file))?.owner)
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
