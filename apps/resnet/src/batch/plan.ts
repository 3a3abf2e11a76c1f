/**
 * The job plan: the input keys split into numbered shards, written once under the output prefix
 * and reused by every rerun, so a shard always means the same keys (exactly once across reruns,
 * even when objects are added or deleted in between).
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3'
import type { S3Client } from '@aws-sdk/client-s3'
import { s3Uri, under, UsageError } from './s3-location.js'
import type { S3Location } from './s3-location.js'

/** One item of `shards.json`: what a Step Functions Distributed Map iterates over. */
export interface ShardRef {
  /** Zero-padded shard number, e.g. `00042`. */
  readonly shard: string
  readonly images: number
}

/** The keys of one shard, all in `bucket`. */
export interface ShardKeys {
  readonly bucket: string
  readonly keys: readonly string[]
}

/** Where the input comes from: every object under a prefix, or the keys a manifest lists. */
export type InputSource =
  | { readonly kind: 'prefix'; readonly location: S3Location }
  | { readonly kind: 'manifest'; readonly location: S3Location }

/** The plan's files: shard key lists, then the index written last (its presence = complete). */
export const planIndex = (output: S3Location): S3Location => under(output, '_plan/shards.json')
const shardFile = (output: S3Location, shard: string): S3Location =>
  under(output, `_plan/shard-${shard}.json`)

const shardName = (n: number): string => String(n).padStart(5, '0')

async function readText(s3: S3Client, at: S3Location): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: at.bucket, Key: at.key }))
    return await out.Body!.transformToString()
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return undefined
    throw err
  }
}

const putJson = (s3: S3Client, at: S3Location, value: unknown) =>
  s3.send(
    new PutObjectCommand({
      Bucket: at.bucket,
      Key: at.key,
      Body: JSON.stringify(value),
      ContentType: 'application/json',
    })
  )

/** Every object key under the prefix (folder markers `…/` skipped), in S3's (UTF-8) order. */
async function listPrefix(s3: S3Client, at: S3Location): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: at.bucket, Prefix: at.key, ContinuationToken: token })
    )
    for (const o of page.Contents ?? []) if (o.Key && !o.Key.endsWith('/')) keys.push(o.Key)
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
  return keys
}

/** A manifest: one key of the manifest's bucket per line (or `s3://<that bucket>/<key>`). */
async function readManifest(s3: S3Client, at: S3Location): Promise<string[]> {
  const text = await readText(s3, at)
  if (text === undefined) throw new UsageError(`The manifest ${s3Uri(at)} does not exist`)
  const own = `s3://${at.bucket}/`
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      if (!line.startsWith('s3://')) return line
      if (!line.startsWith(own)) throw new UsageError(`Manifest line ${line} is not in ${own}`)
      return line.slice(own.length)
    })
}

/** The job's plan (shard list), reused when it exists, otherwise listed and written. */
export async function ensurePlan(
  s3: S3Client,
  input: InputSource,
  output: S3Location,
  shardSize: number
): Promise<{ shards: ShardRef[]; reused: boolean }> {
  const existing = await readText(s3, planIndex(output))
  if (existing !== undefined) return { shards: JSON.parse(existing) as ShardRef[], reused: true }
  const keys =
    input.kind === 'prefix'
      ? await listPrefix(s3, input.location)
      : await readManifest(s3, input.location)
  const shards: ShardRef[] = []
  for (let at = 0, n = 0; at < keys.length; at += shardSize, n++) {
    const slice = keys.slice(at, at + shardSize)
    const shard = shardName(n)
    const body: ShardKeys = { bucket: input.location.bucket, keys: slice }
    await putJson(s3, shardFile(output, shard), body)
    shards.push({ shard, images: slice.length })
  }
  await putJson(s3, planIndex(output), shards)
  return { shards, reused: false }
}

/** The keys of one shard of the plan. */
export async function readShardKeys(
  s3: S3Client,
  output: S3Location,
  shard: string
): Promise<ShardKeys> {
  const text = await readText(s3, shardFile(output, shard))
  if (text === undefined) throw new UsageError(`No shard ${shard} in ${s3Uri(output)}_plan/`)
  return JSON.parse(text) as ShardKeys
}

/** The plan's shard list; throws when the job was never planned. */
export async function readPlan(s3: S3Client, output: S3Location): Promise<ShardRef[]> {
  const text = await readText(s3, planIndex(output))
  if (text === undefined) throw new UsageError(`No plan at ${s3Uri(planIndex(output))}`)
  return JSON.parse(text) as ShardRef[]
}
