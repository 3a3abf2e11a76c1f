// The uploads of issue 17's bench, made from the fixture photos on each run (never committed):
// a 640x480 JPEG (as the server bench), a 12 MP phone JPEG stored rotated with EXIF orientation
// 6, as phones write them, and a 1920x1080 PNG screenshot.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { sharp } from './sharp.ts'

/** One bench input. */
export interface BenchInput {
  readonly key: string
  readonly title: string
  readonly filename: string
  readonly type: string
  readonly bytes: Buffer
  /** Width and height as stored (before EXIF orientation). */
  readonly stored: { readonly width: number; readonly height: number }
}

/** The three inputs, made with sharp from `<fixtures>/images`. */
export async function uploadInputs(fixtures: string): Promise<BenchInput[]> {
  const photo = (name: string) => readFile(path.join(fixtures, 'images', name))
  const kimono = await photo('kimono.jpg')
  const small = await sharp(kimono)
    .resize(640, 480, { fit: 'cover' })
    .jpeg({ quality: 90 })
    .toBuffer()
  // 4032x3024 as displayed; stored 3024x4032, turned a quarter left (orientation 6 turns it back)
  const phone = await sharp(await photo('horse-cart.jpg'))
    .resize(4032, 3024, { fit: 'cover' })
    .rotate(-90)
    .jpeg({ quality: 92, chromaSubsampling: '4:2:0' })
    .withMetadata({ orientation: 6 })
    .toBuffer()
  const screenshot = await sharp(await photo('wolves.jpg'))
    .resize(1920, 1080, { fit: 'cover' })
    .png()
    .toBuffer()
  return [
    {
      key: 'jpeg-640',
      title: '640x480 JPEG',
      filename: 'photo.jpg',
      type: 'image/jpeg',
      bytes: small,
      stored: { width: 640, height: 480 },
    },
    {
      key: 'phone-12mp',
      title: '12 MP phone JPEG, EXIF orientation 6',
      filename: 'phone.jpg',
      type: 'image/jpeg',
      bytes: phone,
      stored: { width: 3024, height: 4032 },
    },
    {
      key: 'png-1080p',
      title: '1920x1080 PNG screenshot',
      filename: 'screenshot.png',
      type: 'image/png',
      bytes: screenshot,
      stored: { width: 1920, height: 1080 },
    },
  ]
}

/**
 * The scale libjpeg decodes a JPEG at for a resize of its shorter side to `resize` (sharp's
 * rule: at least 2x left for the filter, or 1x with `fastShrinkOnLoad`); 1 for other formats.
 */
export function jpegScale(input: BenchInput, resize: number, fast: boolean): number {
  if (input.type !== 'image/jpeg') return 1
  const shrink = Math.min(input.stored.width, input.stored.height) / resize
  const factor = fast ? 1 : 2
  let scale = shrink >= 8 * factor ? 8 : shrink >= 4 * factor ? 4 : shrink >= 2 * factor ? 2 : 1
  if (scale > 1 && Math.floor(shrink) === scale) scale /= 2 // sharp: libjpeg rounding errors
  return scale
}

/**
 * sharp decoding the whole image at `scale` (DCT scaling) to raw pixels, and as good as nothing
 * else. sharp cannot be asked for the scale itself: a resize makes it pick one (see jpegScale;
 * a reduction by exactly `scale` makes it pick half of it, for libjpeg's rounding), so it is asked
 * for 1/(2 x scale), which it decodes at 1/scale and subsamples 2x (nearest neighbour): measured
 * here, 12 MP at 1/4, 30 ms of CPU against 40-53 ms for 1/(scale + 1), which takes a reduce.
 * Our pipeline can beat it: a centre crop ends the sequential decode after the crop's last row.
 */
export async function decodeAlone(input: BenchInput, scale: number): Promise<void> {
  const image = sharp(input.bytes, { failOn: 'warning', sequentialRead: true })
  if (scale === 1) {
    await image.raw().toBuffer()
    return
  }
  const width = Math.round(input.stored.width / (2 * scale))
  const height = Math.round(input.stored.height / (2 * scale))
  await image.resize(width, height, { fit: 'fill', kernel: 'nearest' }).raw().toBuffer()
}
