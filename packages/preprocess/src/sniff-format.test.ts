import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { sniffFormat } from './sniff-format.js'

const BAD = fileURLToPath(new URL('../../../../shared/fixtures/bad-images/', import.meta.url))
const sniffFile = async (name: string) => sniffFormat(await readFile(BAD + name))

describe('sniffFormat', () => {
  it('recognises the accepted formats from their bytes', async () => {
    expect(await sniffFile('pillow__hopper.jpg')).toEqual({ accepted: true, format: 'jpeg' })
    expect(await sniffFile('pillow__hopper.webp')).toEqual({ accepted: true, format: 'webp' })
    expect(await sniffFile('pillow__hopper.avif')).toEqual({ accepted: true, format: 'avif' })
    expect(await sniffFile('pillow__iss634.gif')).toEqual({ accepted: true, format: 'gif' })
    expect(await sniffFile('sharp__bggn4a16.png')).toEqual({ accepted: true, format: 'png' })
    expect(sniffFormat(Buffer.from('II*\0\x08\0\0\0'))).toEqual({ accepted: true, format: 'tiff' })
  })

  it('ignores the file name: a JPEG named .png is a JPEG', async () => {
    expect(await sniffFile('winml__kitten_jpeg_named.png')).toEqual({
      accepted: true,
      format: 'jpeg',
    })
  })

  it('names the refused formats it knows', async () => {
    expect(await sniffFile('pillowheif__RGB_8__128x128.heif')).toEqual({
      accepted: false,
      format: 'HEIC/HEIF',
    })
    expect(sniffFormat(Buffer.from('  <svg xmlns="http://www.w3.org/2000/svg">'))).toMatchObject({
      format: 'SVG',
    })
    expect(sniffFormat(Buffer.from('%PDF-1.4'))).toMatchObject({ accepted: false, format: 'PDF' })
  })

  it('returns an unknown format for random bytes and empty input', () => {
    expect(sniffFormat(new Uint8Array([1, 2, 3, 4]))).toEqual({
      accepted: false,
      format: undefined,
    })
    expect(sniffFormat(new Uint8Array())).toEqual({ accepted: false, format: undefined })
  })
})
