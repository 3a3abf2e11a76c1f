// Load phases against a running server: closed loop at N connections, open-ish loop at a rate,
// a mixed soak; each with the server's CPU, /metrics deltas and an optional /healthz prober.
import { cpus } from 'node:os'
import { Worker } from 'node:worker_threads'
import autocannon from 'autocannon'
import type { Request as CannonRequest } from 'autocannon'
import type { ChildServer } from './children.ts'
import type { ProbeInit, ProbeReport } from './probe-worker.ts'
import { cpuSeconds, machineTicks, metric, rssBytes, summarize } from './util.ts'
import type { LatencySummary } from './util.ts'

/** A request body and its headers, built once and sent many times. */
export interface Upload {
  readonly body: Buffer
  readonly headers: Record<string, string>
}

/** Multipart form with one file field, as `curl -F "image=@file"` sends it. */
export function multipart(field: string, filename: string, type: string, bytes: Buffer): Upload {
  const boundary = '----resnet-bench-7MA4YWxkTrZu0gW'
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\n` +
    `Content-Type: ${type}\r\n\r\n`
  return {
    body: Buffer.concat([Buffer.from(head), bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  }
}

export interface HealthzResult extends LatencySummary {
  readonly failures: number
  readonly proberLoopDelayP99Ms: number
}

export interface PhaseResult {
  readonly connections: number
  readonly overallRate: number | undefined
  readonly durationS: number
  /** Responses received per second, any status. */
  readonly responsesPerS: number
  /** 2xx responses per second: throughput, or goodput under overload. */
  readonly okPerS: number
  readonly statusCounts: Record<string, number>
  readonly non2xx: number
  /** Connection errors and timeouts (no HTTP response). */
  readonly errors: number
  readonly timeouts: number
  readonly latencyAll: LatencySummary
  readonly latencyOk: LatencySummary
  readonly serverCpuCores: number
  readonly benchCpuCores: number
  readonly machineBusyCores: number
  readonly serverRssBytes: number
  /** From the server's /metrics (our server only). */
  readonly meanBatchSize: number | undefined
  readonly loopLagP99Ms: number | undefined
  readonly rejected: Record<string, number> | undefined
  readonly healthz: HealthzResult | undefined
}

async function scrape(server: ChildServer): Promise<string | undefined> {
  try {
    const res = await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(5000) })
    const text = await res.text()
    return res.status === 200 ? text : undefined
  } catch {
    return undefined
  }
}

class Prober {
  readonly #worker: Worker
  constructor(url: string, intervalMs: number) {
    const init: ProbeInit = { url, intervalMs, timeoutMs: 5000 }
    this.#worker = new Worker(new URL('./probe-worker.ts', import.meta.url), { workerData: init })
  }

  async stop(): Promise<ProbeReport> {
    const report = new Promise<ProbeReport>((resolve, reject) => {
      this.#worker.once('message', resolve)
      this.#worker.once('error', reject)
    })
    this.#worker.postMessage('stop')
    try {
      return await report
    } finally {
      await this.#worker.terminate()
    }
  }
}

const REASONS = ['queue_full', 'deadline', 'client_gone', 'draining']
const perWall = (seconds: number, wall: number): number => seconds / wall

export interface LoadOptions {
  readonly upload: Upload
  readonly connections: number
  readonly durationS: number
  readonly warmupS: number
  /** Requests per second over all connections (autocannon's overallRate); unset: closed loop. */
  readonly overallRate?: number
  /** Probe /healthz at this many requests per second during the measured part. */
  readonly probeRate?: number
}

/** Runs a warm-up then a measured autocannon run against `POST /predict`. */
export async function runLoad(server: ChildServer, options: LoadOptions): Promise<PhaseResult> {
  const base = {
    url: `${server.url}/predict`,
    method: 'POST',
    body: options.upload.body,
    headers: options.upload.headers,
    connections: options.connections,
    timeout: 10,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
  }
  if (options.warmupS > 0) await autocannon({ ...base, duration: options.warmupS })
  if (!server.running) throw new Error(`${server.label} died during warm-up:\n${server.log}`)

  const before = await scrape(server)
  const prober = options.probeRate
    ? new Prober(`${server.url}/healthz`, 1000 / options.probeRate)
    : undefined
  const cpu0 = cpuSeconds(server.pid)
  const bench0 = process.cpuUsage()
  const machine0 = machineTicks()
  const t0 = performance.now()
  const okMs: number[] = []
  const allMs: number[] = []
  const run = autocannon({ ...base, duration: options.durationS })
  run.on('response', (_client, status, _bytes, ms) => {
    allMs.push(ms)
    if (status >= 200 && status < 300) okMs.push(ms)
  })
  const result = await run
  const wall = (performance.now() - t0) / 1000
  const serverCpu = cpuSeconds(server.pid) - cpu0
  const bench = process.cpuUsage(bench0)
  const machine1 = machineTicks()
  const probe = prober ? await prober.stop() : undefined
  const after = await scrape(server)
  if (!server.running) throw new Error(`${server.label} died during the run:\n${server.log}`)

  const statusCounts: Record<string, number> = {}
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
    statusCounts[code] = Number(count)
  }
  const delta = (name: string, labels = ''): number =>
    after && before ? metric(after, name, labels) - (metric(before, name, labels) || 0) : NaN
  const batches = delta('inference_batch_size_count')
  const rejected =
    after && before
      ? Object.fromEntries(
          REASONS.map((r) => [r, delta('rejected_requests_total', `reason="${r}"`) || 0])
        )
      : undefined
  const machineShare =
    (machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total)
  return {
    connections: options.connections,
    overallRate: options.overallRate,
    durationS: result.duration,
    responsesPerS: allMs.length / result.duration,
    okPerS: okMs.length / result.duration,
    statusCounts,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyAll: summarize(allMs),
    latencyOk: summarize(okMs),
    serverCpuCores: perWall(serverCpu, wall),
    benchCpuCores: perWall((bench.user + bench.system) / 1e6, wall),
    machineBusyCores: machineShare * cpus().length,
    serverRssBytes: rssBytes(server.pid),
    meanBatchSize: after ? delta('inference_batch_size_sum') / batches : undefined,
    loopLagP99Ms: after ? metric(after, 'nodejs_eventloop_lag_p99_seconds') * 1000 : undefined,
    rejected,
    healthz: probe
      ? {
          ...summarize(probe.latenciesMs),
          failures: probe.failures,
          proberLoopDelayP99Ms: probe.selfLoopDelayP99Ms,
        }
      : undefined,
  }
}

/** One kind of request in the soak mix. */
export interface SoakInput {
  readonly name: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: Buffer
}

export interface SoakResult {
  readonly requests: number
  readonly durationS: number
  readonly connections: number
  readonly statusCounts: Record<string, number>
  readonly byInput: Record<string, Record<string, number>>
  readonly errors: number
  readonly timeouts: number
  readonly count5xx: number
  readonly rssAfterFirst: { readonly requests: number; readonly bytes: number }
  readonly rssEndBytes: number
  readonly rssEndIdleBytes: number
  readonly rssMaxBytes: number
  readonly rssSamples: readonly { readonly requests: number; readonly bytes: number }[]
}

/** Sends `amount` requests cycling through `inputs`; tracks status per input and the RSS. */
export async function runSoak(
  server: ChildServer,
  inputs: readonly SoakInput[],
  amount: number,
  connections: number,
  firstN: number
): Promise<SoakResult> {
  const byInput: Record<string, Record<string, number>> = {}
  const requests: CannonRequest[] = inputs.map((input) => ({
    method: 'POST',
    path: input.path,
    headers: input.headers,
    body: input.body,
    onResponse: (status: number) => {
      const counts = (byInput[input.name] ??= {})
      counts[status] = (counts[status] ?? 0) + 1
    },
  }))
  let done = 0
  let rssAfterFirst = NaN
  const samples: { requests: number; bytes: number }[] = []
  const sampler = setInterval(() => {
    samples.push({ requests: done, bytes: rssBytes(server.pid) })
  }, 1000)
  const t0 = performance.now()
  try {
    const run = autocannon({
      url: server.url,
      connections,
      amount,
      timeout: 10,
      requests,
    })
    run.on('response', () => {
      done++
      if (done === firstN) rssAfterFirst = rssBytes(server.pid)
    })
    const result = await run
    const rssEndBytes = rssBytes(server.pid)
    const durationS = (performance.now() - t0) / 1000
    await new Promise((r) => setTimeout(r, 2000))
    const rssEndIdleBytes = rssBytes(server.pid)
    if (!server.running) throw new Error(`${server.label} died during the soak:\n${server.log}`)
    const statusCounts: Record<string, number> = {}
    for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
      statusCounts[code] = Number(count)
    }
    const count5xx = Object.entries(statusCounts)
      .filter(([code]) => code.startsWith('5'))
      .reduce((a, [, n]) => a + n, 0)
    return {
      requests: done,
      durationS,
      connections,
      statusCounts,
      byInput,
      errors: result.errors,
      timeouts: result.timeouts,
      count5xx,
      rssAfterFirst: { requests: firstN, bytes: rssAfterFirst },
      rssEndBytes,
      rssEndIdleBytes,
      rssMaxBytes: Math.max(rssEndBytes, ...samples.map((s) => s.bytes).filter(Number.isFinite)),
      rssSamples: samples,
    }
  } finally {
    clearInterval(sampler)
  }
}
