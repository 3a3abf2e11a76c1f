/**
 * How busy we and the machine are: whether another connection could use spare CPU (a connection
 * limited by the network) or would only compete for it (a fast local server, a saturated thread).
 */
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import type { EventLoopUtilization } from 'node:perf_hooks'

/** Shares (0..1) since the previous sample. */
export interface Load {
  /** Of all CPUs' time, how much was idle (the whole machine, every process). */
  readonly idleCpu: number
  /** Of this thread's time, how much its event loop was busy. */
  readonly eventLoop: number
}

/** Returns the load since its previous call (the first call: since it was made). */
export type LoadSampler = () => Load

function cpuTimes(): { idle: number; total: number } {
  let idle = 0
  let total = 0
  for (const { times } of cpus()) {
    idle += times.idle
    total += times.user + times.nice + times.sys + times.idle + times.irq
  }
  return { idle, total }
}

/** Samples `os.cpus()` times and `performance.eventLoopUtilization()`. */
export function loadSampler(): LoadSampler {
  let cpu = cpuTimes()
  let loop: EventLoopUtilization = performance.eventLoopUtilization()
  return () => {
    const nowCpu = cpuTimes()
    const total = nowCpu.total - cpu.total
    const idleCpu = total > 0 ? (nowCpu.idle - cpu.idle) / total : 1
    const eventLoop = performance.eventLoopUtilization(loop).utilization
    cpu = nowCpu
    loop = performance.eventLoopUtilization()
    return { idleCpu, eventLoop }
  }
}
