/** Seeded, format-aware mutations of image files, for the fuzz test. */
import { crc32 } from 'node:zlib'

/** A deterministic random source in [0, 1). */
export type Rng = () => number

/** mulberry32: tiny, fast and good enough to pick mutations reproducibly from a seed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const int = (rng: Rng, n: number): number => Math.floor(rng() * n)
const ABSURD = [0, 1, 2, 255, 4097, 30_000, 65_535]
const absurd = (rng: Rng, max: number): number =>
  rng() < 0.8 ? ABSURD[int(rng, ABSURD.length)]! % (max + 1) : int(rng, max + 1)

/** Flips 1 to 8 random bits. */
function bitFlips(bytes: Uint8Array, rng: Rng): Uint8Array {
  const out = Uint8Array.from(bytes)
  for (let n = 1 + int(rng, 8); n > 0; n--) out[int(rng, out.length)]! ^= 1 << int(rng, 8)
  return out
}

/** Cuts the file short anywhere after its first byte. */
const truncate = (bytes: Uint8Array, rng: Rng): Uint8Array =>
  bytes.slice(0, 1 + int(rng, bytes.length - 1))

/** Overwrites 1 to 8 bytes among the first 64 (signatures, headers, chunk lengths). */
function header(bytes: Uint8Array, rng: Rng): Uint8Array {
  const out = Uint8Array.from(bytes)
  const span = Math.min(64, out.length)
  for (let n = 1 + int(rng, 8); n > 0; n--) out[int(rng, span)] = int(rng, 256)
  return out
}

/** Fills up to 256 bytes with 0x00 or 0xff, or repeats a segment (a duplicated chunk). */
function blocks(bytes: Uint8Array, rng: Rng): Uint8Array {
  const at = int(rng, bytes.length)
  const length = Math.min(1 + int(rng, 256), bytes.length - at)
  if (rng() < 0.5) return Uint8Array.from(bytes).fill(rng() < 0.5 ? 0 : 0xff, at, at + length)
  const segment = bytes.subarray(at, at + length)
  return Buffer.concat([bytes.subarray(0, at), segment, segment, bytes.subarray(at + length)])
}

const indexOf = (bytes: Uint8Array, ascii: string): number => Buffer.from(bytes).indexOf(ascii)

/** Writes absurd width/height values where each format keeps them (CRCs fixed for PNG). */
function dimensions(bytes: Uint8Array, rng: Rng): Uint8Array {
  const out = Buffer.from(Uint8Array.from(bytes))
  if (out[0] === 0xff && out[1] === 0xd8) {
    for (let i = 2; i + 9 < out.length; i++) {
      const m = out[i + 1]!
      if (out[i] === 0xff && m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
        out.writeUInt16BE(absurd(rng, 0xffff), i + 5)
        out.writeUInt16BE(absurd(rng, 0xffff), i + 7)
        break
      }
    }
  } else if (out.toString('latin1', 12, 16) === 'IHDR') {
    out.writeUInt32BE(absurd(rng, 0x7fffffff), 16)
    out.writeUInt32BE(absurd(rng, 0x7fffffff), 20)
    out.writeUInt32BE(crc32(out.subarray(12, 29)), 29) // so that the decoder believes it
  } else if (out.toString('latin1', 0, 3) === 'GIF') {
    out.writeUInt16LE(absurd(rng, 0xffff), 6)
    out.writeUInt16LE(absurd(rng, 0xffff), 8)
    const descriptor = out.indexOf(0x2c, 13)
    if (descriptor > 0 && descriptor + 9 < out.length)
      out.writeUInt32LE(int(rng, 2 ** 32), descriptor + 5)
  } else if (out.toString('latin1', 8, 12) === 'WEBP') {
    const at = out.toString('latin1', 12, 16) === 'VP8X' ? 24 : 26
    out.writeUIntLE(absurd(rng, 0xffffff), at, 3)
    out.writeUIntLE(absurd(rng, 0xffffff), at + 3, 3)
  } else if (indexOf(out, 'ispe') > 0) {
    const at = indexOf(out, 'ispe') + 8
    out.writeUInt32BE(absurd(rng, 0xffffffff), at)
    out.writeUInt32BE(absurd(rng, 0xffffffff), at + 4)
  } else if (out.toString('latin1', 0, 2) === 'II') {
    const ifd = out.readUInt32LE(4)
    for (let e = 0; e < out.readUInt16LE(ifd) && ifd + 14 + 12 * e <= out.length; e++) {
      const at = ifd + 2 + 12 * e
      const tag = out.readUInt16LE(at)
      if (tag === 256 || tag === 257) out.writeUInt16LE(absurd(rng, 0xffff), at + 8)
    }
  }
  return out
}

/** The mutation kinds, applied by name so that a failing variant can be described. */
export const MUTATIONS: Record<string, (bytes: Uint8Array, rng: Rng) => Uint8Array> = {
  bitFlips,
  truncate,
  header,
  blocks,
  dimensions,
}
