// Load phases against a running server: closed loop at N connections, open-ish loop at a rate,
// a mixed soak; each with the server's CPU, /metrics deltas and an optional /healthz prober.
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { cpus } from 'node:os'
import { Worker } from 'node:worker_threads'
import autocannon from 'autocannon'
import type { Request as CannonRequest } from 'autocannon'
import type { ChildServer } from './children.ts'
import type { ProbeInit, ProbeReport } from './probe-worker.ts'
import {
  cpuSeconds,
  machineTicks,
  metric,
  rssBytes,
  sleep,
  summarize,
  waitForQuiet,
} from './util.ts'
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
  readonly generator: 'autocannon' | 'open-loop' | 'raw'
  readonly connections: number
  /** Most requests outstanding at once (autocannon: its connections). */
  readonly peakInFlight: number
  readonly overallRate: number | undefined
  readonly durationS: number
  /** Requests started per second. */
  readonly sentPerS: number
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
  /** Open loop only: accepted latency counted from the scheduled start (client queueing included). */
  readonly latencyOkFromSchedule: LatencySummary | undefined
  readonly serverCpuCores: number
  readonly benchCpuCores: number
  readonly machineBusyCores: number
  /** CPU used by other processes on the machine (busy - server - bench): interference. */
  readonly othersCpuCores: number
  /** Seconds the server needed to go idle after the previous run (abandoned work finishing). */
  readonly drainS: number
  /** Seconds waited for other processes to calm down before the run. */
  readonly quietWaitS: number
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

/**
 * Waits until the server uses less than 0.15 cores (abandoned requests of the last run done),
 * for at most `maxMs`; returns the seconds waited.
 */
export async function waitIdle(server: ChildServer, maxMs = 15_000): Promise<number> {
  const t0 = performance.now()
  let quiet = 0
  let last = cpuSeconds(server.pid)
  while (performance.now() - t0 < maxMs && quiet < 2) {
    await sleep(200)
    const now = cpuSeconds(server.pid)
    quiet = now - last < 0.03 ? quiet + 1 : 0
    last = now
  }
  return (performance.now() - t0) / 1000
}

export interface LoadOptions {
  readonly upload: Upload
  /** Closed loop: connections. Open loop: most sockets the client may open. */
  readonly connections: number
  readonly durationS: number
  readonly warmupS: number
  /**
   * Requests per second offered. With `generator: 'autocannon'` this is autocannon's
   * overallRate (each connection sends its share in a burst at the start of every second, and
   * waits for each answer); unset: closed loop.
   */
  readonly overallRate?: number
  /**
   * 'autocannon' (default); 'raw': a closed loop on raw keep-alive sockets; or 'open-loop':
   * requests started evenly spaced at `overallRate` on raw keep-alive sockets, whether or not
   * earlier ones have been answered (latency from the send, and from the scheduled start).
   */
  readonly generator?: 'autocannon' | 'open-loop' | 'raw'
  /** Probe /healthz at this many requests per second during the measured part. */
  readonly probeRate?: number
}

interface Driven {
  readonly statusCounts: Record<string, number>
  readonly okMs: number[]
  readonly okFromScheduleMs: number[] | undefined
  readonly allMs: number[]
  readonly errors: number
  readonly timeouts: number
  readonly durationS: number
  readonly sent: number
  readonly peakInFlight: number
}

async function driveAutocannon(
  server: ChildServer,
  options: LoadOptions,
  durationS: number
): Promise<Driven> {
  const okMs: number[] = []
  const allMs: number[] = []
  let sent = 0
  const run = autocannon({
    url: `${server.url}/predict`,
    method: 'POST',
    body: options.upload.body,
    headers: options.upload.headers,
    connections: options.connections,
    timeout: 10,
    duration: durationS,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
  })
  run.on('response', (_client, status, _bytes, ms) => {
    allMs.push(ms)
    if (status >= 200 && status < 300) okMs.push(ms)
  })
  run.on('reqError', () => {
    sent++
  })
  const result = await run
  const statusCounts: Record<string, number> = {}
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
    statusCounts[code] = Number(count)
  }
  sent += allMs.length
  return {
    statusCounts,
    okMs,
    okFromScheduleMs: undefined,
    allMs,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    sent,
    peakInFlight: options.connections,
  }
}

