/**
 * A real TCP proxy on 127.0.0.1 that breaks connections on purpose: it can cut a connection after
 * a number of response bytes (a dropped connection mid-body) and slow responses down.
 */
import { connect, createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'

/** A running fault proxy in front of an HTTP server. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: use it as the endpoint instead of the target's. */
  readonly url: string
  /** Request lines seen, as `METHOD /path` plus ` bytes=a-b` when ranged. */
  readonly requests: readonly string[]
  /** Connections accepted so far. */
  readonly connections: number
  /** Connections cut so far. */
  readonly cuts: number
  /**
   * Cuts the next `times` connections whose response bytes reach `afterBytes`: exactly
   * `afterBytes` bytes are delivered, then the socket is closed.
   */
  cutAfter(afterBytes: number, times?: number): void
  /** Limits each connection's response to about `bytesPerSecond` (undefined: no limit). */
  throttle(bytesPerSecond: number | undefined): void
  /** Forgets a pending cut and the throttle. */
  reset(): void
  close(): Promise<void>
}

interface State {
  cut: { afterBytes: number; times: number } | undefined
  rate: number | undefined
  connections: number
  cuts: number
  readonly requests: string[]
  readonly sockets: Set<Socket>
}

function recordRequests(state: State, chunk: Buffer): void {
  const text = chunk.toString('latin1')
  const line = /^(GET|HEAD|PUT|POST|DELETE) (\S+) HTTP/.exec(text)
  if (!line) return
  const range = /\r\nrange: *(bytes=[0-9-]+)/i.exec(text)
  state.requests.push(`${line[1]} ${line[2]}${range ? ` ${range[1]}` : ''}`)
}

/** Forwards upstream bytes to the client, applying the cut and throttle rules. */
function pipeResponse(state: State, upstream: Socket, client: Socket): void {
  let sent = 0
  upstream.on('data', (chunk: Buffer) => {
    const cut = state.cut
    if (cut && cut.times > 0 && sent + chunk.length >= cut.afterBytes) {
      cut.times--
      state.cuts++
      const last = chunk.subarray(0, cut.afterBytes - sent)
      upstream.destroy()
      client.write(last, () => client.destroy())
      return
    }
    sent += chunk.length
    client.write(chunk)
    if (state.rate !== undefined) {
      upstream.pause()
      setTimeout(() => upstream.resume(), (1000 * chunk.length) / state.rate)
    }
  })
}

/** Starts a fault proxy in front of `target` (`http://host:port`). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstreamUrl = new URL(target)
  const state: State = {
    cut: undefined,
    rate: undefined,
    connections: 0,
    cuts: 0,
    requests: [],
    sockets: new Set(),
  }
  const server = createServer((client) => {
    state.connections++
    const upstream = connect(Number(upstreamUrl.port), upstreamUrl.hostname)
    for (const s of [client, upstream]) {
      state.sockets.add(s)
      s.on('close', () => state.sockets.delete(s))
      s.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.on('data', (chunk: Buffer) => {
      recordRequests(state, chunk)
      upstream.write(chunk)
    })
    client.on('end', () => upstream.end())
    upstream.on('end', () => client.end())
    pipeResponse(state, upstream, client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests: state.requests,
    get connections() {
      return state.connections
    },
    get cuts() {
      return state.cuts
    },
    cutAfter(afterBytes, times = 1) {
      state.cut = { afterBytes, times }
    },
    throttle(bytesPerSecond) {
      state.rate = bytesPerSecond
    },
    reset() {
      state.cut = undefined
      state.rate = undefined
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of state.sockets) s.destroy()
        server.close(() => {
          resolve()
        })
      }),
  }
}
