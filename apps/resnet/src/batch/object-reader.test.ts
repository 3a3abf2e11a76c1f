// ObjectReader against a real S3 server (s3rver) through the real SDK client's parts. s3rver
// checks the access key but not the signature: sigv4-get.test.ts holds the signatures to the SDK's.
import { S3Client } from '@aws-sdk/client-s3'
import { startFaultProxy, startLocalS3 } from '@resnet/test-support'
import type { LocalS3 } from '@resnet/test-support'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ObjectReader } from './object-reader.js'

let s3: LocalS3
/** Keys whose path encoding and signing must match S3's (s3rver refuses `a//b` keys, real S3 not). */
const KEYS = ['in/plain.jpg', 'in/a b+c=d&e.jpg', "in/ü é/!'()*~.jpg", 'in/100%.jpg']

beforeAll(async () => {
  s3 = await startLocalS3(['photos'])
  for (const [i, key] of KEYS.entries()) await s3.put('photos', key, new Uint8Array(300).fill(i))
})
afterAll(async () => {
  await s3.close()
})

describe('ObjectReader', () => {
  it('reads objects with one signed GET each, whatever characters their keys have', async () => {
    const send = vi.spyOn(s3.client, 'send')
    const reader = new ObjectReader(s3.client)
    for (const [i, key] of KEYS.entries()) {
      const read = await reader.read('photos', key, 1000)
      expect(read).toEqual({ kind: 'bytes', bytes: new Uint8Array(300).fill(i) })
    }
    // none of them needed the full command
    expect(send).not.toHaveBeenCalled()
    send.mockRestore()
  })

  it('reports an object over the limit by its size', async () => {
    const read = await new ObjectReader(s3.client).read('photos', 'in/plain.jpg', 299)
    expect(read).toEqual({ kind: 'too-large', size: 300 })
  })

  it("throws the SDK's own errors: a missing object, refused credentials", async () => {
    const reader = new ObjectReader(s3.client)
    await expect(reader.read('photos', 'in/gone.jpg', 1000)).rejects.toMatchObject({
      name: 'NoSuchKey',
    })
    const wrong = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'NOT-S3RVER', secretAccessKey: 'wrong' },
    })
    await expect(new ObjectReader(wrong).read('photos', 'in/plain.jpg', 1000)).rejects.toThrow(
      /access key|credentials|signature/i
    )
    wrong.destroy()
  })

  it('never returns a cut body: the GET is made again through the full command', async () => {
    const proxy = await startFaultProxy(s3.endpoint)
    const viaProxy = new S3Client({
      endpoint: proxy.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: await s3.client.config.credentials(),
    })
    const big = new Uint8Array(200_000).map((_, i) => i % 251)
    await s3.put('photos', 'in/big.bin', big)
    proxy.cutAfter(60_000) // headers and part of the body, then the connection is closed
    const send = vi.spyOn(viaProxy, 'send')
    const read = await new ObjectReader(viaProxy).read('photos', 'in/big.bin', 1_000_000)
    expect(read).toEqual({ kind: 'bytes', bytes: big })
    expect(proxy.cuts).toBe(1)
    expect(send).toHaveBeenCalledTimes(1) // the retry
    viaProxy.destroy()
    await proxy.close()
  })
})
