/**
 * Thread priorities (Linux): the HTTP event loop must win the CPU over image decoding and
 * inference, or health checks and admission answers queue behind them when the CPU is saturated.
 * Raising a priority needs privileges a container lacks; lowering the others' does not.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { setPriority } from 'node:os'

/** Nice value for libuv's pool threads (image decoding) unless told otherwise. */
export const DEFAULT_DECODE_NICENESS = 5

const LIBUV_POOL = 'libuv-worker'

const threadName = (tid: string): string => {
  try {
    return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim()
  } catch {
    return ''
  }
}

/**
 * Sets the nice value of libuv's pool threads, where sharp decodes images, and returns how many
 * it changed (0 where /proc is missing). The pool starts at its first use: call this after it.
 */
export function lowerDecodePriority(niceness: number = DEFAULT_DECODE_NICENESS): number {
  let tids: string[]
  try {
    tids = readdirSync('/proc/self/task')
  } catch {
    return 0
  }
  let changed = 0
  for (const tid of tids) {
    if (threadName(tid) !== LIBUV_POOL) continue
    try {
      setPriority(Number(tid), niceness)
      changed++
    } catch {
      // the thread ended meanwhile: nothing to lower
    }
  }
  return changed
}
