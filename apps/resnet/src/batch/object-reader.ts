/**
 * Reads a job's images from S3 at a fraction of a GetObjectCommand's CPU: the endpoint the
 * client's rules give for the bucket (resolved once per bucket), the client's credentials, region
 * and clock offset, a SigV4 GET signed by `sigv4-get.ts` and sent with Node's `http(s).request` on
 * a keep-alive agent, the body read into one buffer of its Content-Length (which the decode worker
 * then takes over without a copy). What is skipped is the command's middleware stack per object
 * (serde, endpoint rules, user agent, retry bookkeeping) and the SDK handler's per-request set-up.
 * Anything but a whole plain 200 (an error status, a stall, a cut or short body) goes through the
 * full GetObjectCommand, so retries, redirects, missing objects and error codes stay the SDK's.
 * Like `responseChecksumValidation: 'WHEN_REQUIRED'`, it asks for no checksum (TLS protects the
 * bytes in transit; a corrupt image is refused by the decoder like any other).
 * The direct GETs use Node's default TLS (the system's CAs, NODE_EXTRA_CA_CERTS), as the task's
 * client does: batch.ts makes it with the SDK's defaults; a client with a custom request handler
 * (a proxy) would still get direct GETs, each failing over to the command.
 *
 * Measured (1,000-2,000 GETs of a 96 KB object from s3rver in another process, 16 in flight, CPU
 * ms per GET of the reading process): 2026-12-03, 2 shared cores: GetObjectCommand with checksums
 * off 2.0-2.2, the SDK's signer and handler without the command 0.92-0.94; 2026-12-04, the reader
 * pinned to its own CPU, medians of 7 alternating runs: the SDK's signer and handler 0.83, this
 * way 0.51 (sigv4-get.ts gives the steps between).
 */
import http from 'node:http'
import https from 'node:https'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import type { S3Client } from '@aws-sdk/client-s3'
import { getEndpointFromInstructions } from '@smithy/core/endpoints'
import { extendedEncodeURIComponent } from '@smithy/core/protocols'
import { GetSigner } from './sigv4-get.js'

/** An object's bytes, or only its size when that is over the caller's limit (nothing read). */
export type ObjectRead =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'too-large'; readonly size: number }

interface BucketEndpoint {
  readonly url: URL
  readonly signingRegion: string | undefined
  readonly signingName: string | undefined
}

interface SigningScheme {
  readonly name?: string
  readonly signingRegion?: string
  readonly signingName?: string
}

/** What the SDK's endpoint rules say for GETs of this bucket; undefined when not plain SigV4. */
async function bucketEndpoint(s3: S3Client, bucket: string): Promise<BucketEndpoint | undefined> {
  // any key: the rules pick the endpoint by bucket (the key is only appended as the path)
  const endpoint = await getEndpointFromInstructions(
    { Bucket: bucket, Key: 'k' },
    GetObjectCommand,
    s3.config
  )
  const schemes = (endpoint.properties?.authSchemes ?? []) as SigningScheme[]
  const scheme = schemes[0]
  // S3 Express (its session auth) and multi-region access points (SigV4a): the SDK's own path
  if (scheme !== undefined && scheme.name !== 'sigv4') return undefined
  if (endpoint.headers !== undefined && Object.keys(endpoint.headers).length > 0) return undefined
  if (endpoint.url.search !== '') return undefined
  return {
    url: endpoint.url,
    signingRegion: scheme?.signingRegion,
    signingName: scheme?.signingName,
  }
}

/**
 * One keep-alive pool per scheme for every reader of the process (a reader per shard). 50 sockets,
 * as the SDK's handler has; idle ones do not keep the process alive.
 */
const AGENTS = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 50 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 50 }),
}
/** A GET whose socket is silent this long is given up (and retried by the full command). */
const IDLE_TIMEOUT_MS = 30_000
const SIGNER = new GetSigner()