/** `POST /predict` with the upload, head and body in one buffer, written as is on a raw socket. */
function rawRequest(server: ChildServer, upload: Upload): Buffer {
  const { host } = new URL(server.url)
  const head =
    `POST /predict HTTP/1.1\r\nHost: ${host}\r\n` +
    Object.entries(upload.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    `Content-Length: ${upload.body.length}\r\n\r\n`
  return Buffer.concat([Buffer.from(head, 'latin1'), upload.body])
}

/** One answer read by a {@link RawConnection}. */
interface RawAnswer {
  readonly status: number
  /** The server said `Connection: close`: this socket is done. */
  readonly closed: boolean
}

/**
 * A keep-alive socket that writes a prebuilt request and reads each answer (head + Content-Length
 * body), with no HTTP client objects and no parsing beyond the status and the length: a small
 * fraction of an HTTP client's CPU per request, which on 2 shared cores is CPU the server under
 * test keeps. One request at a time (no pipelining).
 */
class RawConnection {
  readonly #socket: Socket
  #pending: Buffer = Buffer.alloc(0)
  #waiting: ((answer: RawAnswer | Error) => void) | undefined
  #failed: Error | undefined

  constructor(server: ChildServer) {
    const { hostname, port } = new URL(server.url)
    this.#socket = connect(Number(port), hostname)
    this.#socket.setNoDelay(true)
    this.#socket.on('data', (chunk: Buffer) => {
      this.#read(chunk)
    })
    const fail = (err: Error): void => {
      this.#failed ??= err
      this.#socket.destroy()
      const waiting = this.#waiting
      this.#waiting = undefined
      waiting?.(err)
    }
    this.#socket.on('error', fail)
    this.#socket.on('close', () => {
      fail(new Error('connection closed'))
    })
  }

  /** Writes `request` and resolves with its answer, or an Error if the connection failed. */
  send(request: Buffer): Promise<RawAnswer | Error> {
    if (this.#failed) return Promise.resolve(this.#failed)
    return new Promise((resolve) => {
      this.#waiting = resolve
      this.#socket.write(request)
    })
  }

  destroy(): void {
    this.#failed ??= new Error('destroyed')
    this.#socket.destroy()
  }

  #read(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk])
    const headEnd = this.#pending.indexOf('\r\n\r\n')
    if (headEnd < 0) return
    const head = this.#pending.subarray(0, headEnd).toString('latin1')
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
    if (this.#pending.length < headEnd + 4 + length) return
    this.#pending = this.#pending.subarray(headEnd + 4 + length)
    const closed = /\r\nconnection: *close/i.test(head)
    if (closed) this.destroy()
    const waiting = this.#waiting
    this.#waiting = undefined
    waiting?.({ status: Number(head.slice(9, 12)), closed })
  }
}

/**
 * A closed loop on {@link RawConnection}s: each connection sends the next request as soon as the
 * previous one is answered; one the server closes (a refusal) is replaced.
 */
