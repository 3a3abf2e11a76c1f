/** Helpers for this package's tests (not built into dist): S3 clients, loggers, cache listings. */
import { createHash, randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { S3Client } from '@aws-sdk/client-s3'
import { encodeModel } from '../demo/onnx-proto.js'
import type { LoaderLogger } from '../progress.js'

/** An SDK client for s3rver reached through `endpoint` (a proxy in front of it, typically). */
export function s3ClientFor(endpoint: string, maxAttempts = 3): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts,
    retryMode: 'standard',
  })
}

/** One log line captured by {@link memoryLogger}. */
export interface LogLine {
  readonly level: 'info' | 'warn'
  readonly msg: string
  readonly fields: Record<string, unknown>
}

/** A logger that keeps its lines. */
export function memoryLogger(): LoaderLogger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = []
  return {
    lines,
    info: (fields, msg) => lines.push({ level: 'info', msg, fields }),
    warn: (fields, msg) => lines.push({ level: 'warn', msg, fields }),
  }
}

/** `n` random bytes and their sha256. */
export function randomContent(n: number): { bytes: Buffer; sha256: string } {
  const bytes = randomBytes(n)
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') }
}

/**
 * A valid ONNX model of about `n` bytes (an Identity graph carrying a random initializer), and its
 * sha256: big enough to download in parts, valid enough to pass the loader's format check.
 */
export function randomOnnx(n: number): { bytes: Buffer; sha256: string } {
  const data = new Float32Array(randomBytes(Math.ceil(n / 4) * 4).buffer)
  const chunks = encodeModel({
    irVersion: 8,
    producerName: 'model-loader-tests',
    opsetVersion: 17,
    graph: {
      name: 'g',
      nodes: [{ name: 'id', opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
      initializers: [{ name: 'w', dims: [data.length], data }],
      inputs: [{ name: 'x', shape: [1] }],
      outputs: [{ name: 'y', shape: [1] }],
    },
  })
  const bytes = Buffer.concat(chunks)
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') }
}

/** Every file under `dir`, relative, sorted (hidden ones included). */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort()
}