/** A 200's body read into one buffer of its Content-Length; rejects on anything else. */
function readWhole(response: http.IncomingMessage, length: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const bytes = new Uint8Array(length)
    let at = 0
    response.on('data', (chunk: Buffer) => {
      if (at + chunk.byteLength > length) {
        response.destroy(new Error('body longer than its Content-Length'))
        return
      }
      bytes.set(chunk, at)
      at += chunk.byteLength
    })
    response.once('end', () => {
      if (at === length) resolve(bytes)
      else reject(new Error(`body cut at ${at} of ${length} bytes`))
    })
    response.on('error', reject)
    response.once('aborted', () => {
      reject(new Error('response aborted'))
    })
  })
}

/** Sends one signed GET; resolves with the response (its body unread). */
function sendGet(url: URL, path: string, headers: Record<string, string>) {
  const protocol = url.protocol === 'http:' ? 'http:' : 'https:'
  return new Promise<http.IncomingMessage>((resolve, reject) => {
    const request = (protocol === 'http:' ? http : https).request(
      {
        method: 'GET',
        protocol,
        hostname: url.hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path,
        headers,
        agent: AGENTS[protocol],
        timeout: IDLE_TIMEOUT_MS,
      },
      resolve
    )
    request.once('timeout', () => request.destroy(new Error('S3 GET stalled')))
    request.on('error', reject)
    request.end()
  })
}

/** The key as a path, each segment encoded as the SDK's serializer encodes it. */
const keyPath = (key: string): string => key.split('/').map(extendedEncodeURIComponent).join('/')

/** Reads objects for a batch job (one per image); see the module comment. */
export class ObjectReader {
  readonly #s3: S3Client
  readonly #endpoints = new Map<string, Promise<BucketEndpoint | undefined>>()

  constructor(s3: S3Client) {
    this.#s3 = s3
  }

  /** The object's bytes unless it is over `maxBytes`; throws what GetObjectCommand throws. */
  async read(bucket: string, key: string, maxBytes: number): Promise<ObjectRead> {
    const fast = await this.#readDirect(bucket, key, maxBytes).catch(() => undefined)
    return fast ?? this.#readWithCommand(bucket, key, maxBytes)
  }

  /** One signed GET; undefined for anything the full command should handle instead. */
  async #readDirect(
    bucket: string,
    key: string,
    maxBytes: number
  ): Promise<ObjectRead | undefined> {
    let endpoint = this.#endpoints.get(bucket)
    if (endpoint === undefined) {
      endpoint = bucketEndpoint(this.#s3, bucket)
      this.#endpoints.set(bucket, endpoint)
    }
    const at = await endpoint
    if (at === undefined) return undefined
    const { config } = this.#s3
    const base = at.url.pathname.endsWith('/') ? at.url.pathname : `${at.url.pathname}/`
    const path = base + keyPath(key)
    const signed = SIGNER.sign(
      {
        host: at.url.host,
        path,
        region: at.signingRegion ?? (await config.region()),
        service: at.signingName ?? 's3',
        date: new Date(Date.now() + config.systemClockOffset),
      },
      await config.credentials()
    )
    const response = await sendGet(at.url, path, { host: at.url.host, ...signed })
    const size = Number(response.headers['content-length'] ?? Number.NaN)
    if (response.statusCode !== 200 || !Number.isSafeInteger(size)) {
      response.destroy()
      return undefined
    }
    if (size > maxBytes) {
      response.destroy()
      return { kind: 'too-large', size }
    }
    return { kind: 'bytes', bytes: await readWhole(response, size) }
  }

  async #readWithCommand(bucket: string, key: string, maxBytes: number): Promise<ObjectRead> {
    const out = await this.#s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    const size = out.ContentLength ?? 0
    if (size > maxBytes) {
      out.Body?.transformToWebStream()
        .cancel()
        .catch(() => undefined)
      return { kind: 'too-large', size }
    }
    return { kind: 'bytes', bytes: await out.Body!.transformToByteArray() }
  }
}
