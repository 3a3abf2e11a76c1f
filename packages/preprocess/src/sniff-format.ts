/** Decides an image's format from its first bytes, never from a file name or declared type. */

/** Formats we decode. Anything else is refused before a decoder sees it. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'tiff'

/** The formats this package accepts, in the order the docs list them. */
export const ACCEPTED_FORMATS: readonly ImageFormat[] = [
  'jpeg',
  'png',
  'webp',
  'gif',
  'avif',
  'tiff',
]

/** What the bytes are: an accepted format, a known refused one (named for the message), or unknown. */
export type SniffResult =
  | { readonly accepted: true; readonly format: ImageFormat }
  | { readonly accepted: false; readonly format: string | undefined }

const ascii = (bytes: Uint8Array, start: number, end: number): string =>
  String.fromCharCode(...bytes.subarray(start, end))

const startsWith = (bytes: Uint8Array, prefix: readonly number[]): boolean =>
  prefix.every((b, i) => bytes[i] === b)

// ISO-BMFF brands (ftyp box, ISO/IEC 23008-12 and the AV1 image file format spec).
const AVIF_BRANDS = new Set(['avif', 'avis'])
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'])

function sniffIsoBmff(bytes: Uint8Array): SniffResult | undefined {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== 'ftyp') return undefined
  const boxSize = Math.min(bytes.length, new DataView(bytes.buffer, bytes.byteOffset).getUint32(0))
  const brands = [ascii(bytes, 8, 12)]
  for (let at = 16; at + 4 <= boxSize; at += 4) brands.push(ascii(bytes, at, at + 4))
  if (brands.some((b) => AVIF_BRANDS.has(b))) return { accepted: true, format: 'avif' }
  if (brands.some((b) => HEIF_BRANDS.has(b))) return { accepted: false, format: 'HEIC/HEIF' }
  return { accepted: false, format: `ISO media (${brands[0] ?? '?'})` }
}

function sniffText(bytes: Uint8Array): string | undefined {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 512)).trimStart().toLowerCase()
  if (head.startsWith('%pdf')) return 'PDF'
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'SVG'
  if (head.startsWith('<')) return 'XML/HTML'
  return undefined
}

/** Identifies the image format from magic bytes. */
export function sniffFormat(bytes: Uint8Array): SniffResult {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { accepted: true, format: 'jpeg' }
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { accepted: true, format: 'png' }
  }
  if (bytes.length >= 6 && /^GIF8[79]a$/.test(ascii(bytes, 0, 6))) {
    return { accepted: true, format: 'gif' }
  }
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') {
    return { accepted: true, format: 'webp' }
  }
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { accepted: true, format: 'tiff' }
  }
  return sniffIsoBmff(bytes) ?? { accepted: false, format: sniffText(bytes) }
}
