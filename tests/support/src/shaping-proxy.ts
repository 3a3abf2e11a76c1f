/**
 * A TCP proxy on 127.0.0.1 that makes loopback look like a network: every request reaches the
 * server `firstByteDelayMs` late (so each response's first byte is that much later), each
 * connection's responses are capped at `perConnectionBytesPerS` and all of them together at
 * `linkBytesPerS`: token buckets (at most 50 ms of burst) refilled and spent by one timer every
 * 10 ms for all connections (see startPacer). The kept `stream-throttle` package (token buckets
 * from `limiter`) was tried first: its shared bucket wakes every waiting stream on a timer of its
 * own, and the proxy then spent ~2 s of CPU per 500 MB at 10 connections, as much as s3rver
 * itself, on the 2 cores the client needs.
 */
import { connect, createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { pipeline, Transform } from 'node:stream'

/** How the proxy shapes traffic. */
export interface Shaping {
  readonly perConnectionBytesPerS: number
  readonly linkBytesPerS: number
  readonly firstByteDelayMs: number
}

const MiB = 1024 * 1024

/**
 * S3 and a task's network scaled down by ~4 (one S3 GET stream gives ~85-100 MB/s, a task's NIC
 * several times that), so that two shared cores running the server, this proxy and the client
 * are not what limits the transfer.
 */
export const SCALED_S3: Shaping = Object.freeze({
  perConnectionBytesPerS: 25 * MiB,
  linkBytesPerS: 200 * MiB,
  firstByteDelayMs: 20,
})

/** A running shaping proxy. */
export interface ShapingProxy {
  /** `http://127.0.0.1:<port>`: use it as the endpoint instead of the target's. */
  readonly url: string
  readonly shaping: Shaping
  /** Connections accepted so far. */
  readonly connections: number
  close(): Promise<void>
}

/** Holds each chunk `ms` before passing it on, in order: latency, not a rate limit. */
const delay = (ms: number): Transform =>
  new Transform({
    transform(chunk: Buffer, _encoding, done) {
      setTimeout(() => {
        done(null, chunk)
      }, ms)
    },
  })

/** Longest burst: a line idle for longer than this gets no more credit than this. */
const BURST_MS = 50
/**
 * A tick this late still gets the credit of all the time since the last one: on these shared
 * cores a 10 ms timer fired up to 160 ms late (p99 110 ms at load average 16), and crediting at
 * most BURST_MS then lost half the link's rate.
 */
const LATE_MS = 250
/** How often the credit of every line is refilled and spent (one timer for the whole proxy). */
const TICK_MS = 10
/** Bytes read ahead from the server per connection (a network's buffers): the server never waits. */
const QUEUE_BYTES = 1024 * 1024

/** One connection's response direction: what the server sent that the client has not got yet. */
interface Line {
  readonly server: Socket
  readonly client: Socket
  readonly queue: Buffer[]
  queued: number
  /** The server has ended: end the client once the queue is sent. */
  ended: boolean
  /** Bytes it may send now at its own rate. */
  credit: number
}

/** Takes the first `bytes` of `line`'s queue. */
function take(line: Line, bytes: number): Buffer[] {
  const out: Buffer[] = []
  let left = bytes
  while (left > 0) {
    const head = line.queue[0]!
    if (head.length <= left) {
      out.push(line.queue.shift()!)
      left -= head.length
    } else {
      out.push(head.subarray(0, left))
      line.queue[0] = head.subarray(left)
      left = 0
    }
  }
  line.queued -= bytes
  return out
}

/**
 * Every TICK_MS, refills each line's credit at its rate and the link's at the link rate (unused
 * credit is kept up to BURST_MS worth, the time since the last tick counts up to LATE_MS, so a
 * timer that fires late costs no rate) and sends what both allow, lines taking turns first. One timer and one gathered write per line and tick: pacing each socket chunk
 * on its own timer cost the proxy ~2x the CPU of forwarding, on the cores the client needs.
 */
function startPacer(lines: Set<Line>, shaping: Shaping): () => void {
  const { perConnectionBytesPerS: rate, linkBytesPerS: linkRate } = shaping
  let last = performance.now()
  let link = 0
  let turn = 0
  const timer = setInterval(() => {
    const now = performance.now()
    const s = Math.min(now - last, LATE_MS) / 1000
    last = now
    link = Math.min(link, (linkRate * BURST_MS) / 1000) + s * linkRate
    const all = [...lines]
    turn = (turn + 1) % Math.max(all.length, 1)
    for (const line of [...all.slice(turn), ...all.slice(0, turn)]) {
      line.credit = Math.min(line.credit, (rate * BURST_MS) / 1000) + s * rate
      if (line.client.writableLength >= QUEUE_BYTES) continue // the client is not reading
      const bytes = Math.floor(Math.min(line.credit, link, line.queued))
      if (line.ended && line.queued === 0) line.client.end()
      if (bytes <= 0) continue
      line.credit -= bytes
      link -= bytes
      line.client.cork()
      for (const chunk of take(line, bytes)) line.client.write(chunk)
      line.client.uncork()
      if (line.ended && line.queued === 0) line.client.end()
      else if (line.queued < QUEUE_BYTES) line.server.resume()
    }
  }, TICK_MS).unref() // the sockets keep the process alive while there is traffic
  return () => {
    clearInterval(timer)
  }
}

/** Starts a shaping proxy in front of `target` (`http://127.0.0.1:<port>`). */
export async function startShapingProxy(
  target: string,
  shaping: Shaping = SCALED_S3
): Promise<ShapingProxy> {
  const upstream = new URL(target)
  const sockets = new Set<Socket>()
  const lines = new Set<Line>()
  const stopPacer = startPacer(lines, shaping)
  let connections = 0
  const proxy = createServer((client) => {
    connections++
    const server = connect(Number(upstream.port), upstream.hostname)
    const line: Line = { server, client, queue: [], queued: 0, ended: false, credit: 0 }
    lines.add(line)
    for (const s of [client, server]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => undefined) // followed by 'close'
    }
    client.on('close', () => {
      lines.delete(line)
      server.destroy()
    })
    server.on('end', () => (line.ended = true)) // the rest is sent, then the client's end
    server.on('close', () => {
      if (!line.ended) client.destroy()
    })
    pipeline(client, delay(shaping.firstByteDelayMs), server, () => undefined)
    server.on('data', (chunk: Buffer) => {
      line.queue.push(chunk)
      line.queued += chunk.length
      if (line.queued >= QUEUE_BYTES) server.pause()
    })
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const { port } = proxy.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    shaping,
    get connections() {
      return connections
    },
    close: () =>
      new Promise<void>((resolve) => {
        stopPacer()
        for (const s of sockets) s.destroy()
        proxy.close(() => {
          resolve()
        })
      }),
  }
}
