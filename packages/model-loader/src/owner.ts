/** Who holds a lock or lease file (pid, host, per-process token), and whether that holder lives. */
import { randomUUID } from 'node:crypto'
import { readFile, stat, utimes } from 'node:fs/promises'
import { hostname } from 'node:os'

/** The identity written into lock and lease files. */
export interface Owner {
  readonly pid: number
  readonly host: string
  /** Random per process: tells this process from an earlier one that had the same pid. */
  readonly token: string
}

/** This process. */
export const SELF: Owner = { pid: process.pid, host: hostname(), token: randomUUID() }

/** A holder that stops touching its file for this long is considered gone (hung or elsewhere). */
export const STALE_AFTER_MS = 60_000
const HEARTBEAT_MS = 10_000

const held = new Set<string>()
let heartbeat: NodeJS.Timeout | undefined

/** Lock and lease files this process holds; their mtime is refreshed every 10 s. */
export function keepAlive(file: string): void {
  held.add(file)
  heartbeat ??= setInterval(() => {
    const now = new Date()
    // A file removed meanwhile (released, or broken as stale by another process) is simply skipped.
    for (const f of held) void utimes(f, now, now).catch(() => undefined)
  }, HEARTBEAT_MS).unref()
}

/** Stops refreshing `file`. */
export function stopKeepAlive(file: string): void {
  held.delete(file)
  if (held.size === 0 && heartbeat) {
    clearInterval(heartbeat)
    heartbeat = undefined
  }
}

/** Whether `file` is held by this process right now. */
export const isHeldHere = (file: string): boolean => held.has(file)

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' // exists, owned by another user
  }
}

/** A holder file's content and age; undefined when the file is gone. */
export interface HolderFile {
  readonly owner: Owner | undefined
  readonly mtimeMs: number
}

/** Reads a lock or lease file; `owner` is undefined while it is still being written. */
export async function readHolder(file: string): Promise<HolderFile | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)])
    let owner: Owner | undefined
    try {
      owner = JSON.parse(text) as Owner
    } catch {
      owner = undefined // created but not yet written: judged by age alone
    }
    return { owner, mtimeMs: info.mtimeMs }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/**
 * Whether the holder of `file` may still be running. Same host: its pid must be alive (and not be
 * ours under another token: a restarted container reuses pids). Any host: its heartbeat must be
 * fresher than STALE_AFTER_MS.
 */
export function isHolderAlive(file: string, holder: HolderFile, now: number = Date.now()): boolean {
  const { owner } = holder
  if (owner?.token === SELF.token) return isHeldHere(file)
  if (now - holder.mtimeMs > STALE_AFTER_MS) return false
  if (owner?.host !== SELF.host) return true
  return owner.pid !== SELF.pid && pidAlive(owner.pid)
}
