/**
 * A shard's JSON Lines output: one object per shard at a key derived from the shard number. It is
 * written as one upload that S3 makes visible only when complete (a single PUT, or a multipart
 * upload completed at the end), so an object at that key means the whole shard is done; a worker
 * killed mid-shard leaves nothing (an incomplete multipart upload, expired by a lifecycle rule).
 */
import { Readable } from 'node:stream'
import { HeadObjectCommand } from '@aws-sdk/client-s3'
import type { S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { under } from './s3-location.js'
import type { S3Location } from './s3-location.js'

/** Where shard `shard`'s results go. */
export const shardOutput = (output: S3Location, shard: string): S3Location =>
  under(output, `results/shard-${shard}.jsonl`)

/** True when the shard's output exists (its upload completed). */
export async function isShardDone(s3: S3Client, at: S3Location): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: at.bucket, Key: at.key }))
    return true
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } }
    if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return false
    throw err
  }
}

/** Uploads the lines as one object (visible only once every line is in); resolves when done. */
export async function uploadLines(
  s3: S3Client,
  at: S3Location,
  lines: AsyncIterable<string>
): Promise<void> {
  const body = Readable.from(lines, { objectMode: false })
  const upload = new Upload({
    client: s3,
    params: { Bucket: at.bucket, Key: at.key, Body: body, ContentType: 'application/x-ndjson' },
    // one part at a time: the lines come in at inference speed anyway
    queueSize: 1,
    leavePartsOnError: false,
  })
  await upload.done()
}
