// Shard outputs against a real S3 server (s3rver) through the real SDK client.
import { request } from 'node:http'
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3'
import { startLocalS3 } from '@resnet/test-support'
import type { LocalS3 } from '@resnet/test-support'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isShardDone, shardOutput, uploadLines } from './shard-output.js'

let s3: LocalS3
const OUTPUT = { bucket: 'results', key: 'job/' }

beforeAll(async () => {
  s3 = await startLocalS3(['results'])
})
afterAll(async () => {
  await s3.close()
})

function* numbered(n: number): Generator<string> {
  for (let i = 0; i < n; i++) yield `{"key":"in/${i}.jpg"}\n`
}

describe('shard outputs', () => {
  it('a PUT cut mid-body (a worker killed while uploading) never counts as a finished shard', async () => {
    const at = shardOutput(OUTPUT, '00003')
    // what a worker killed mid-PUT sent: 1 KiB of a declared 64 KiB, then the connection died
    // (unsigned: s3rver takes anonymous writes; the SDK's own PUT cannot be cut mid-body)
    const cut = request(`${s3.endpoint}/${at.bucket}/${at.key}`, {
      method: 'PUT',
      headers: { 'content-length': 64 * 1024 },
    })
    cut.on('error', (err) => err) // the cut itself, expected
    cut.write(Buffer.alloc(1024, 0x7b))
    await new Promise((r) => setTimeout(r, 300))
    cut.destroy()
    await new Promise((r) => setTimeout(r, 300))
    // s3rver wrote the cut body straight to the key: a plain HEAD finds an object there
    await expect(
      s3.client.send(new HeadObjectCommand({ Bucket: at.bucket, Key: at.key }))
    ).resolves.toBeDefined()
    expect(await isShardDone(s3.client, at)).toBe(false)

    await uploadLines(s3.client, at, numbered(50), 50)
    expect(await isShardDone(s3.client, at)).toBe(true)
    const out = await s3.client.send(new GetObjectCommand({ Bucket: at.bucket, Key: at.key }))
    const text = await out.Body!.transformToString()
    expect(text.split('\n').filter(Boolean)).toHaveLength(50)
  })

  it('a missing output is not done', async () => {
    expect(await isShardDone(s3.client, shardOutput(OUTPUT, '00009'))).toBe(false)
  })
})
