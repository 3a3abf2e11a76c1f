// The soak's mix of good, odd and bad uploads (fixtures read from ../shared/fixtures).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { multipart } from './load.ts'
import type { SoakInput, Upload } from './load.ts'

/** Good and odd photos interleaved with bad inputs: each one gets a 2xx or a 4xx, never a 5xx. */
export function soakInputs(photo: Upload, fixtures: string): SoakInput[] {
  const post = (
    name: string,
    body: Buffer,
    headers: Record<string, string>,
    query = ''
  ): SoakInput => ({
    name,
    path: `/predict${query}`,
    headers,
    body,
  })
  const file = (dir: string, name: string): Buffer => readFileSync(path.join(fixtures, dir, name))
  const part = (name: string, dir: string, file_: string, type: string): SoakInput => {
    const u = multipart('image', file_, type, file(dir, file_))
    return post(name, u.body, u.headers)
  }
  let seed = 42
  const random = Buffer.alloc(64 * 1024)
  for (let i = 0; i < random.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0
    random[i] = seed >>> 24
  }
  const svg = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><rect width="640" height="480" fill="red"/></svg>'
  )
  const mp = (name: string, bytes: Buffer, type: string): SoakInput => {
    const u = multipart('image', name, type, bytes)
    return post(name, u.body, u.headers)
  }
  const truncatedBody = photo.body.subarray(0, Math.floor(photo.body.length / 2))
  const good: SoakInput[] = [
    post('good: kimono 640x480 JPEG', photo.body, photo.headers),
    part('good: cat.jpg', 'images', 'cat.jpg', 'image/jpeg'),
    part('good: lion.png', 'images', 'lion.png', 'image/png'),
    part('good: goldfish.jpg', 'images', 'goldfish.jpg', 'image/jpeg'),
    post('good: raw body daisy.jpg', file('images', 'daisy.jpg'), { 'content-type': 'image/jpeg' }),
    part('odd: CMYK JPEG', 'bad-images', 'pillow__pil_sample_cmyk.jpg', 'image/jpeg'),
    part('odd: GIF', 'bad-images', 'pillow__iss634.gif', 'image/gif'),
    part('odd: JPEG named .png', 'bad-images', 'winml__kitten_jpeg_named.png', 'image/png'),
    part('odd: 16-bit PNG', 'bad-images', 'sharp__bggn4a16.png', 'image/png'),
    part('odd: HEIF', 'bad-images', 'pillowheif__RGB_8__128x128.heif', 'image/heif'),
  ]
  const bad: SoakInput[] = [
    part('bad: truncated JPEG', 'bad-images', 'pillow__truncated_jpeg.jpg', 'image/jpeg'),
    part('bad: corrupt JPEG header', 'bad-images', 'sharp__corrupt-header.jpg', 'image/jpeg'),
    part('bad: broken PNG', 'bad-images', 'pillow__broken.png', 'image/png'),
    part('bad: oversized-pixel PNG', 'bad-images', 'sharp__65536-uint32-limit.png', 'image/png'),
    mp('bad: random bytes', random, 'image/jpeg'),
    mp('bad: SVG', svg, 'image/svg+xml'),
    post('bad: text/plain body', Buffer.from('hello'), { 'content-type': 'text/plain' }),
    post('bad: multipart cut in half', truncatedBody, photo.headers),
    post('bad: top_k=abc', photo.body, photo.headers, '?top_k=abc'),
    post(
      'bad: wrong field name',
      multipart('file', 'cat.jpg', 'image/jpeg', file('images', 'cat.jpg')).body,
      photo.headers
    ),
  ]
  // interleave: good, bad, good, bad, ...
  return good.flatMap((g, i) => [g, bad[i]!])
}
