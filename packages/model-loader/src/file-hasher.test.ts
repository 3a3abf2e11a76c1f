import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import type { DigestAlgorithm } from './checksums.js'
import { startFileHasher } from './file-hasher.js'

const SIZE = 32 * 1024 * 1024
let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hasher-'))
  return () => rm(dir, { recursive: true, force: true })
})

/** Hashes a whole written file. */
const hashFile = (file: string, algorithms: DigestAlgorithm[], size: number) =>
  startFileHasher(file, algorithms).finish(size)

describe('file hasher', () => {
  it('hashes a file while it is written, out of order', async () => {
    const bytes = randomBytes(SIZE + 3_000_000)
    const file = path.join(dir, 'f')
    const fh = await open(file, 'w')
    const hasher = startFileHasher(file, ['sha256', 'md5', 'crc32'])
    const half = Math.floor(bytes.length / 2)
    await fh.write(bytes, half, bytes.length - half, half) // second half first
    hasher.advance(0)
    for (let at = 0; at < half; at += 5_000_000) {
      const n = Math.min(5_000_000, half - at)
      await fh.write(bytes, at, n, at)
      hasher.advance(at + n)
    }
    await fh.close()
    const digests = await hasher.finish(bytes.length)
    expect(digests.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
    expect(digests.md5).toBe(createHash('md5').update(bytes).digest('hex'))
    expect(digests).toEqual(await hashFile(file, ['sha256', 'md5', 'crc32'], bytes.length))
  })

  it('reports a file shorter than announced instead of hanging', async () => {
    const file = path.join(dir, 'short')
    await writeFile(file, randomBytes(SIZE))
    const hasher = startFileHasher(file, ['sha256'])
    await expect(hasher.finish(SIZE + 10)).rejects.toThrow(/unexpected end/)
    await hasher.close()
  })
})

describe('file hasher digests', () => {
  it('computes S3 CRC32 (the check value of "123456789" is cbf43926)', async () => {
    const file = path.join(dir, 'check')
    await writeFile(file, '123456789')
    expect(await hashFile(file, ['crc32', 'sha1'], 9)).toEqual({
      crc32: 'cbf43926',
      sha1: 'f7c3bc1d808e04732adf679965ccc34ca7ae3441',
    })
  })
})
