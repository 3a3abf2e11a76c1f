/** The zod schema of a bundle's config.json; defaults are torchvision's ImageNet recipe. */
import { z } from 'zod'

/** torchvision's ImageNet channel means (RGB). */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406]
/** torchvision's ImageNet channel standard deviations (RGB). */
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225]

const MAX_SIDE = 8192
const side = z
  .number({ error: `expected an integer from 1 to ${MAX_SIDE}` })
  .int({ error: `expected an integer from 1 to ${MAX_SIDE}` })
  .min(1, { error: `expected an integer from 1 to ${MAX_SIDE}` })
  .max(MAX_SIDE, { error: `expected an integer from 1 to ${MAX_SIDE}` })
const triple = (what: string): z.ZodTuple<[z.ZodNumber, z.ZodNumber, z.ZodNumber], null> =>
  z.tuple([z.number(), z.number(), z.number()], { error: `expected ${what}` })
const rgb255 = (what: string): z.ZodType<[number, number, number]> =>
  triple(`${what} as [r, g, b]`).refine(
    (c) => c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255),
    `expected ${what} as [r, g, b] integers from 0 to 255`
  )

/** How the image is fitted to the input size (see README, "Geometry"). */
export type CropMode = 'center' | 'none' | 'letterbox'
/**
 * Resampling filter, antialiased when reducing as torchvision's (Pillow's) are. Only filters that
 * sharp can reproduce closely are offered: its nearest and lanczos differ from Pillow's.
 */
export type Interpolation = 'bilinear' | 'bicubic'
/** Keras `preprocess_input` modes (see README, "Keras"). */
export type KerasPreset = 'caffe' | 'tf' | 'torch'

/** Three numbers, one per channel, always in R, G, B order. */
export type Triple = [number, number, number]

/** The `input` object after zod: defaults applied, the size not yet split into height/width. */
export interface ParsedInput {
  name?: string | undefined
  preset?: KerasPreset | undefined
  size: number | [number, number]
  resize?: number | undefined
  crop: CropMode
  interpolation: Interpolation
  fastShrinkOnLoad: boolean
  iccProfile: 'ignore' | 'convert'
  scale: number
  mean: Triple
  std: Triple
  colorOrder: 'RGB' | 'BGR'
  layout: 'NCHW' | 'NHWC'
  dtype: 'float32' | 'float16' | 'uint8'
  background: Triple
  padColor: Triple
}

/** config.json after zod: defaults applied, cross-field rules not yet checked. */
export interface ParsedConfig {
  name?: string | undefined
  version?: string | undefined
  demo: boolean
  input: ParsedInput
  output: { name?: string | undefined; activation: 'softmax' | 'none' }
}

const InputSchema: z.ZodType<ParsedInput> = z
  .strictObject({
    name: z.string().min(1).optional(),
    preset: z.enum(['caffe', 'tf', 'torch']).optional(),
    size: z
      .union([side, z.tuple([side, side])], {
        error: `expected a side length or [height, width], integers from 1 to ${MAX_SIDE}`,
      })
      .default(224),
    resize: side.optional(),
    crop: z.enum(['center', 'none', 'letterbox']).default('center'),
    interpolation: z.enum(['bilinear', 'bicubic']).default('bilinear'),
    fastShrinkOnLoad: z.boolean().default(false),
    iccProfile: z.enum(['ignore', 'convert']).default('ignore'),
    scale: z
      .number()
      .positive()
      .default(1 / 255),
    mean: triple('three channel means [r, g, b]').default([...IMAGENET_MEAN]),
    std: triple('three channel standard deviations [r, g, b]')
      .refine((s) => s.every((v) => v > 0), 'expected every std value to be > 0')
      .default([...IMAGENET_STD]),
    colorOrder: z.enum(['RGB', 'BGR']).default('RGB'),
    layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
    dtype: z.enum(['float32', 'float16', 'uint8']).default('float32'),
    background: rgb255('the background colour').default([255, 255, 255]),
    padColor: rgb255('the padding colour').default([114, 114, 114]),
  })
  .prefault({})

const OutputSchema: z.ZodType<ParsedConfig['output']> = z
  .strictObject({
    name: z.string().min(1).optional(),
    activation: z.enum(['softmax', 'none']).default('softmax'),
  })
  .prefault({})

/** The whole config.json. Unknown keys are refused so that typos do not pass silently. */
export const ModelConfigSchema: z.ZodType<ParsedConfig> = z.strictObject({
  name: z.string().min(1).optional(),
  version: z.string().min(1).optional(),
  demo: z.boolean().default(false),
  input: InputSchema,
  output: OutputSchema,
})
