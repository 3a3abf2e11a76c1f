/** Paths to the shared, read-only test fixtures beside the repository (../shared/fixtures). */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** `../shared/fixtures/` seen from the repository root; override with SHARED_FIXTURES_DIR. */
export const FIXTURES_DIR: string =
  process.env.SHARED_FIXTURES_DIR ??
  fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url))

/** The MobileNetV2 int8 bundle directory (model.onnx + labels.txt). */
export const MOBILENET_DIR = `${FIXTURES_DIR}models/mobilenetv2-int8`
/** Real photos with known ImageNet classes. */
export const IMAGES_DIR = `${FIXTURES_DIR}images/`
/** Odd and broken images from public test suites. */
export const BAD_IMAGES_DIR = `${FIXTURES_DIR}bad-images/`

/** Accepted top-1 class indices per photo, from images/expected.json. */
export function expectedClasses(): Record<string, readonly number[]> {
  const raw = JSON.parse(readFileSync(`${IMAGES_DIR}expected.json`, 'utf8')) as Record<
    string,
    { accept: number[] }
  >
  return Object.fromEntries(Object.entries(raw).map(([file, v]) => [file, v.accept]))
}
