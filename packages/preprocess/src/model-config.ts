/** The model bundle's JSON config: validation with precise messages, and the completed spec. */
import { inputFromModel } from './declared-input.js'
import type { DeclaredInput } from './declared-input.js'
import { PreprocessError } from './errors.js'
import { KERAS_PRESETS } from './keras-presets.js'
import { ModelConfigSchema } from './model-config-schema.js'
import type { CropMode, Interpolation, KerasPreset, ParsedConfig } from './model-config-schema.js'

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

/**
 * Where an effective setting came from: the model's declared input, the bundle's config file, a
 * Keras preset named there, or the built-in (torchvision) default.
 */
export type ConfigSource =
  'model' | 'config.json' | 'preprocessor_config.json' | `preset ${KerasPreset}` | 'default'

/** A validated, complete model config with every default filled in. */
export interface ModelConfig {
  readonly name: string | undefined
  readonly version: string | undefined
  /** True for the generated demo model, whose predictions are meaningless. */
  readonly demo: boolean
  readonly input: InputSpec
  readonly output: { readonly name: string | undefined; readonly activation: 'softmax' | 'none' }
  /** Where each `input.*` and `output.*` setting came from, by dotted field name. */
  readonly sources: Readonly<Record<string, ConfigSource>>
}

/** How to read a config: which file it is, and the model input that fills what it leaves out. */
export interface ParseOptions {
  /** The model's declared input: layout, size and dtype not set in the file are taken from it. */
  readonly declared?: DeclaredInput | undefined
  /** The file the JSON came from, as reported in `sources`. @default 'config.json' */
  readonly source?: 'config.json' | 'preprocessor_config.json'
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

function complete(
  parsed: ParsedConfig,
  rawInput: Record<string, unknown>,
  sources: Record<string, ConfigSource>
): ModelConfig {
  const problems = crossFieldProblems(rawInput, parsed.input)
  if (problems.length > 0) throw invalid(problems)
  const { size, resize, ...rest } = parsed.input
  delete rest.preset // its fields were filled in by fillInput; the spec has no preset
  const [height, width] = typeof size === 'number' ? [size, size] : size
  // torchvision's classification presets resize to crop / 0.875 (224 -> 256).
  const shorter = resize ?? Math.round(Math.min(height, width) / 0.875)
  return Object.freeze({
    name: parsed.name,
    version: parsed.version,
    demo: parsed.demo,
    input: Object.freeze({ ...rest, name: rest.name, height, width, resize: shorter }),
    output: Object.freeze({ name: parsed.output.name, activation: parsed.output.activation }),
    sources: Object.freeze(sources),
  })
}

const INPUT_FIELDS = Object.keys(ModelConfigSchema.parse({}).input).filter((k) => k !== 'name')

/**
 * The `input` object to validate: the file's own fields, then what its Keras preset sets, then
 * what the model's declared input fixes; `sources` records which one each field came from.
 */
function fillInput(
  rawInput: Record<string, unknown>,
  options: ParseOptions,
  sources: Record<string, ConfigSource>
): Record<string, unknown> {
  const filled: Record<string, unknown> = {}
  const fill = (fields: object, source: ConfigSource): void => {
    for (const [key, value] of Object.entries(fields)) {
      if (key in rawInput || key in filled) continue
      filled[key] = value
      sources[`input.${key}`] = source
    }
  }
  const preset = rawInput.preset as KerasPreset
  if (Object.hasOwn(KERAS_PRESETS, preset)) fill(KERAS_PRESETS[preset], `preset ${preset}`)
  if (options.declared) fill(inputFromModel(options.declared), 'model')
  return { ...filled, ...rawInput }
}

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}

/**
 * Validates a bundle config (parsed JSON). Every problem is listed with its field path, what was
 * expected and what was found; `undefined` or `{}` gives torchvision's ImageNet recipe.
 * @example parseModelConfig({ input: { colorOrder: 'BGR', scale: 1 } })
 */
export function parseModelConfig(json: unknown, options: ParseOptions = {}): ModelConfig {
  const file = options.source ?? 'config.json'
  const raw = asRecord(json)
  const rawInput = asRecord(raw.input)
  const sources: Record<string, ConfigSource> = {}
  for (const key of Object.keys(rawInput)) sources[`input.${key}`] = file
  for (const key of Object.keys(asRecord(raw.output))) sources[`output.${key}`] = file
  const input = fillInput(rawInput, options, sources)
  for (const key of [...INPUT_FIELDS, 'resize'].map((k) => `input.${k}`)) sources[key] ??= 'default'
  sources['output.activation'] ??= 'default'
  delete sources['input.preset']
  const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v)
  // a file that is not an object, or whose input is not one, goes to zod as it is (its error)
  const candidate =
    json === undefined || json === null
      ? { input }
      : isObject(json) && (raw.input === undefined || isObject(raw.input))
        ? { ...raw, input }
        : json
  const result = ModelConfigSchema.safeParse(candidate, { reportInput: true })
  if (!result.success) {
    throw invalid(
      result.error.issues.map((i) => {
        const got = i.code === 'unrecognized_keys' ? '' : ` (got ${show(i.input)})`
        return `  - ${i.path.join('.') || '(root)'}: ${i.message}${got}`
      })
    )
  }
  return complete(result.data, rawInput, sources)
}

/** The torchvision ImageNet recipe: shorter side 256, centre crop 224, /255, mean/std, RGB, NCHW. */
export const DEFAULT_MODEL_CONFIG: ModelConfig = parseModelConfig({})
