/**
 * Variants of the fixture MobileNetV2 as people export classifiers (fp16, fixed batch, NHWC,
 * uint8 with normalisation and softmax inside, [N,C,1,1] scores, a Hugging Face / Optimum
 * bundle), each written as a bundle directory without a config.json.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { OnnxDataType } from '@resnet/model-loader'
import type { ValueInfoSpec } from '@resnet/model-loader'
import { IMAGENET_MEAN, IMAGENET_STD } from '@resnet/preprocess'
import { MOBILENET_DIR } from '@resnet/test-support'
import { wrapGraph } from './onnx-graph.js'
import type { GraphWrap } from './onnx-graph.js'

const { FLOAT, FLOAT16, UINT8 } = OnnxDataType
const NCHW = ['N', 3, 224, 224]
const NHWC = ['N', 224, 224, 3]
const CLASSES = ['N', 1000]
const image = (elemType: ValueInfoSpec['elemType'], shape: (string | number)[]): ValueInfoSpec => ({
  name: 'image',
  shape,
  elemType,
})
const scores = (
  elemType: ValueInfoSpec['elemType'],
  shape: (string | number)[]
): ValueInfoSpec => ({
  name: 'scores',
  shape,
  elemType,
})
const cast = (from: string, to: string, type: number) => ({
  name: `cast_${to}`,
  opType: 'Cast',
  inputs: [from],
  outputs: [to],
  attributes: [{ name: 'to', type: 'int' as const, value: type }],
})
const toNchw = (from: string, to: string) => ({
  name: 'to_nchw',
  opType: 'Transpose',
  inputs: [from],
  outputs: [to],
  attributes: [{ name: 'perm', type: 'ints' as const, value: [0, 3, 1, 2] }],
})
const perChannel = (name: string, values: (c: number) => number) => ({
  name,
  dims: [1, 3, 1, 1],
  data: Float32Array.from([0, 1, 2], values),
})

/**
 * `x * mul[c] + add[c]` per channel from `from` (NCHW) into the fixture's input: turns another
 * pixel convention into the normalised pixels the fixture was trained on.
 */
const affineToInput = (
  from: string,
  mul: (c: number) => number,
  add: (c: number) => number
): Required<Pick<GraphWrap, 'pre' | 'initializers'>> => ({
  pre: [
    { name: 'scale', opType: 'Mul', inputs: [from, 'mul'], outputs: ['scaled'] },
    { name: 'shift', opType: 'Add', inputs: ['scaled', 'add'], outputs: ['input'] },
  ],
  initializers: [perChannel('mul', mul), perChannel('add', add)],
})
const torchvisionFrom255 = affineToInput(
  'pixels_nchw',
  (c) => 1 / (255 * IMAGENET_STD[c]!),
  (c) => -IMAGENET_MEAN[c]! / IMAGENET_STD[c]!
)

/** How each variant wraps the fixture model (original input "input", output "output"). */
export const VARIANTS = {
  /** float16 input and output, as fp16 conversion tools write them. */
  fp16: {
    inputs: [image(FLOAT16, NCHW)],
    pre: [cast('image', 'input', FLOAT)],
    post: [cast('output', 'scores', FLOAT16)],
    outputs: [scores(FLOAT16, CLASSES)],
  },
  /** `torch.onnx.export` without dynamic_axes: batch 1 only, [1,C] scores. */
  'batch-1': {
    inputs: [{ name: 'input', shape: [1, 3, 224, 224] }],
    outputs: [{ name: 'output', shape: [1, 1000] }],
  },
  'batch-4': {
    inputs: [{ name: 'input', shape: [4, 3, 224, 224] }],
    outputs: [{ name: 'output', shape: [4, 1000] }],
  },
  /** Keras / tf2onnx layout. */
  nhwc: { inputs: [image(FLOAT, NHWC)], pre: [toNchw('image', 'input')] },
  /** Raw 0..255 NHWC pixels; normalisation and softmax inside the graph. */
  'uint8-nhwc-softmax': {
    inputs: [image(UINT8, NHWC)],
    pre: [
      cast('image', 'pixels', FLOAT),
      toNchw('pixels', 'pixels_nchw'),
      ...torchvisionFrom255.pre,
    ],
    initializers: torchvisionFrom255.initializers,
    post: [
      {
        name: 'softmax',
        opType: 'Softmax',
        inputs: ['output'],
        outputs: ['scores'],
        attributes: [{ name: 'axis', type: 'int', value: 1 }],
      },
    ],
    outputs: [scores(FLOAT, CLASSES)],
  },
  /** A convolutional head without the final flatten: [N,C,1,1]. */
  'nc11-output': {
    post: [
      {
        name: 'unsqueeze',
        opType: 'Unsqueeze',
        inputs: ['output'],
        outputs: ['scores'],
        attributes: [{ name: 'axes', type: 'ints', value: [2, 3] }],
      },
    ],
    outputs: [scores(FLOAT, ['N', 1000, 1, 1])],
  },
} satisfies Record<string, GraphWrap>

/** A variant's name. */
export type VariantName = keyof typeof VARIANTS

