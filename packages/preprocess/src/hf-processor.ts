/**
 * A Hugging Face image processor (`preprocessor_config.json` of a Transformers / Optimum /
 * Transformers.js export) as this project's config.json `input` fields.
 */
import { PreprocessError } from './errors.js'

/** PIL resample codes Transformers writes; only the filters sharp reproduces closely are taken. */
const RESAMPLE: Readonly<Record<number, 'bilinear' | 'bicubic'>> = { 2: 'bilinear', 3: 'bicubic' }
const PIL_NAMES = ['nearest', 'lanczos', 'bilinear', 'bicubic', 'box', 'hamming']

type Json = Record<string, unknown>
const record = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined

/** `size` / `crop_size` as [height, width] or a shortest edge; a bare number is a square. */
function sizeOf(value: unknown): { hw?: [number, number]; shortest?: number } {
  if (typeof value === 'number') return { hw: [value, value] }
  const v = record(value)
  if (!v) return {}
  if (typeof v.height === 'number' && typeof v.width === 'number')
    return { hw: [v.height, v.width] }
  if (typeof v.shortest_edge === 'number') return { shortest: v.shortest_edge }
  return {}
}

const refuse = (message: string): PreprocessError =>
  new PreprocessError('INVALID_MODEL_CONFIG', `preprocessor_config.json: ${message}`)

/**
 * Maps `do_resize`/`size` (`shortest_edge` or `height`/`width`), `do_center_crop`/`crop_size`
 * (or ConvNeXt's `crop_pct`),
 * `do_rescale`/`rescale_factor`, `do_normalize`/`image_mean`/`image_std` and `resample` to a
 * config.json object. What the processor leaves out is left to the model and the defaults.
 * @example configFromImageProcessor({ size: { shortest_edge: 256 }, crop_size: 224 })
 * // { input: { size: [224, 224], resize: 256, crop: 'center' } }
 */
export function configFromImageProcessor(json: unknown): { input: Json } {
  const p = record(json) ?? {}
  const input: Json = {}
  const size = sizeOf(p.size)
  const crop = sizeOf(p.crop_size)
  const resizes = p.do_resize !== false
  const crops = p.do_center_crop === true || (p.do_center_crop === undefined && crop.hw)
  if (crops && crop.hw) {
    input.size = crop.hw
    input.crop = 'center'
    const shorter = size.shortest ?? (size.hw ? Math.min(...size.hw) : undefined)
    if (resizes && shorter !== undefined) input.resize = shorter
  } else if (size.hw) {
    input.size = size.hw
    input.crop = 'none'
  } else if (size.shortest !== undefined && typeof p.crop_pct === 'number' && p.crop_pct > 0) {
    // ConvNeXt: below 384, shorter side to shortest_edge / crop_pct, then a centre crop of
    // shortest_edge; from 384 up, a straight resize to shortest_edge x shortest_edge
    input.size = size.shortest
    input.crop = size.shortest < 384 ? 'center' : 'none'
    if (size.shortest < 384) input.resize = Math.floor(size.shortest / p.crop_pct)
  } else if (size.shortest !== undefined) {
    input.size = size.shortest // a square crop of the shortest edge
  }
  if (p.do_rescale === false) input.scale = 1
  else if (typeof p.rescale_factor === 'number') input.scale = p.rescale_factor
  if (p.do_normalize === false) {
    input.mean = [0, 0, 0]
    input.std = [1, 1, 1]
  } else {
    if (Array.isArray(p.image_mean)) input.mean = p.image_mean
    if (Array.isArray(p.image_std)) input.std = p.image_std
  }
  if (typeof p.resample === 'number') {
    const filter = RESAMPLE[p.resample]
    if (!filter) {
      const name = PIL_NAMES[p.resample] ?? 'unknown'
      throw refuse(
        `resample ${p.resample} (${name}) is not supported; use 2 (bilinear) or 3 (bicubic)`
      )
    }
    input.interpolation = filter
  }
  return { input }
}

/** Class labels in index order from a Transformers config.json's `id2label`, or undefined. */
export function labelsFromId2Label(json: unknown): string[] | undefined {
  const map = record(record(json)?.id2label)
  if (!map) return undefined
  const labels: (string | undefined)[] = []
  for (const [id, label] of Object.entries(map)) labels[Number(id)] = String(label)
  return Array.from(labels, (label, i) => label ?? `class_${i}`)
}
