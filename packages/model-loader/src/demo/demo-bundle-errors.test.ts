// Tests that ensureDemoBundle removes its temp dir and rethrows when publishing fails.
import type * as fsp from 'node:fs/promises'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ensureDemoBundle } from './demo-bundle.js'

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof fsp>()
  const rename = vi.fn((): Promise<void> => {
    const err: NodeJS.ErrnoException = new Error('EACCES: simulated rename failure')
    err.code = 'EACCES'
    return Promise.reject(err)
  })
  return { ...actual, default: { ...actual, rename }, rename }
})

describe('ensureDemoBundle failure', () => {
  let root: string | undefined

  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('removes the temp dir and rethrows when the rename fails', async () => {
    root = await mkdtemp(join(tmpdir(), 'demo-bundle-err-'))
    await expect(ensureDemoBundle(root)).rejects.toMatchObject({ code: 'EACCES' })
    expect(await readdir(root)).toEqual([])
  }, 60_000)
})
