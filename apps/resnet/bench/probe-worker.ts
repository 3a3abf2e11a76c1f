// A light /healthz prober in its own worker thread, so the load generator's event loop in the
// main thread does not delay it. Open loop: one GET every `intervalMs`, whether or not the
// previous one has answered (like a load balancer's health check).
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parentPort, workerData } from 'node:worker_threads'

export interface ProbeInit {
  readonly url: string
  readonly intervalMs: number
  readonly timeoutMs: number
}

export interface ProbeReport {
  /** Answered probes' latencies; a probe that fails or times out counts as `timeoutMs`. */
  readonly latenciesMs: number[]
  readonly failures: number
  /** p99 of this worker's own event-loop delay: the prober's measurement noise floor. */
  readonly selfLoopDelayP99Ms: number
}

const port = parentPort
if (!port) throw new Error('probe-worker must run in a worker thread')
const init = workerData as ProbeInit
const latenciesMs: number[] = []
let failures = 0
const pending = new Set<Promise<void>>()
const loop = monitorEventLoopDelay({ resolution: 5 })
loop.enable()

const probe = (): void => {
  const started = performance.now()
  const p = fetch(init.url, { signal: AbortSignal.timeout(init.timeoutMs) })
    .then(async (res) => {
      await res.arrayBuffer()
      latenciesMs.push(performance.now() - started)
      if (res.status !== 200) failures++
    })
    .catch(() => {
      latenciesMs.push(Math.max(init.timeoutMs, performance.now() - started))
      failures++
    })
    .finally(() => pending.delete(p))
  pending.add(p)
}

const timer = setInterval(probe, init.intervalMs)
port.on('message', (msg: string) => {
  if (msg !== 'stop') return
  clearInterval(timer)
  void Promise.allSettled([...pending]).then(() => {
    loop.disable()
    const report: ProbeReport = {
      latenciesMs,
      failures,
      selfLoopDelayP99Ms: loop.percentile(99) / 1e6,
    }
    port.postMessage(report)
  })
})
