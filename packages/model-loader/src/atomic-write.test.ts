import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeStreamAtomically } from './atomic-write.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'atomic-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const bytes = Buffer.from('x'.repeat(100_000))
const md5 = createHash('md5').update(bytes).digest('hex')

/** A body that sends `good` bytes and then fails like a dropped connection. */
function cutAfter(good: number): Readable {
  let sent = false
  return new Readable({
    read() {
      if (!sent) {
        sent = true
        this.push(bytes.subarray(0, good))
      } else this.destroy(new Error('ECONNRESET: socket hang up'))
    },
  })
}

describe('writeStreamAtomically', () => {
  it('writes the whole stream and reports size and sha256', async () => {
    const target = path.join(dir, 'sub', 'model.onnx')
    const written = await writeStreamAtomically(target, Readable.from([bytes]), {
      size: bytes.length,
      md5,
    })
    expect(written.size).toBe(bytes.length)
    expect(written.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
    expect((await readFile(target)).equals(bytes)).toBe(true)
    expect(await readdir(path.dirname(target))).toEqual(['model.onnx'])
  })

  it('leaves neither the target nor a temp file when the connection drops mid-body', async () => {
    const target = path.join(dir, 'model.onnx')
    await expect(writeStreamAtomically(target, cutAfter(5000))).rejects.toThrow(/ECONNRESET/)
    expect(await readdir(dir)).toEqual([])
  })

  it('refuses a truncated body (size) and a corrupted one (MD5)', async () => {
    const target = path.join(dir, 'model.onnx')
    await expect(
      writeStreamAtomically(target, Readable.from([bytes.subarray(10)]), { size: bytes.length })
    ).rejects.toMatchObject({ code: 'INTEGRITY_MISMATCH' })
    const corrupted = Buffer.from(bytes)
    corrupted[500] = 0x79
    await expect(
      writeStreamAtomically(target, Readable.from([corrupted]), { size: bytes.length, md5 })
    ).rejects.toMatchObject({ code: 'INTEGRITY_MISMATCH' })
    expect(await readdir(dir)).toEqual([])
  })

  it('replaces an existing file only once the new one is complete', async () => {
    const target = path.join(dir, 'model.onnx')
    await writeStreamAtomically(target, Readable.from([Buffer.from('old')]))
    await expect(writeStreamAtomically(target, cutAfter(10))).rejects.toThrow()
    expect(await readFile(target, 'utf8')).toBe('old')
  })
})
