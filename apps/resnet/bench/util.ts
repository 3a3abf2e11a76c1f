// Small helpers: percentiles, /proc readers, Prometheus text parsing, ports, formatting.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus } from 'node:os'

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Summary of a list of latencies in milliseconds (nearest-rank percentiles). */
export interface LatencySummary {
  readonly n: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
}

export function summarize(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { n: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN }
  const sorted = Float64Array.from(values).sort()
  const at = (p: number): number =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
  return { n: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted.at(-1)! }
}

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => {
        resolve(port)
      })
    })
  })
}

/** Resident set size of a process in bytes (VmRSS), or NaN if it is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : NaN
  } catch {
    return NaN
  }
}

/** CPU seconds (user + system, all threads) used so far by a process, or NaN if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15, in clock ticks (100/s)
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return NaN
  }
}

/** Busy and total CPU time of the whole machine so far, in clock ticks. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  const total = v.reduce((a, b) => a + b, 0)
  const idle = (v[3] ?? 0) + (v[4] ?? 0)
  return { busy: total - idle, total }
}

/** Sum of the samples of a metric in Prometheus text whose label set contains `labels`. */
export function metric(text: string, name: string, labels = ''): number {
  let sum = 0
  let found = false
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== ' ' && rest[0] !== '{') continue
    if (labels && !rest.includes(labels)) continue
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (Number.isFinite(value)) {
      sum += value
      found = true
    }
  }
  return found ? sum : NaN
}

/** Formats a number with a fixed number of decimals; '–' for NaN/undefined. */
export const fmt = (value: number | undefined, digits = 1): string =>
  value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits)

export const mib = (bytes: number): string => fmt(bytes / 2 ** 20, 0)

export const verdict = (ok: boolean | undefined): string =>
  ok === undefined ? 'n/a' : ok ? '**PASS**' : '**MISS**'

let quietBudgetMs = 30_000

/**
 * On a shared machine, waits (at most `maxMs`, and 30 s over the whole run) until processes other
 * than this one and `pid` use less than `threshold` cores over two 0.5 s windows in a row.
 * Returns the seconds waited. Reduces, but cannot remove, interference from other work.
 */
export async function waitForQuiet(pid?: number, maxMs = 8000, threshold = 0.3): Promise<number> {
  const t0 = performance.now()
  const limit = Math.min(maxMs, quietBudgetMs)
  let quiet = 0
  while (quiet < 2 && performance.now() - t0 < limit) {
    const m0 = machineTicks()
    const own0 = process.cpuUsage()
    const srv0 = pid ? cpuSeconds(pid) : 0
    await sleep(500)
    const m1 = machineTicks()
    const own = process.cpuUsage(own0)
    const srv = pid ? cpuSeconds(pid) - srv0 : 0
    const busy = ((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * cpus().length
    const others = busy - (own.user + own.system) / 1e6 / 0.5 - srv / 0.5
    quiet = others < threshold ? quiet + 1 : 0
  }
  const waited = performance.now() - t0
  quietBudgetMs = Math.max(0, quietBudgetMs - waited)
  return waited / 1000
}
