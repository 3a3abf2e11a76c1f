/**
 * Sends an SDK-signed GET over its own connection and reads the response body straight from the
 * socket into 512 KiB buffers (`onread`), which reach the file writer whole. Node's HTTP client
 * hands over one freshly allocated 64 KiB Buffer per socket read and runs every one through
 * IncomingMessage and the SDK's stream wrappers; for a large model that per-chunk work costs more
 * CPU than the bytes themselves (measured: half the client CPU of a plain `GetObject` piped to a
 * file), and a download that must also hash every byte is CPU-bound. Only the body path is ours:
 * the SDK still resolves credentials, signs, retries and parses errors (see
 * {@link directGetMiddleware}). One request per connection (`Connection: close`); HTTP/1.1 with a
 * Content-Length, chunked or close-delimited body; TLS with the default CA store.
 */
import net from 'node:net'
import { Readable } from 'node:stream'
import tls from 'node:tls'

/** The parts of a signed SDK request this sends (`@smithy/protocol-http`'s HttpRequest). */
export interface SignedRequest {
  readonly method: string
  readonly protocol: string
  readonly hostname: string
  readonly port?: number | undefined
  readonly path: string
  readonly query?: Record<string, string | string[] | null> | undefined
  readonly headers: Record<string, string>
}

/** The response as the SDK's deserializers read it; `body` is a byte stream. */
export interface DirectResponse {
  readonly statusCode: number
  readonly reason: string
  readonly headers: Record<string, string>
  readonly body: Readable
}

/** Extra options for the connection (tests: a private CA). */
export interface DirectGetOptions {
  readonly ca?: string | Buffer | undefined
}

/** Size of the buffers the body is read into; a buffer with less room than `MIN_ROOM` is handed on. */
export const BODY_BUFFER_BYTES: number = 512 * 1024
const MIN_ROOM = 64 * 1024
const MAX_HEAD_BYTES = 64 * 1024

/**
 * Spare body buffers: allocating 2 GB/s of fresh ArrayBuffers makes V8 mark-compact ~10x/s.
 * They are shared memory, so that a hashing worker can read a chunk where it is, without a copy
 * (see file-hasher.ts).
 */
const spare: SharedArrayBuffer[] = []
const MAX_SPARE = 16
/** Holds on each pooled buffer: one while the socket fills it, one per view handed on. */
const holds = new WeakMap<ArrayBufferLike, number>()
let dropSpare: NodeJS.Timeout | undefined

function takeBuffer(): Buffer {
  const sab = spare.pop() ?? new SharedArrayBuffer(BODY_BUFFER_BYTES)
  holds.set(sab, 1)
  return Buffer.from(sab)
}

/**
 * Keeps a body chunk's buffer from being reused until one more {@link releaseBodyBuffer} (e.g.
 * while another thread reads it); false if it is not a pooled body buffer.
 */
export function holdBodyBuffer(view: Uint8Array): boolean {
  const n = holds.get(view.buffer)
  if (n === undefined) return false
  holds.set(view.buffer, n + 1)
  return true
}

/**
 * Gives back a body chunk of {@link directGet} once its bytes are used (written, hashed) and the
 * view will not be read again: its buffer is reused for the next body bytes. Call it at most once
 * per chunk; chunks that are never given back are simply garbage-collected.
 */
export function releaseBodyBuffer(view: Uint8Array): void {
  const ab = view.buffer
  const n = holds.get(ab)
  if (n === undefined) return // not ours, or already given back
  if (n > 1) {
    holds.set(ab, n - 1)
    return
  }
  holds.delete(ab)
  if (spare.length >= MAX_SPARE || !(ab instanceof SharedArrayBuffer)) return
  spare.push(ab)
  // an idle process does not keep the spares
  dropSpare ??= setTimeout(() => {
    spare.length = 0
    dropSpare = undefined
  }, 2000).unref()
  dropSpare.refresh()
}

const escape = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/** The request target: the (already encoded) path and the query, as the SDK's handler builds it. */
export function requestTarget(request: SignedRequest): string {
  const parts: string[] = []
  for (const [key, value] of Object.entries(request.query ?? {})) {
    const values = Array.isArray(value) ? value : [value]
    for (const v of values) parts.push(v === null ? escape(key) : `${escape(key)}=${escape(v)}`)
  }
  return parts.length > 0 ? `${request.path}?${parts.join('&')}` : request.path
}

function requestHead(request: SignedRequest): string {
  const lines = [`${request.method} ${requestTarget(request)} HTTP/1.1`]
  let host = false
  for (const [name, value] of Object.entries(request.headers)) {
    if (/[\r\n]/.test(name + value)) throw new Error(`invalid header ${name}`)
    const lower = name.toLowerCase()
    if (lower === 'connection' || lower === 'transfer-encoding') continue
    host ||= lower === 'host'
    lines.push(`${name}: ${value}`)
  }
  if (!host) {
    const port = request.port ? `:${request.port}` : ''
    lines.push(`host: ${request.hostname}${port}`)
  }
  lines.push('connection: close')
  return `${lines.join('\r\n')}\r\n\r\n`
}

