import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { sweepCacheOnce } from './cache-sweep.js'
import { acquireLock } from './file-lock.js'
import { hasLiveLease, leaseCount, leaseEntry } from './leases.js'
import { listFiles } from './test-support/helpers.js'

let cacheDir: string
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), 'sweep-'))
  return () => rm(cacheDir, { recursive: true, force: true })
})

async function put(relative: string, content = 'x'): Promise<void> {
  const file = path.join(cacheDir, relative)
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, content)
}

describe('sweepCacheOnce', () => {
  it('removes temp files, unfinished entries and trash; keeps complete entries and locked sources', async () => {
    await put('s3/m-1/v1/manifest.json', '{}')
    await put('s3/m-1/v1/model.onnx')
    await put('s3/m-1/v1/.model.onnx.123.abcd.tmp') // a re-download cut short
    await put('s3/m-1/v2/.model.onnx.123.ef01.tmp') // a first download cut short
    await put('s3/m-1/v3/model.onnx') // renamed, but killed before the manifest
    await put('s3/m-1/.trash-1/model.onnx')
    await put('https/busy-2/v1/.model.onnx.9.0000.tmp') // its source is locked by a live loader
    const busy = await acquireLock(path.join(cacheDir, 'https/busy-2/.lock'))
    try {
      await sweepCacheOnce(cacheDir)
      expect(await listFiles(cacheDir)).toEqual([
        'https/busy-2/.lock',
        'https/busy-2/v1/.model.onnx.9.0000.tmp',
        's3/m-1/v1/manifest.json',
        's3/m-1/v1/model.onnx',
      ])
      await put('s3/m-1/v1/.late.tmp')
      expect(await sweepCacheOnce(cacheDir)).toEqual([]) // once per process and directory
    } finally {
      await busy.release()
    }
  })
})

describe('leases', () => {
  it('counts leases per entry and keeps one live lease file while any is held', async () => {
    const dir = path.join(cacheDir, 'entry')
    await mkdir(dir)
    const first = await leaseEntry(dir)
    const second = await leaseEntry(dir)
    expect(leaseCount(dir)).toBe(2)
    expect(await hasLiveLease(dir)).toBe(true)
    await first()
    await first() // idempotent
    expect(await hasLiveLease(dir)).toBe(true)
    await second()
    expect(leaseCount(dir)).toBe(0)
    expect(await hasLiveLease(dir)).toBe(false)
    expect(await listFiles(dir)).toEqual([])
  })
})