async function driveRawLoop(
  server: ChildServer,
  options: LoadOptions,
  durationS: number
): Promise<Driven> {
  const request = rawRequest(server, options.upload)
  const statusCounts: Record<string, number> = {}
  const okMs: number[] = []
  const allMs: number[] = []
  let errors = 0
  let sent = 0
  const t0 = performance.now()
  const end = t0 + durationS * 1000
  const loop = async (): Promise<void> => {
    let connection = new RawConnection(server)
    while (performance.now() < end) {
      const started = performance.now()
      sent++
      const answer = await connection.send(request)
      if (answer instanceof Error) {
        errors++
        return
      }
      const ms = performance.now() - started
      statusCounts[answer.status] = (statusCounts[answer.status] ?? 0) + 1
      allMs.push(ms)
      if (answer.status >= 200 && answer.status < 300) okMs.push(ms)
      if (answer.closed) connection = new RawConnection(server)
    }
    connection.destroy()
  }
  await Promise.all(Array.from({ length: options.connections }, loop))
  return {
    statusCounts,
    okMs,
    okFromScheduleMs: undefined,
    allMs,
    errors,
    timeouts: 0,
    durationS: (performance.now() - t0) / 1000,
    sent,
    peakInFlight: options.connections,
  }
}

/**
 * An open loop: requests start evenly spaced at `overallRate` whether or not earlier ones were
 * answered, each on an idle {@link RawConnection} (a new one while fewer than `connections` are
 * open; beyond that it waits for one, counted in its from-schedule latency). Answers still owed
 * 10 s after the window are counted as timeouts.
 */
async function driveOpenLoop(
  server: ChildServer,
  options: LoadOptions,
  durationS: number
): Promise<Driven> {
  const rate = options.overallRate ?? 1
  const request = rawRequest(server, options.upload)
  const statusCounts: Record<string, number> = {}
  const okMs: number[] = []
  const okFromScheduleMs: number[] = []
  const allMs: number[] = []
  let errors = 0
  let inFlight = 0
  let peakInFlight = 0
  const idle: RawConnection[] = []
  const backlog: number[] = [] // scheduled times waiting for a connection
  const all = new Set<RawConnection>() // open connections
  let allAnswered: (() => void) | undefined
  const send = (connection: RawConnection, scheduled: number): void => {
    const sentAt = performance.now()
    void connection.send(request).then((answer) => {
      inFlight--
      const now = performance.now()
      if (answer instanceof Error) {
        errors++
      } else {
        statusCounts[answer.status] = (statusCounts[answer.status] ?? 0) + 1
        allMs.push(now - sentAt)
        if (answer.status >= 200 && answer.status < 300) {
          okMs.push(now - sentAt)
          okFromScheduleMs.push(now - scheduled)
        }
      }
      const reusable = !(answer instanceof Error || answer.closed)
      if (!reusable) all.delete(connection)
      const next = backlog.shift()
      if (next !== undefined && reusable) {
        inFlight++
        send(connection, next)
      } else if (next !== undefined) fire(next)
      else if (reusable) idle.push(connection)
      if (inFlight === 0 && backlog.length === 0) allAnswered?.()
    })
  }
  const fire = (scheduled: number): void => {
    let connection = idle.pop()
    if (!connection && all.size < options.connections) {
      connection = new RawConnection(server)
      all.add(connection)
    }
    if (!connection) {
      backlog.push(scheduled)
      return
    }
    inFlight++
    peakInFlight = Math.max(peakInFlight, inFlight + backlog.length)
    send(connection, scheduled)
  }
  const total = Math.floor(durationS * rate)
  let sent = 0
  const t0 = performance.now()
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate))
      while (sent < due) fire(t0 + (sent++ / rate) * 1000)
      if (sent >= total) {
        clearInterval(timer)
        resolve()
      }
    }, 2)
  })
  // answers to requests offered in the window still count; give up on them after 10 s
  if (inFlight > 0 || backlog.length > 0) {
    await Promise.race([new Promise<void>((resolve) => (allAnswered = resolve)), sleep(10_000)])
  }
  const timeouts = inFlight + backlog.length
  for (const connection of all) connection.destroy()
  return {
    statusCounts,
    okMs,
    okFromScheduleMs,
    allMs,
    errors,
    timeouts,
    durationS,
    sent,
    peakInFlight,
  }
}