/** Keras `preprocess_input` modes as the fixture would see them, via ImageNet's mean/std. */
const CAFFE_MEAN_RGB = [123.68, 116.779, 103.939]
const kerasTf = affineToInput(
  'nchw',
  (c) => 127.5 / (255 * IMAGENET_STD[c]!),
  (c) => (127.5 / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!
)
const kerasCaffe = affineToInput(
  'rgb',
  (c) => 1 / (255 * IMAGENET_STD[c]!),
  (c) => (CAFFE_MEAN_RGB[c]! / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!
)
/** 1x1 convolution weights [out, in, 1, 1] that swap channels 0 and 2 (BGR <-> RGB). */
const SWAP_RB = {
  name: 'swap_rb',
  dims: [3, 3, 1, 1],
  data: Float32Array.from([0, 0, 1, 0, 1, 0, 1, 0, 0]),
}

/**
 * Models exported from Keras (NHWC float) that expect a Keras preprocessing mode, each with the
 * config.json that names its preset: the graph turns the preset's pixels back into what the
 * fixture was trained on, so only the right preset gives the fixture's answers.
 */
export const KERAS_VARIANTS = {
  /** x / 127.5 - 1 in, so x = (t + 1) * 127.5. */
  'keras-tf': {
    config: { input: { preset: 'tf' } },
    wrap: {
      inputs: [image(FLOAT, NHWC)],
      pre: [toNchw('image', 'nchw'), ...kerasTf.pre],
      initializers: kerasTf.initializers,
    },
  },
  /** BGR, 0..255 minus the caffe means in. */
  'keras-caffe': {
    config: { input: { preset: 'caffe' } },
    wrap: {
      inputs: [image(FLOAT, NHWC)],
      pre: [
        toNchw('image', 'bgr'),
        { name: 'to_rgb', opType: 'Conv', inputs: ['bgr', 'swap_rb'], outputs: ['rgb'] },
        ...kerasCaffe.pre,
      ],
      initializers: [SWAP_RB, ...kerasCaffe.initializers],
    },
  },
} satisfies Record<string, { config: object; wrap: GraphWrap }>

/** Writes a Keras variant with its config.json; returns `dir`. */
export async function writeKerasBundle(
  name: keyof typeof KERAS_VARIANTS,
  dir: string
): Promise<string> {
  await mkdir(dir, { recursive: true })
  const { wrap, config } = KERAS_VARIANTS[name]
  await writeFile(path.join(dir, 'model.onnx'), wrapGraph(await fixtureModel(), wrap))
  await copyFile(path.join(MOBILENET_DIR, 'labels.txt'), path.join(dir, 'labels.txt'))
  await writeJson(path.join(dir, 'config.json'), config)
  return dir
}

const fixtureModel = (): Promise<Buffer> => readFile(path.join(MOBILENET_DIR, 'model.onnx'))

/** Writes `dir/model.onnx` (the wrapped fixture) and the fixture's labels.txt; returns `dir`. */
export async function writeVariantBundle(name: VariantName, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, 'model.onnx'), wrapGraph(await fixtureModel(), VARIANTS[name]))
  await copyFile(path.join(MOBILENET_DIR, 'labels.txt'), path.join(dir, 'labels.txt'))
  return dir
}

/** The fixture's labels, in class-index order. */
const fixtureLabels = async (): Promise<string[]> =>
  (await readFile(path.join(MOBILENET_DIR, 'labels.txt'), 'utf8')).trimEnd().split('\n')

/**
 * A Hugging Face / Optimum / Transformers.js layout: onnx/model.onnx with IO `pixel_values`
 * (dynamic batch, channels, height and width, as Optimum declares it) and `logits`, config.json
 * with id2label, and preprocessor_config.json with the torchvision recipe.
 */
export async function writeHuggingFaceBundle(dir: string): Promise<string> {
  await mkdir(path.join(dir, 'onnx'), { recursive: true })
  const wrap: GraphWrap = {
    inputs: [{ name: 'pixel_values', shape: ['batch_size', 'num_channels', 'height', 'width'] }],
    pre: [{ name: 'in', opType: 'Identity', inputs: ['pixel_values'], outputs: ['input'] }],
    post: [{ name: 'out', opType: 'Identity', inputs: ['output'], outputs: ['logits'] }],
    outputs: [{ name: 'logits', shape: ['batch_size', 1000] }],
  }
  const model = wrapGraph(await fixtureModel(), wrap)
  await writeFile(path.join(dir, 'onnx', 'model.onnx'), model)
  const labels = await fixtureLabels()
  const id2label = Object.fromEntries(labels.map((label, i) => [String(i), label]))
  const label2id = Object.fromEntries(labels.map((label, i) => [label, i]))
  const config = {
    architectures: ['MobileNetV2ForImageClassification'],
    model_type: 'mobilenet_v2',
  }
  await writeJson(path.join(dir, 'config.json'), { ...config, id2label, label2id })
  await writeJson(path.join(dir, 'preprocessor_config.json'), {
    image_processor_type: 'MobileNetV2ImageProcessor',
    do_resize: true,
    size: { shortest_edge: 256 },
    resample: 2,
    do_center_crop: true,
    crop_size: { height: 224, width: 224 },
    do_rescale: true,
    rescale_factor: 0.00392156862745098,
    do_normalize: true,
    image_mean: IMAGENET_MEAN,
    image_std: IMAGENET_STD,
  })
  return dir
}

const writeJson = (file: string, value: unknown): Promise<void> =>
  writeFile(file, `${JSON.stringify(value, null, 2)}\n`)
