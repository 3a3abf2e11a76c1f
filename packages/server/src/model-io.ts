/**
 * Which of a model's inputs and outputs are served, and the refusals of models that are not a
 * single-image classifier: each names what to set or how to re-export (see README, "Supported
 * exports").
 */
import type { ModelConfig } from '@resnet/preprocess'
import type { SessionInput } from './worker-session.js'

const INPUT_TYPES = new Set(['float32', 'float16', 'uint8'])
const SCORE_TYPES = new Set(['float32', 'float16'])
const fixed = (dim: number | string | undefined): dim is number =>
  typeof dim === 'number' && dim > 0
const describe = (t: SessionInput): string => `"${t.name}" ${t.type} ${JSON.stringify(t.shape)}`
const list = (ts: readonly SessionInput[]): string => ts.map(describe).join(', ')

/** The one image input: several inputs (several images, or a text model's ids) are refused. */
export function chooseInput(inputs: readonly SessionInput[]): SessionInput {
  const [only, ...more] = inputs
  if (!only) throw new Error('Model has no inputs')
  if (more.length > 0) {
    const images = inputs.filter((i) => i.shape.length === 4)
    const why =
      images.length > 1
        ? `${images.length} image inputs; only one image per prediction is supported`
        : 'several inputs; only single-input image classifiers are served'
    throw new Error(`Model has ${why}: ${list(inputs)}`)
  }
  if (only.shape.length === 2 && /^u?int(32|64)$/.test(only.type)) {
    throw new Error(
      `Model input ${describe(only)} looks like token ids: a text model, not an image classifier`
    )
  }
  if (!INPUT_TYPES.has(only.type)) {
    throw new Error(
      `Model input ${describe(only)} has an unsupported type; export it with a float32, float16 ` +
        'or uint8 (raw pixels) input'
    )
  }
  if (only.shape.length !== 4) {
    throw new Error(`Model input ${describe(only)} is not an image batch [N,3,H,W] or [N,H,W,3]`)
  }
  return only
}

/** The model's fixed batch size (a number in the input's first dim), or undefined when dynamic. */
export function fixedBatchSize(input: SessionInput): number | undefined {
  const [batch] = input.shape
  return fixed(batch) ? batch : undefined
}

/** Checks the effective config against the declared input so that mistakes fail at start. */
export function checkInput(config: ModelConfig, input: SessionInput): void {
  const { dtype, height, width, layout } = config.input
  if (input.type !== dtype) {
    throw new Error(
      `Model input "${input.name}" is ${input.type} but the config says input.dtype=${dtype}`
    )
  }
  const [h, w] =
    layout === 'NCHW' ? [input.shape[2], input.shape[3]] : [input.shape[1], input.shape[2]]
  if (config.sources['input.size'] === 'default' && (!fixed(h) || !fixed(w))) {
    throw new Error(
      `Model input ${describe(input)} has a dynamic height or width: set input.size ` +
        '(e.g. 224 or [height, width]) in config.json'
    )
  }
  const want = layout === 'NCHW' ? [3, height, width] : [height, width, 3]
  input.shape.slice(1).forEach((dim, i) => {
    if (fixed(dim) && dim !== want[i]) {
      throw new Error(
        `Model input "${input.name}" has shape ${JSON.stringify(input.shape)}; the config ` +
          `(${layout}) gives [N,${want.join(',')}]: set input.layout / input.size in config.json`
      )
    }
  })
}

/** Whether an output's shape is class scores: [N,C], [N,C,1,1], or [1,C] / [C] (fixed batch). */
const isScores = (shape: readonly (number | string)[]): boolean =>
  shape.length >= 1 && shape.length <= 4 && shape.slice(2).every((dim) => dim === 1 || !fixed(dim))

/** The scores output: the one named in the config, else the only float32/float16 tensor. */
export function chooseOutput(outputs: readonly SessionInput[], name?: string): SessionInput {
  const named = name === undefined ? undefined : outputs.find((o) => o.name === name)
  if (name !== undefined && !named) {
    throw new Error(`Model has no output "${name}" (it has ${list(outputs)}); fix output.name`)
  }
  const floats = outputs.filter((o) => SCORE_TYPES.has(o.type))
  if (!named && floats.length !== 1) {
    throw new Error(
      floats.length === 0
        ? `Model has no float32 or float16 output (it has ${list(outputs)})`
        : `Model has ${floats.length} float outputs (${list(floats)}); set output.name in ` +
            'config.json to the class scores'
    )
  }
  const chosen = named ?? floats[0]!
  if (!SCORE_TYPES.has(chosen.type) || !isScores(chosen.shape)) {
    throw new Error(
      `Model output ${describe(chosen)} is not class scores: expected float32 or float16 ` +
        '[N,C] or [N,C,1,1]'
    )
  }
  return chosen
}
