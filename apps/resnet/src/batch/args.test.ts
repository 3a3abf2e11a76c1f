import { describe, expect, it } from 'vitest'
import { parseBatchArgs } from './args.js'
import { parseS3Uri } from './s3-location.js'

describe('parseBatchArgs', () => {
  it('defaults to run, with one worker, 500-image shards and the top 5', () => {
    expect(parseBatchArgs(['--input', 's3://photos/2026', '--output', 's3://out/job'])).toEqual({
      kind: 'run',
      input: { kind: 'prefix', location: { bucket: 'photos', key: '2026/' } },
      output: { bucket: 'out', key: 'job/' },
      workers: 1,
      shardSize: 500,
      topK: 5,
    })
  })

  it("takes work's shards as a list or as Step Functions' item batch", () => {
    const batch = JSON.stringify([{ shard: '00003', images: 500 }, { shard: '00004' }])
    for (const shards of ['00003,00004', batch]) {
      const cmd = parseBatchArgs(['work', '--output', 's3://out/j/', '--shards', shards])
      expect(cmd).toMatchObject({ kind: 'work', shards: ['00003', '00004'], ipc: false })
    }
  })

  it('refuses bad usage with a message naming the problem', () => {
    const out = ['--output', 's3://out/j/']
    expect(() => parseBatchArgs(out)).toThrow(/exactly one of --input .* or --manifest/)
    expect(() =>
      parseBatchArgs(['--input', 's3://a/b/', '--manifest', 's3://a/m', ...out])
    ).toThrow(/exactly one/)
    expect(() => parseBatchArgs(['--input', 's3://a/', ...out, '--workers', '0'])).toThrow(
      /--workers must be an integer from 1 to 64; got "0"/
    )
    expect(() => parseBatchArgs(['work', ...out])).toThrow(/--shards is required/)
    expect(() => parseBatchArgs(['work', ...out, '--shards', '1,x'])).toThrow(/Not a shard name/)
    expect(() => parseBatchArgs(['--input', 'photos/', ...out])).toThrow(/Not an s3:\/\/bucket/)
    expect(() => parseBatchArgs(['--input', 's3://a/', ...out, '--bogus'])).toThrow(/bogus/)
  })

  it('needs a key for a manifest, not a bucket', () => {
    expect(() => parseS3Uri('s3://photos/', false)).toThrow(/names a bucket, not an object/)
    expect(parseS3Uri('s3://photos', true)).toEqual({ bucket: 'photos', key: '' })
  })
})
