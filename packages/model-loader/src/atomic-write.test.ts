import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeJsonAtomically } from './atomic-write.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'atomic-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('writeJsonAtomically', () => {
  it('writes, replaces, and leaves no temp file behind', async () => {
    const target = path.join(dir, 'sub', 'manifest.json')
    await writeJsonAtomically(target, { v: 1 })
    await writeJsonAtomically(target, { v: 2 })
    expect(JSON.parse(await readFile(target, 'utf8'))).toEqual({ v: 2 })
    expect(await readdir(path.dirname(target))).toEqual(['manifest.json'])
  })

  it('leaves the old file when the new value cannot be written', async () => {
    const target = path.join(dir, 'index.json')
    await writeJsonAtomically(target, { v: 1 })
    await expect(writeJsonAtomically(target, { big: 10n })).rejects.toThrow(/BigInt/)
    expect(JSON.parse(await readFile(target, 'utf8'))).toEqual({ v: 1 })
    expect(await readdir(dir)).toEqual(['index.json'])
  })
})
