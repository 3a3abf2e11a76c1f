/**
 * A bundle's self-test: reference images with the top-k scores they must give, run through the
 * serving path (decoder, batcher, model) before the server turns ready. A wrong preprocessing
 * config or a changed runtime shows up as moved scores or a changed top-1.
 */
import { DEFAULT_DECODE_LIMITS } from '@resnet/preprocess'
import { Batcher } from './batcher.js'
import type { ImageDecoder } from './image-decoder.js'
import type { InferenceModel } from './model.js'
import { predictImages } from './predict.js'
import type { Prediction } from './top-k.js'

/**
 * Largest accepted change of a score (absolute, on the scores the API returns: probabilities
 * after softmax). int8 kernels differ between AVX2 and AVX-512 CPUs and move an int8 model's
 * scores a little (borderline ranks change); a swapped colour order or a wrong mean moves them
 * far more (see README, "Self-test").
 */
export const SELF_TEST_SCORE_TOLERANCE = 0.05

/** `selftest/expected.json`: the top-k per image file name, as `model:check` writes it. */
export interface SelfTestExpectations {
  /** Overrides {@link SELF_TEST_SCORE_TOLERANCE}. */
  readonly scoreTolerance?: number
  readonly images: Readonly<Record<string, { readonly top: readonly Prediction[] }>>
}

/** One image of a self-test: its file name and bytes. */
export interface SelfTestImage {
  readonly name: string
  readonly bytes: Uint8Array
}

/** Scores of every class per image, through the serving path. */
export async function scoreImages(
  model: InferenceModel,
  images: readonly SelfTestImage[],
  decoder?: ImageDecoder
): Promise<Prediction[][]> {
  const batcher = new Batcher(model, { maxBatchSize: 8, maxQueue: Math.max(1, images.length) })
  const results: Prediction[][] = []
  for (const image of images) {
    const {
      results: [ranked],
    } = await predictImages([image.bytes], batcher, {
      topK: model.info.classes,
      limits: DEFAULT_DECODE_LIMITS,
      deadline: Date.now() + 60_000,
      decoder,
    })
    results.push(ranked!)
  }
  return results
}

/**
 * What differs from the expectations: a score that moved more than the tolerance, or a changed
 * top-1 when the expected top-1 leads the second by more than twice the tolerance (a closer race
 * may flip between CPUs and is judged by its scores only). Empty when the self-test passes.
 */
export function selfTestDifferences(
  expected: SelfTestExpectations,
  images: readonly SelfTestImage[],
  actual: readonly Prediction[][]
): string[] {
  const tolerance = expected.scoreTolerance ?? SELF_TEST_SCORE_TOLERANCE
  const problems: string[] = []
  images.forEach((image, i) => {
    const want = expected.images[image.name]?.top ?? []
    const got = actual[i] ?? []
    const scoreOf = new Map(got.map((p) => [p.index, p.score]))
    const [first, second] = want
    const clear = first && (!second || first.score - second.score > 2 * tolerance)
    if (clear && got[0]?.index !== first.index) {
      problems.push(
        `${image.name}: top-1 is ${got[0]?.label} (${got[0]?.index}), expected ${first.label} (${first.index})`
      )
    }
    for (const p of want) {
      const score = scoreOf.get(p.index) ?? 0
      if (Math.abs(score - p.score) > tolerance) {
        problems.push(
          `${image.name}: ${p.label} (${p.index}) scored ${score.toFixed(4)}, expected ` +
            `${p.score.toFixed(4)} ± ${tolerance}`
        )
      }
    }
  })
  return problems
}
