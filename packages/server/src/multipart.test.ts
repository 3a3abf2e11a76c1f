import { describe, expect, it } from 'vitest'
import { MultipartError, multipartBoundary, parseMultipart } from './multipart.js'

/** Serialises a FormData the way fetch sends it, and returns body + boundary. */
async function encode(form: FormData): Promise<{ body: Uint8Array; boundary: string }> {
  const request = new Request('http://x/', { method: 'POST', body: form })
  const boundary = multipartBoundary(request.headers.get('content-type') ?? '')
  return { body: new Uint8Array(await request.arrayBuffer()), boundary: boundary ?? '' }
}

describe('parseMultipart', () => {
  it('reads what fetch sends: files and text fields, in order, bytes intact', async () => {
    const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)
    const form = new FormData()
    form.append('image', new Blob([bytes]), 'a name; x.jpg')
    form.append('note', 'hello')
    form.append('image', new Blob([new Uint8Array([13, 10, 45, 45])]), 'b.png') // CRLF-- inside
    const { body, boundary } = await encode(form)
    const parts = parseMultipart(body, boundary, 10)
    expect(parts.map((p) => [p.name, p.filename])).toEqual([
      ['image', 'a name; x.jpg'],
      ['note', undefined],
      ['image', 'b.png'],
    ])
    expect(Buffer.from(parts[0]!.data).equals(Buffer.from(bytes))).toBe(true)
    expect(Buffer.from(parts[1]!.data).toString()).toBe('hello')
    expect([...parts[2]!.data]).toEqual([13, 10, 45, 45])
    // views into the body, not copies
    expect(parts[0]!.data.buffer).toBe(body.buffer)
  })

  it('finds quoted and bare boundaries in the Content-Type', () => {
    expect(multipartBoundary('multipart/form-data; boundary="a b:c"')).toBe('a b:c')
    expect(multipartBoundary('multipart/form-data; charset=utf-8; boundary=xyz')).toBe('xyz')
    expect(multipartBoundary('multipart/form-data')).toBeUndefined()
    expect(multipartBoundary('Multipart/Form-Data; Boundary=----AbC')).toBe('----AbC')
  })

  it('refuses malformed bodies with a MultipartError, never a partial result', async () => {
    const form = new FormData()
    form.append('image', new Blob([new Uint8Array(100)]), 'a.jpg')
    const { body, boundary } = await encode(form)
    const cut = body.subarray(0, body.length - 20)
    expect(() => parseMultipart(cut, boundary, 10)).toThrow(MultipartError)
    expect(() => parseMultipart(body, 'other-boundary', 10)).toThrow(/never appears/)
    const twice = new FormData()
    for (let i = 0; i < 3; i++) twice.append('image', new Blob([new Uint8Array(1)]), 'x.jpg')
    const three = await encode(twice)
    expect(() => parseMultipart(three.body, three.boundary, 2)).toThrow(/more than 2 parts/)
    const nameless = Buffer.from('--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n')
    expect(() => parseMultipart(nameless, 'b', 10)).toThrow(/no Content-Disposition name/)
  })

  it('never throws anything but MultipartError on mutated bodies', async () => {
    const form = new FormData()
    form.append('image', new Blob([new Uint8Array(300).fill(7)]), 'a.jpg')
    const { body, boundary } = await encode(form)
    let seed = 1
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n) >>> 0
    for (let i = 0; i < 2000; i++) {
      const copy = Uint8Array.from(body.subarray(0, body.length - rand(8)))
      for (let k = 0; k < 4; k++) copy[rand(copy.length)] = rand(256)
      try {
        for (const part of parseMultipart(copy, boundary, 4))
          expect(part.data.length).toBeLessThanOrEqual(copy.length)
      } catch (err) {
        expect(err).toBeInstanceOf(MultipartError)
      }
    }
  })
})
