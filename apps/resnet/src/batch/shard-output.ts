/**
 * A shard's JSON Lines output: one object per shard at a key derived from the shard number. It is
 * written as one upload that S3 makes visible only when complete (a single PUT, or a multipart
 * upload completed at the end), so an object at that key means the whole shard is done; a worker
 * killed mid-shard leaves nothing (an incomplete multipart upload, expired by a lifecycle rule).
 * The object also carries its line count as metadata, and only an object with it counts as done:
 * s3rver (the tests' S3) writes a PUT's bytes straight to the key, so a worker killed mid-PUT left
 * an empty object there that a rerun took for a finished shard (50 of 1,000 lines lost, seen in
 * batch.test.ts); its metadata is written only once the body is complete, as S3's is atomic.
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

/** The user-metadata key (`x-amz-meta-lines`) holding a shard output's line count. */
const LINES_METADATA = 'lines'

/** True when the shard's output exists whole (its upload completed, with its line count). */
export async function isShardDone(s3: S3Client, at: S3Location): Promise<boolean> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: at.bucket, Key: at.key }))
    return head.Metadata?.[LINES_METADATA] !== undefined
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } }
    if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return false
    throw err
  }
}

/**
 * Uploads `count` lines as one object (visible only once every line is in, tagged with the count);
 * resolves when done.
 */
export async function uploadLines(
  s3: S3Client,
  at: S3Location,
  lines: AsyncIterable<string> | Iterable<string>,
  count: number
): Promise<void> {
  const body = Readable.from(lines, { objectMode: false })
  const upload = new Upload({
    client: s3,
    params: {
      Bucket: at.bucket,
      Key: at.key,
      Body: body,
      ContentType: 'application/x-ndjson',
      Metadata: { [LINES_METADATA]: String(count) },
    },
    // one part at a time: the lines come in at inference speed anyway
    queueSize: 1,
    leavePartsOnError: false,
  })
  await upload.done()
}
