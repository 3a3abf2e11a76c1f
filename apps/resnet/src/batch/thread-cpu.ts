/**
 * CPU seconds of this process's threads, summed by thread name (Linux /proc; empty elsewhere):
 * the main thread, the decode and inference workers (and onnxruntime's threads, which take their
 * creator's name), libuv's pool (where sharp decodes) and V8's helpers (GC, compilation).
 */
import { readdirSync, readFileSync } from 'node:fs'

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100

/** CPU seconds by thread name of process `pid` (default: this one) so far. */
export function threadCpu(pid: number | 'self' = 'self'): Record<string, number> {
  const out: Record<string, number> = {}
  let tids: string[]
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      // the name is in parentheses and may hold spaces; utime, stime are fields 14, 15
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const s = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S
      out[name] = (out[name] ?? 0) + s
    } catch {
      // the thread ended meanwhile
    }
  }
  return out
}

/** `after - before` per thread name, in seconds rounded to 0.01 (threads new since: all theirs). */
export function threadCpuSince(
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>> = threadCpu()
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after).map(([name, s]) => [name, Number((s - (before[name] ?? 0)).toFixed(2))])
  )
}
