/**
 * A TCP proxy on 127.0.0.1 that makes loopback look like a network: every request reaches the
 * server `firstByteDelayMs` late (so each response's first byte is that much later), each
 * connection's responses are capped at `perConnectionBytesPerS` and all of them together at
 * `linkBytesPerS`. Each response chunk gets a departure time from two virtual clocks (its
 * connection's and the link's, at most 50 ms of burst, so that a busy event loop costs no rate) and waits for it on one timer. The kept
 * `stream-throttle` package (token buckets from `limiter`) was tried first: its shared bucket wakes
 * every waiting stream on a timer of its own, and the proxy then spent ~2 s of CPU per 500 MB at
 * 10 connections, as much as s3rver itself, on the 2 cores the client needs.
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
/** Bytes read ahead from the server per connection (a network's buffers): the server never waits. */
const QUEUE_BYTES = 1024 * 1024

/** The time (ms, performance.now) until which a rate-limited line is busy. */
interface Clock {
  next: number
}

/**
 * Reserves `bytes` on `clock` (as early as it is free; up to BURST_MS of unused time is credited
 * back, so a timer that fires late costs no rate) and calls `then` at the reserved time.
 */
function reserve(clock: Clock, bytes: number, bytesPerS: number, then: () => void): void {
  const now = performance.now()
  const at = Math.max(now - BURST_MS, clock.next)
  clock.next = at + (bytes * 1000) / bytesPerS
  if (at - now < 1) then()
  else setTimeout(then, at - now)
}

/**
 * Passes chunks on no faster than `rate` bytes/s on its own, then `linkRate` on the `link` shared
 * with the other connections (reserved only once the chunk is due on its own: first come, first
 * served).
 */
function paced(rate: number, linkRate: number, link: Clock): Transform {
  const own: Clock = { next: 0 }
  return new Transform({
    writableHighWaterMark: QUEUE_BYTES,
    transform(chunk: Buffer, _encoding, done) {
      reserve(own, chunk.length, rate, () => {
        reserve(link, chunk.length, linkRate, () => {
          done(null, chunk)
        })
      })
    },
  })
}

/** Starts a shaping proxy in front of `target` (`http://127.0.0.1:<port>`). */
export async function startShapingProxy(
  target: string,
  shaping: Shaping = SCALED_S3
): Promise<ShapingProxy> {
  const upstream = new URL(target)
  const link: Clock = { next: 0 }
  const sockets = new Set<Socket>()
  let connections = 0
  const proxy = createServer((client) => {
    connections++
    const server = connect(Number(upstream.port), upstream.hostname)
    for (const s of [client, server]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
    }
    const stop = (err: Error | null): void => {
      if (!err) return
      client.destroy()
      server.destroy()
    }
    pipeline(client, delay(shaping.firstByteDelayMs), server, stop)
    const { perConnectionBytesPerS: rate, linkBytesPerS: linkRate } = shaping
    pipeline(server, paced(rate, linkRate, link), client, stop)
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
        for (const s of sockets) s.destroy()
        proxy.close(() => {
          resolve()
        })
      }),
  }
}
