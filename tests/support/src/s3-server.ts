/** A real S3-compatible server (s3rver) on 127.0.0.1 for tests, with a real AWS SDK client. */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'

/** A running local S3 server and a client for it. */
export interface LocalS3 {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_S3. */
  readonly endpoint: string
  /** Environment for a child process to reach this server through the SDK's standard chain. */
  readonly env: Record<string, string>
  readonly client: S3Client
  /** Uploads a local file (or bytes) as `key`; returns the stored ETag. */
  put(bucket: string, key: string, body: string | Uint8Array): Promise<string>
  close(): Promise<void>
}

/** The part of s3rver 3's API the tests use (it ships no types). */
interface S3rverServer {
  run(): Promise<{ address: string; port: number }>
  close(): Promise<void>
}
type S3rverClass = new (options: {
  address: string
  port: number
  silent: boolean
  directory: string
  configureBuckets: { name: string }[]
}) => S3rverServer
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass

/** s3rver accepts only these credentials. */
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }

/** Starts s3rver on a free port on 127.0.0.1 with the given buckets, storing data in a temp dir. */
export async function startLocalS3(buckets: readonly string[]): Promise<LocalS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 's3rver-'))
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  })
  const { port } = await server.run()
  const endpoint = `http://127.0.0.1:${port}`
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: CREDENTIALS,
    // s3rver stores streamed uploads corrupted with the SDK's default checksums (FACTS.md)
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    },
    client,
    async put(bucket, key, body) {
      const bytes = typeof body === 'string' ? await readFile(body) : body
      const out = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }))
      return (out.ETag ?? '').replaceAll('"', '')
    },
    async close() {
      client.destroy()
      await server.close()
      await rm(directory, { recursive: true, force: true })
    },
  }
}
