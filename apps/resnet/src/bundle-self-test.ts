/**
 * The bundle's `selftest/` (reference images and `expected.json`): checked before the model
 * serves, written by `model:check`.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { ModelBundle } from '@resnet/model-loader'
import { scoreImages, selfTestDifferences } from '@resnet/server'
import type {
  ImageDecoder,
  InferenceModel,
  SelfTestExpectations,
  SelfTestImage,
} from '@resnet/server'

const EXPECTED = 'expected.json'
/** How many classes per image `model:check` records. */
const RECORDED_TOP_K = 5

const readImages = (dir: string, names: readonly string[]): Promise<SelfTestImage[]> =>
  Promise.all(names.map(async (name) => ({ name, bytes: await readFile(path.join(dir, name)) })))

/**
 * Runs the bundle's self-test through the serving path; resolves with the number of images
 * checked (0 without a selftest/), throws listing every difference when it fails.
 */
export async function runBundleSelfTest(
  model: InferenceModel,
  bundle: ModelBundle,
  decoder?: ImageDecoder
): Promise<number> {
  const dir = bundle.selfTestDir
  if (dir === undefined) return 0
  const file = path.join(dir, EXPECTED)
  const expected = JSON.parse(
    await readFile(file, 'utf8').catch((err: unknown) => {
      throw new Error(
        `${file} is missing: write it with \`pnpm --filter resnet model:check <uri> <images…>\``,
        { cause: err }
      )
    })
  ) as SelfTestExpectations
  const images = await readImages(dir, Object.keys(expected.images))
  const differences = selfTestDifferences(
    expected,
    images,
    await scoreImages(model, images, decoder)
  )
  if (differences.length > 0) {
    throw new Error(
      `Self-test failed (${differences.length} differences; see README, "Self-test"):\n` +
        differences.map((d) => `  - ${d}`).join('\n')
    )
  }
  return images.length
}

/**
 * Scores `imageFiles` through the serving path and writes them with their top-5 into
 * `outDir` (a bundle's selftest/). Resolves with what was written.
 */
export async function writeSelfTest(
  model: InferenceModel,
  imageFiles: readonly string[],
  outDir: string,
  decoder?: ImageDecoder
): Promise<SelfTestExpectations> {
  await mkdir(outDir, { recursive: true })
  const images = await Promise.all(
    imageFiles.map(async (file) => ({ name: path.basename(file), bytes: await readFile(file) }))
  )
  const scored = await scoreImages(model, images, decoder)
  const expected: SelfTestExpectations = {
    images: Object.fromEntries(
      images.map((image, i) => [image.name, { top: scored[i]!.slice(0, RECORDED_TOP_K) }])
    ),
  }
  for (const file of imageFiles) {
    const target = path.join(outDir, path.basename(file))
    if (path.resolve(file) !== path.resolve(target)) await copyFile(file, target)
  }
  await writeFile(path.join(outDir, EXPECTED), `${JSON.stringify(expected, null, 2)}\n`)
  return expected
}
