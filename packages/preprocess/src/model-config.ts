/** The model bundle's JSON config: validation with precise messages, and the completed spec. */
import { PreprocessError } from './errors.js'
import { ModelConfigSchema } from './model-config-schema.js'
import type { CropMode, Interpolation, ParsedConfig } from './model-config-schema.js'

type Rgb = readonly [number, number, number]

/** How to turn an image into the model's input tensor (config.json `input`, completed). */
export interface InputSpec {
  readonly name: string | undefined
  readonly height: number
  readonly width: number
  /** Shorter side after the resize when `crop` is `center` (torchvision `Resize(256)`). */
  readonly resize: number
  readonly crop: CropMode
  readonly interpolation: Interpolation
  /** Let JPEGs decode at 1/2..1/8 scale when the resize allows it (faster, less exact). */
  readonly fastShrinkOnLoad: boolean
  /** `ignore` embedded ICC profiles like Pillow/torchvision, or `convert` to sRGB with them. */
  readonly iccProfile: 'ignore' | 'convert'
  readonly scale: number
  /** Per channel, in R, G, B order whatever `colorOrder` is. */
  readonly mean: Rgb
  /** Per channel, in R, G, B order whatever `colorOrder` is. */
  readonly std: Rgb
  readonly colorOrder: 'RGB' | 'BGR'
  readonly layout: 'NCHW' | 'NHWC'
  readonly dtype: 'float32' | 'float16' | 'uint8'
  /** Colour transparent pixels are flattened onto, 0..255. */
  readonly background: Rgb
  /** Colour of the letterbox bars, 0..255. */
  readonly padColor: Rgb
}

/** A validated, complete model config with every default filled in. */
export interface ModelConfig {
  readonly name: string | undefined
  readonly version: string | undefined
  /** True for the generated demo model, whose predictions are meaningless. */
  readonly demo: boolean
  readonly input: InputSpec
  readonly output: { readonly name: string | undefined; readonly activation: 'softmax' | 'none' }
}

const invalid = (lines: readonly string[]): PreprocessError =>
  new PreprocessError('INVALID_MODEL_CONFIG', `Invalid model config:\n${lines.join('\n')}`)

const show = (value: unknown): string => {
  const text = value === undefined ? 'undefined' : JSON.stringify(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** Rules across fields, checked on the raw JSON so that only explicit settings are blamed. */
function crossFieldProblems(raw: Record<string, unknown>, input: ParsedConfig['input']): string[] {
  const problems: string[] = []
  const [height, width] = typeof input.size === 'number' ? [input.size, input.size] : input.size
  if (input.crop !== 'center' && input.resize !== undefined) {
    problems.push(
      `  - input.resize: only used with crop "center"; remove it for crop "${input.crop}"`
    )
  }
  if (
    input.crop === 'center' &&
    input.resize !== undefined &&
    input.resize < Math.max(height, width)
  ) {
    problems.push(
      `  - input.resize: expected at least the input size (${height}x${width}), got ${input.resize}`
    )
  }
  if (input.dtype === 'uint8') {
    for (const key of ['scale', 'mean', 'std'].filter((k) => k in raw)) {
      problems.push(
        `  - input.${key}: has no effect with dtype "uint8" (raw 0..255 pixels are fed)`
      )
    }
  }
  return problems
}

function complete(parsed: ParsedConfig, rawInput: Record<string, unknown>): ModelConfig {
  const problems = crossFieldProblems(rawInput, parsed.input)
  if (problems.length > 0) throw invalid(problems)
  const { size, resize, ...rest } = parsed.input
  const [height, width] = typeof size === 'number' ? [size, size] : size
  // torchvision's classification presets resize to crop / 0.875 (224 -> 256).
  const shorter = resize ?? Math.round(Math.min(height, width) / 0.875)
  return Object.freeze({
    name: parsed.name,
    version: parsed.version,
    demo: parsed.demo,
    input: Object.freeze({ ...rest, name: rest.name, height, width, resize: shorter }),
    output: Object.freeze({ name: parsed.output.name, activation: parsed.output.activation }),
  })
}

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}

/**
 * Validates a bundle config (parsed JSON). Every problem is listed with its field path, what was
 * expected and what was found; `undefined` or `{}` gives torchvision's ImageNet recipe.
 * @example parseModelConfig({ input: { colorOrder: 'BGR', scale: 1 } })
 */
export function parseModelConfig(json: unknown): ModelConfig {
  const result = ModelConfigSchema.safeParse(json ?? {}, { reportInput: true })
  if (!result.success) {
    throw invalid(
      result.error.issues.map((i) => {
        const got = i.code === 'unrecognized_keys' ? '' : ` (got ${show(i.input)})`
        return `  - ${i.path.join('.') || '(root)'}: ${i.message}${got}`
      })
    )
  }
  return complete(result.data, asRecord(asRecord(json).input))
}

/** The torchvision ImageNet recipe: shorter side 256, centre crop 224, /255, mean/std, RGB, NCHW. */
export const DEFAULT_MODEL_CONFIG: ModelConfig = parseModelConfig({})
