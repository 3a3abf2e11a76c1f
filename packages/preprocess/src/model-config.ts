/** The model bundle's JSON config: schema, defaults (torchvision's ImageNet recipe) and parsing. */
import { z } from 'zod'
import { PreprocessError } from './errors.js'

/** torchvision's ImageNet channel means (RGB). */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406]
/** torchvision's ImageNet channel standard deviations (RGB). */
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225]

const triple = z.tuple([z.number(), z.number(), z.number()])
const positiveInt = z.number().int().positive()

const InputSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    /** Final height and width fed to the model (one number means a square). */
    size: z.union([positiveInt, z.tuple([positiveInt, positiveInt])]).default(224),
    /** Shorter side after resizing, before the centre crop (torchvision `Resize(256)`). */
    resize: positiveInt.optional(),
    crop: z.enum(['center', 'none']).default('center'),
    scale: z
      .number()
      .positive()
      .default(1 / 255),
    mean: triple.default([...IMAGENET_MEAN]),
    std: triple
      .refine((s) => s.every((v) => v > 0), 'every std value must be > 0')
      .default([...IMAGENET_STD]),
    colorOrder: z.enum(['RGB', 'BGR']).default('RGB'),
    layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
    dtype: z.enum(['float32', 'float16', 'uint8']).default('float32'),
    background: triple.default([255, 255, 255]),
  })
  .prefault({})

const OutputSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    activation: z.enum(['softmax', 'none']).default('softmax'),
  })
  .prefault({})

const ModelConfigSchema = z.strictObject({
  name: z.string().min(1).optional(),
  version: z.string().min(1).optional(),
  demo: z.boolean().default(false),
  input: InputSchema,
  output: OutputSchema,
})

type ParsedConfig = z.infer<typeof ModelConfigSchema>

/** How to turn an image into the model's input tensor. */
export interface InputSpec {
  readonly name: string | undefined
  readonly height: number
  readonly width: number
  /** Shorter side after resize when `crop` is `center`. */
  readonly resize: number
  readonly crop: 'center' | 'none'
  readonly scale: number
  readonly mean: readonly [number, number, number]
  readonly std: readonly [number, number, number]
  readonly colorOrder: 'RGB' | 'BGR'
  readonly layout: 'NCHW' | 'NHWC'
  readonly dtype: 'float32' | 'float16' | 'uint8'
  readonly background: readonly [number, number, number]
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

function complete(parsed: ParsedConfig): ModelConfig {
  const { size, resize, ...rest } = parsed.input
  const [height, width] = typeof size === 'number' ? [size, size] : size
  // torchvision's classification presets resize to crop/0.875 (224 -> 256).
  const shorter = resize ?? Math.round(Math.min(height, width) / 0.875)
  if (rest.crop === 'center' && shorter < Math.max(height, width)) {
    throw new PreprocessError(
      'INVALID_MODEL_CONFIG',
      `Invalid model config: input.resize (${shorter}) must be >= input.size (${height}x${width})`
    )
  }
  return Object.freeze({
    name: parsed.name,
    version: parsed.version,
    demo: parsed.demo,
    input: Object.freeze({ ...rest, name: rest.name, height, width, resize: shorter }),
    output: Object.freeze({ name: parsed.output.name, activation: parsed.output.activation }),
  })
}

/**
 * Validates a bundle config (parsed JSON). Every problem is listed with its field path.
 * @example parseModelConfig({ input: { colorOrder: 'BGR', scale: 1 } })
 */
export function parseModelConfig(json: unknown): ModelConfig {
  const result = ModelConfigSchema.safeParse(json ?? {})
  if (!result.success) {
    const lines = result.error.issues.map(
      (i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`
    )
    throw new PreprocessError('INVALID_MODEL_CONFIG', `Invalid model config:\n${lines.join('\n')}`)
  }
  return complete(result.data)
}

/** The torchvision ImageNet recipe: shorter side 256, centre crop 224, /255, mean/std, RGB, NCHW. */
export const DEFAULT_MODEL_CONFIG: ModelConfig = parseModelConfig({})
