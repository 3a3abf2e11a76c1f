/** Runs one shard: its keys classified in order, the records uploaded as one JSON Lines object. */
import type { S3Client } from '@aws-sdk/client-s3'
import { classifyObject } from './classify-object.js'
import type { ResultRecord } from './classify-object.js'
import type { BatchEngine } from './engine.js'
import { ObjectReader } from './object-reader.js'
import { readShardKeys } from './plan.js'
import type { S3Location } from './s3-location.js'
import { isShardDone, shardOutput, uploadLines } from './shard-output.js'

/** `ok`, or the record's error code. */
export const outcomeOf = (record: ResultRecord): string =>
  'error' in record ? record.error.code : 'ok'

/** What happened to a shard: skipped (its output already existed) or done with these outcomes. */
export type ShardResult =
  | { readonly shard: string; readonly skipped: true }
  | { readonly shard: string; readonly skipped: false; readonly outcomes: Record<string, number> }

/** Maps `items` through `fn` with at most `width` in flight, yielding results in input order. */
export async function* orderedMap<T, R>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<R>
): AsyncGenerator<R> {
  const window: Promise<R>[] = []
  let next = 0
  const fill = (): void => {
    while (next < items.length && window.length < width) {
      const result = fn(items[next++]!)
      // a later item's rejection surfaces in its turn; until then it is not unhandled
      result.catch(() => undefined)
      window.push(result)
    }
  }
  fill()
  while (window.length > 0) {
    const value = await window.shift()!
    fill()
    yield value
  }
}

/**
 * Classifies shard `shard` of the job at `output` unless its output exists; `onRecord` sees each
 * record as it is written. Throws (leaving no output) when S3 fails other than for one item.
 */
export async function runShard(
  s3: S3Client,
  engine: BatchEngine,
  output: S3Location,
  shard: string,
  topK: number,
  onRecord: (record: ResultRecord) => void
): Promise<ShardResult> {
  const target = shardOutput(output, shard)
  if (await isShardDone(s3, target)) return { shard, skipped: true }
  const { bucket, keys } = await readShardKeys(s3, output, shard)
  const options = { reader: new ObjectReader(s3), ...engine, topK }
  const outcomes: Record<string, number> = {}
  async function* lines(): AsyncGenerator<string> {
    for await (const record of orderedMap(keys, engine.concurrency, (key) =>
      classifyObject(options, bucket, key)
    )) {
      const outcome = outcomeOf(record)
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
      onRecord(record)
      yield `${JSON.stringify(record)}\n`
    }
  }
  await uploadLines(s3, target, lines(), keys.length)
  return { shard, skipped: false, outcomes }
}