interface Head {
  readonly statusCode: number
  readonly reason: string
  readonly headers: Record<string, string>
}

function parseHead(text: string): Head {
  const [statusLine = '', ...lines] = text.split('\r\n')
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine)
  if (!m) throw connectionError(`bad HTTP status line ${JSON.stringify(statusLine.slice(0, 80))}`)
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon <= 0)
      throw connectionError(`bad HTTP header line ${JSON.stringify(line.slice(0, 80))}`)
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value
  }
  return { statusCode: Number(m[1]), reason: m[2] ?? '', headers }
}

/** A dropped or malformed connection: `ECONNRESET`, which the retry logic treats as transient. */
function connectionError(message: string): Error {
  return Object.assign(new Error(message), { code: 'ECONNRESET' })
}

/** Decodes `Transfer-Encoding: chunked`, handing on views of the payload (no copies). */
class ChunkedDecoder {
  #left = 0
  #state: 'size' | 'data' | 'data-crlf' | 'trailer' | 'done' = 'size'
  #line = ''

  get done(): boolean {
    return this.#state === 'done'
  }

  /** Feeds `data`; calls `emit` for each piece of payload. */
  feed(data: Uint8Array, emit: (piece: Uint8Array) => void): void {
    let i = 0
    while (i < data.length && this.#state !== 'done') {
      if (this.#state === 'data') {
        const n = Math.min(this.#left, data.length - i)
        emit(data.subarray(i, i + n))
        i += n
        this.#left -= n
        if (this.#left === 0) this.#state = 'data-crlf'
        continue
      }
      const byte = data[i++]!
      if (byte !== 0x0a) {
        if (byte !== 0x0d) this.#line += String.fromCharCode(byte)
        if (this.#line.length > 1024) throw connectionError('bad chunked encoding')
        continue
      }
      const line = this.#line
      this.#line = ''
      if (this.#state === 'data-crlf') {
        if (line !== '') throw connectionError('bad chunked encoding')
        this.#state = 'size'
      } else if (this.#state === 'size') {
        const size = Number.parseInt(line.split(';')[0]!.trim(), 16)
        if (!Number.isFinite(size) || size < 0) throw connectionError('bad chunk size')
        this.#left = size
        this.#state = size === 0 ? 'trailer' : 'data'
      } else if (line === '') {
        this.#state = 'done' // the blank line after the (ignored) trailers
      }
    }
  }
}

/** How the body ends: after `length` bytes, at the last chunk, or when the server closes. */
type Framing =
  | { kind: 'length'; left: number }
  | { kind: 'chunked'; decoder: ChunkedDecoder }
  | { kind: 'close' }

function framingOf(head: Head): Framing {
  if (/\bchunked\b/i.test(head.headers['transfer-encoding'] ?? '')) {
    return { kind: 'chunked', decoder: new ChunkedDecoder() }
  }
  const length = head.headers['content-length']
  if (length !== undefined) {
    if (!/^\d+$/.test(length)) throw connectionError(`bad Content-Length ${length}`)
    return { kind: 'length', left: Number(length) }
  }
  return { kind: 'close' }
}

/**
 * Sends `request` (a GET or HEAD without a body) and resolves with the status, the headers and the
 * body stream once the response head has arrived. `signal` aborts the connection at any time.
 */
export function directGet(
  request: SignedRequest,
  signal?: AbortSignal,
  options: DirectGetOptions = {}
): Promise<DirectResponse> {
  const secure = request.protocol === 'https:'
  const port = request.port ?? (secure ? 443 : 80)
  const host = request.hostname.replace(/^\[|\]$/g, '') // an IPv6 literal without brackets
  const head = requestHead(request)
  const noBody = request.method === 'HEAD'

  return new Promise<DirectResponse>((resolve, reject) => {
    signal?.throwIfAborted()
    let buf = takeBuffer()
    /** Bytes of `buf` filled; body bytes of `buf` start at `bodyStart`. */
    let used = 0
    let bodyStart = 0
    let response: DirectResponse | undefined
    let framing: Framing | undefined
    let body: Readable | undefined
    let finished = false

    const fail = (err: Error): void => {
      if (finished) return
      finished = true
      cleanup()
      socket.destroy()
      if (!body) {
        releaseBodyBuffer(buf)
        reject(err)
        return
      }
      // hand on the body bytes that did arrive (a flowing consumer, e.g. a pipe into the file,
      // gets them and can resume after them), then fail the stream; bytes still queued in it
      // are dropped, as by Node's IncomingMessage
      handOn('done')
      body.destroy(err)
    }
    const onAbort = (): void => {
      // the shape of the SDK's own handler's abort error (name, message, the reason as cause)
      fail(
        Object.assign(new Error('Request aborted'), {
          name: 'AbortError',
          cause: signal?.reason as unknown,
        })
      )
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const cleanup = (): void => signal?.removeEventListener('abort', onAbort)

    const finish = (): void => {
      finished = true
      cleanup()
      socket.destroy()
      body?.push(null)
    }
    /** Hands a view of body bytes on (paused while the consumer is behind). */
    const push = (view: Uint8Array): void => {
      holdBodyBuffer(view) // views of `buf`, which the socket's hold keeps pooled
      if (body?.push(view) === false) socket.pause()
    }
    /**
     * Hands the body bytes gathered in `buf` on. `next`: a fresh buffer takes over (this one is
     * full); `done`: no more bytes will be read into it.
     */
    const handOn = (then: 'next' | 'done' | 'more'): void => {
      if (used > bodyStart && body && framing?.kind !== 'chunked') {
        push(buf.subarray(bodyStart, used))
      }
      bodyStart = used
      if (then !== 'more') releaseBodyBuffer(buf) // the socket's hold
      if (then === 'next') {
        buf = takeBuffer()
        used = 0
        bodyStart = 0
      }
    }

    const onHead = (end: number): void => {
      const parsed = parseHead(buf.subarray(0, end).toString('latin1'))
      framing =
        noBody || parsed.statusCode === 204 || parsed.statusCode === 304
          ? { kind: 'length', left: 0 }
          : framingOf(parsed)
      body = new Readable({
        read: () => {
          if (!finished) socket.resume()
        },
        destroy: (err, callback) => {
          finished = true
          cleanup()
          socket.destroy()
          callback(err)
        },
      })
      response = { ...parsed, body }
      bodyStart = end + 4
      resolve(response)
      onBody(bodyStart, used)
    }

    /** Body bytes `buf[from, to)` arrived. */
    const onBody = (from: number, to: number): void => {
      const f = framing!
      if (f.kind === 'length') {
        const take = Math.min(to - from, f.left)
        f.left -= take
        used = from + take // bytes past the body (none expected) are dropped
        if (f.left === 0) {
          handOn('done')
          finish()
        }
      } else if (f.kind === 'chunked') {
        f.decoder.feed(buf.subarray(from, to), push)
        bodyStart = to
        if (f.decoder.done) {
          handOn('done')
          finish()
        }
      }
    }

    const onRead = (n: number): boolean => {
      if (finished) return false
      const from = used
      used += n
      if (!response) {
        const end = buf.subarray(Math.max(0, from - 3), used).indexOf('\r\n\r\n')
        if (end >= 0) {
          onHead(end + Math.max(0, from - 3))
        } else if (used > MAX_HEAD_BYTES) {
          fail(connectionError('HTTP response head too large'))
          return false
        }
      } else {
        onBody(from, used)
      }
      if (finished as boolean) return false // the body just ended, or failed
      if (BODY_BUFFER_BYTES - used < MIN_ROOM) handOn(response ? 'next' : 'more')
      return true
    }

    const onread = {
      buffer: (): Uint8Array => buf.subarray(used),
      callback: (n: number): boolean => {
        try {
          return onRead(n)
        } catch (err) {
          fail(err as Error)
          return false
        }
      },
    }
    const socket: net.Socket = secure
      ? tls.connect({
          host,
          port,
          servername: net.isIP(host) ? undefined : host,
          ALPNProtocols: ['http/1.1'],
          ca: options.ca,
          onread, // supported by tls.connect, missing from @types/node's ConnectionOptions
        } as tls.ConnectionOptions)
      : net.connect({ host, port, onread })
    socket.setNoDelay(true)
    socket.on(secure ? 'secureConnect' : 'connect', () => {
      socket.write(head)
    })
    socket.on('error', fail)
    socket.on('end', () => {
      if (finished) return
      if (framing?.kind === 'close') {
        handOn('done')
        finish()
        return
      }
      const left = framing?.kind === 'length' ? ` (${framing.left} body bytes missing)` : ''
      fail(connectionError(`the server closed the connection before the response ended${left}`))
    })
    socket.on('close', () => {
      fail(connectionError('the connection closed before the response ended'))
    })
  })
}

/** A middleware for one SDK command: `step`, `priority` and `name` are its place in the stack. */
export interface DirectGetMiddleware {
  readonly middleware: <Output extends object>(
    next: (args: { request: unknown }) => Promise<{ output: Output; response: unknown }>
  ) => (args: { request: unknown }) => Promise<{ output: Output; response: unknown }>
  readonly options: { step: 'deserialize'; priority: 'low'; name: string }
}

const isSignedRequest = (request: unknown): request is SignedRequest => {
  const r = request as Partial<SignedRequest> | undefined
  return (
    typeof r?.method === 'string' && typeof r.hostname === 'string' && typeof r.path === 'string'
  )
}

/**
 * Sends a command's signed GET with {@link directGet} instead of the client's request handler.
 * It sits innermost (deserialize step, low priority): after signing, inside the SDK's retries and
 * deserializer, so errors, ETags and retries behave as with the SDK's own handler. Add it to one
 * command: `command.middlewareStack.add(m.middleware, m.options)`.
 */
export function directGetMiddleware(signal?: AbortSignal): DirectGetMiddleware {
  return {
    middleware: (next) => async (args) => {
      const request = args.request
      if (!isSignedRequest(request) || request.method !== 'GET') return next(args)
      const response = await directGet(request, signal)
      return { response, output: {} as never }
    },
    options: { step: 'deserialize', priority: 'low', name: 'directGetMiddleware' },
  }
}