/** Runs a warm-up then a measured run against `POST /predict`, with server-side measurements. */
export async function runLoad(server: ChildServer, options: LoadOptions): Promise<PhaseResult> {
  const drive = (durationS: number): Promise<Driven> =>
    options.generator === 'open-loop'
      ? driveOpenLoop(server, options, durationS)
      : options.generator === 'raw'
        ? driveRawLoop(server, options, durationS)
        : driveAutocannon(server, options, durationS)
  const drainS = await waitIdle(server)
  const quietWaitS = await waitForQuiet(server.pid)
  if (options.warmupS > 0) await drive(options.warmupS)
  if (!server.running) throw new Error(`${server.label} died during warm-up:\n${server.log}`)

  const before = await scrape(server)
  const prober = options.probeRate
    ? new Prober(`${server.url}/healthz`, 1000 / options.probeRate)
    : undefined
  const cpu0 = cpuSeconds(server.pid)
  const bench0 = process.cpuUsage()
  const machine0 = machineTicks()
  const t0 = performance.now()
  const result = await drive(options.durationS)
  const wall = (performance.now() - t0) / 1000
  const serverCpu = cpuSeconds(server.pid) - cpu0
  const bench = process.cpuUsage(bench0)
  const machine1 = machineTicks()
  const probe = prober ? await prober.stop() : undefined
  const after = await scrape(server)
  if (!server.running) throw new Error(`${server.label} died during the run:\n${server.log}`)

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
  const { okMs, allMs, durationS } = result
  return {
    generator: options.generator ?? 'autocannon',
    connections: options.connections,
    peakInFlight: result.peakInFlight,
    overallRate: options.overallRate,
    durationS,
    sentPerS: result.sent / durationS,
    responsesPerS: allMs.length / durationS,
    okPerS: okMs.length / durationS,
    statusCounts: result.statusCounts,
    non2xx: allMs.length - okMs.length,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyAll: summarize(allMs),
    latencyOk: summarize(okMs),
    latencyOkFromSchedule: result.okFromScheduleMs ? summarize(result.okFromScheduleMs) : undefined,
    serverCpuCores: perWall(serverCpu, wall),
    benchCpuCores: perWall((bench.user + bench.system) / 1e6, wall),
    machineBusyCores: machineShare * cpus().length,
    othersCpuCores: Math.max(
      0,
      machineShare * cpus().length -
        perWall(serverCpu, wall) -
        perWall((bench.user + bench.system) / 1e6, wall)
    ),
    drainS,
    quietWaitS,
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
  /** The first few 5xx answers: input name, status and body. */
  readonly first5xx: readonly {
    readonly input: string
    readonly status: number
    readonly body: string
  }[]
  /** rejected_requests_total by reason over the soak, from the server's /metrics. */
  readonly rejected: Record<string, number> | undefined
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
  const first5xx: { input: string; status: number; body: string }[] = []
  const requests: CannonRequest[] = inputs.map((input) => ({
    method: 'POST',
    path: input.path,
    headers: input.headers,
    body: input.body,
    onResponse: (status: number, body: string) => {
      const counts = (byInput[input.name] ??= {})
      counts[status] = (counts[status] ?? 0) + 1
      if (status >= 500 && first5xx.length < 5) {
        first5xx.push({ input: input.name, status, body: body.slice(0, 300) })
      }
    },
  }))
  let done = 0
  let rssAfterFirst = NaN
  const samples: { requests: number; bytes: number }[] = []
  const sampler = setInterval(() => {
    samples.push({ requests: done, bytes: rssBytes(server.pid) })
  }, 1000)
  await waitForQuiet(server.pid)
  const before = await scrape(server)
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
    const after = await scrape(server)
    const rejected =
      before && after
        ? Object.fromEntries(
            REASONS.map((r) => {
              const label = `reason="${r}"`
              const n = metric(after, 'rejected_requests_total', label)
              return [r, (n || 0) - (metric(before, 'rejected_requests_total', label) || 0)]
            })
          )
        : undefined
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
      first5xx,
      rejected,
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
