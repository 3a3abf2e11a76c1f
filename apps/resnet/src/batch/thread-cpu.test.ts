import { existsSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { threadCpu, threadCpuSince } from './thread-cpu.js'

// spins 400 ms, says so, then stays alive (an exited thread's CPU leaves /proc with it)
const SPIN = `const end = Date.now() + 400; while (Date.now() < end);
require('node:worker_threads').parentPort.postMessage('spun'); setTimeout(() => {}, 5000)`

describe.skipIf(!existsSync('/proc/self/task'))('threadCpu', () => {
  it('charges a busy worker thread to its name, not to the main thread', async () => {
    const before = threadCpu()
    const worker = new Worker(SPIN, { eval: true, name: 'spinner' })
    await new Promise((resolve) => worker.once('message', resolve))
    const spent = threadCpuSince(before)
    await worker.terminate()
    // 400 ms of spinning, counted in 10 ms ticks on a machine that may be shared: at least half
    expect(spent.spinner).toBeGreaterThanOrEqual(0.2)
    expect(spent.MainThread ?? 0).toBeLessThan(spent.spinner!)
  })
})
