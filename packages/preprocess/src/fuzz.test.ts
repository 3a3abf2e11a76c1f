import { readFile } from 'node:fs/promises'
import { BAD_IMAGES_DIR } from '@resnet/test-support'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { PreprocessError } from './errors.js'
import { parseModelConfig } from './model-config.js'
import { preprocessBatch } from './preprocess-batch.js'
import { MUTATIONS, mulberry32 } from './test-support/mutate.js'

const VARIANTS = 2400
const SEED = 20_240_611
const CONCURRENCY = 4
// small limits keep each variant cheap: absurd dimensions are refused or decode at most 4 MP
const LIMITS = { maxInputBytes: 2 ** 20, maxPixels: 4_000_000, timeoutMs: 2000 }
const SLACK_MS = 1500 // for waiting in the libuv queue behind the other variants in flight
const CONFIGS = [{}, { crop: 'letterbox' }, { crop: 'none', size: [96, 64], dtype: 'uint8' }].map(
  (json) => parseModelConfig({ input: json }).input
)
const CODES = ['OK', 'UNDECODABLE_IMAGE', 'UNSUPPORTED_IMAGE', 'IMAGE_TOO_LARGE', 'DECODE_TIMEOUT']

let seeds: [string, Uint8Array][] = []

beforeAll(async () => {
  const photo = sharp(BAD_IMAGES_DIR + 'pillow__hopper.jpg').resize(48, 40)
  const rgba = photo.clone().ensureAlpha(0.5)
  const frames = [
    await photo.clone().png().toBuffer(),
    await photo.clone().negate().png().toBuffer(),
  ]
  seeds = [
    ['jpeg', await photo.clone().jpeg().toBuffer()],
    ['jpeg-progressive', await photo.clone().jpeg({ progressive: true }).toBuffer()],
    ['png', await photo.clone().png().toBuffer()],
    ['png-palette-alpha', await rgba.clone().png({ palette: true }).toBuffer()],
    ['webp-lossy-alpha', await rgba.clone().webp().toBuffer()],
    ['webp-lossless', await photo.clone().webp({ lossless: true }).toBuffer()],
    [
      'gif-animated',
      await sharp(frames, { join: { animated: true } })
        .gif()
        .toBuffer(),
    ],
    ['tiff', await photo.clone().tiff({ compression: 'lzw' }).toBuffer()],
    ['avif', await photo.clone().avif({ effort: 0 }).toBuffer()],
    ['png-16bit-grey-alpha', await readFile(BAD_IMAGES_DIR + 'sharp__bggn4a16.png')],
    [
      'jpeg-cmyk',
      await sharp(BAD_IMAGES_DIR + 'pillow__pil_sample_cmyk.jpg')
        .resize(40)
        .jpeg()
        .toBuffer(),
    ],
  ]
})

interface Result {
  readonly outcome: string
  readonly ms: number
  readonly variant: string
}

async function runVariant(i: number): Promise<Result> {
  const rng = mulberry32(SEED + i)
  const [name, bytes] = seeds[i % seeds.length]!
  const kinds = Object.keys(MUTATIONS)
  const kind = kinds[Math.floor(rng() * kinds.length)]!
  const mutated = MUTATIONS[kind]!(bytes, rng)
  const variant = `#${i} ${kind}(${name})`
  const started = performance.now()
  try {
    await preprocessBatch([mutated], CONFIGS[i % CONFIGS.length]!, LIMITS)
    return { outcome: 'OK', ms: performance.now() - started, variant }
  } catch (err) {
    if (!(err instanceof PreprocessError))
      throw new Error(`${variant}: untyped error`, { cause: err })
    return { outcome: err.code, ms: performance.now() - started, variant }
  }
}

describe('preprocessBatch under fuzzing', () => {
  it(`turns ${VARIANTS} mutated images into a tensor or a typed error, each within the deadline`, async () => {
    const started = performance.now()
    const results: Result[] = []
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < VARIANTS) results.push(await runVariant(next++))
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))

    const byCode: Record<string, number> = {}
    for (const r of results) byCode[r.outcome] = (byCode[r.outcome] ?? 0) + 1
    const slowest = results.reduce((a, b) => (b.ms > a.ms ? b : a))
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    console.info(
      `fuzz: ${results.length} variants in ${seconds} s, slowest ${slowest.variant} ` +
        `${slowest.ms.toFixed(0)} ms, outcomes ${JSON.stringify(byCode)}`
    )

    expect(results).toHaveLength(VARIANTS)
    expect(Object.keys(byCode).filter((code) => !CODES.includes(code))).toEqual([])
    expect(slowest.ms).toBeLessThan(LIMITS.timeoutMs + SLACK_MS)
    // the mutations reach every branch: some decode anyway, some are corrupt, some are too large
    for (const code of ['OK', 'UNDECODABLE_IMAGE', 'UNSUPPORTED_IMAGE', 'IMAGE_TOO_LARGE']) {
      expect(byCode[code], code).toBeGreaterThan(VARIANTS / 100)
    }
  }, 120_000)
})
