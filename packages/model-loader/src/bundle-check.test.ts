import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { MOBILENET_DIR } from '@resnet/test-support'
import { beforeEach, describe, expect, it } from 'vitest'
import { checkBundleFile, checkOnnxFile } from './bundle-check.js'
import { randomOnnx } from './test-support/helpers.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'check-'))
  return () => rm(dir, { recursive: true, force: true })
})

const fileWith = async (name: string, bytes: Uint8Array | string): Promise<string> => {
  const file = path.join(dir, name)
  await writeFile(file, bytes)
  return file
}

describe('checkOnnxFile', () => {
  it('accepts real ONNX models', async () => {
    await checkOnnxFile(path.join(MOBILENET_DIR, 'model.onnx'))
    await checkOnnxFile(await fileWith('m.onnx', randomOnnx(10_000).bytes))
  })

  it('refuses empty, truncated, HTML and random files with INVALID_MODEL', async () => {
    const model = randomOnnx(10_000).bytes
    const cases: [Uint8Array | string, RegExp][] = [
      ['', /empty/],
      [model.subarray(0, model.length - 1), /truncated/],
      ['<html><body>Access Denied</body></html>', /not a valid ONNX model/],
      [
        Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251)),
        /not a valid ONNX model/,
      ],
      [model.subarray(20), /not a valid ONNX model/],
    ]
    for (const [bytes, why] of cases) {
      await expect(checkOnnxFile(await fileWith('bad.onnx', bytes))).rejects.toMatchObject({
        code: 'INVALID_MODEL',
        message: why,
      })
    }
  })
})

describe('checkBundleFile', () => {
  it('checks config.json is a JSON object and labels.txt is UTF-8', async () => {
    await checkBundleFile('config.json', await fileWith('c.json', '{"input":{}}'), 'c')
    await checkBundleFile('labels.txt', await fileWith('l.txt', 'chat\nchien\n'), 'l')
    await expect(
      checkBundleFile('config.json', await fileWith('c.json', '[1]'), 'c')
    ).rejects.toMatchObject({ code: 'INVALID_MODEL' })
    await expect(
      checkBundleFile('labels.txt', await fileWith('l.txt', Buffer.from([0xff, 0xfe, 0x00])), 'l')
    ).rejects.toMatchObject({ code: 'INVALID_MODEL' })
  })
})
