// Builds a ResNet-50 (torchvision v1.5, batch norm folded) ONNX model with seeded random weights.
import type { GraphSpec, NodeSpec, TensorSpec } from './onnx-proto.js'
import { encodeModel } from './onnx-proto.js'

/** The demo model's encoded bytes (as ordered chunks) and its size facts. */
export interface DemoResnet50 {
  readonly chunks: Uint8Array[]
  readonly byteLength: number
  readonly parameterCount: number
}

/** Seed of the weight PRNG; changing it changes every weight (and the model's sha256). */
export const DEMO_RESNET50_SEED = 0x5eed_0050

/** Graph input/output names and the class count of the demo model. */
export const DEMO_RESNET50_IO = { input: 'input', output: 'output', classes: 1000 } as const

const LAYERS = [
  { blocks: 3, width: 64, stride: 1 },
  { blocks: 4, width: 128, stride: 2 },
  { blocks: 6, width: 256, stride: 2 },
  { blocks: 3, width: 512, stride: 2 },
] as const
const EXPANSION = 4
// Scale of each block's last 1x1 conv, in the spirit of zero-init-residual.
const RESIDUAL_SCALE = 0.2
const BIAS_BOUND = 0.01

/** mulberry32: a tiny deterministic 32-bit PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Builder {
  readonly nodes: NodeSpec[]
  readonly initializers: TensorSpec[]
  readonly random: () => number
}

function uniform(b: Builder, count: number, bound: number): Float32Array {
  const data = new Float32Array(count)
  for (let i = 0; i < count; i++) data[i] = (b.random() * 2 - 1) * bound
  return data
}

function addTensor(b: Builder, name: string, dims: number[], bound: number): string {
  const count = dims.reduce((x, y) => x * y, 1)
  b.initializers.push({ name, dims, data: uniform(b, count, bound) })
  return name
}

interface ConvOptions {
  readonly kernel: number
  readonly stride: number
  readonly scale?: number
}

/** Conv with folded-BN bias; He-uniform weights (variance 2 / fan_in) times an optional scale. */
function conv(
  b: Builder,
  name: string,
  x: string,
  cin: number,
  cout: number,
  o: ConvOptions
): string {
  const fanIn = cin * o.kernel * o.kernel
  const w = addTensor(
    b,
    `${name}.weight`,
    [cout, cin, o.kernel, o.kernel],
    Math.sqrt(6 / fanIn) * (o.scale ?? 1)
  )
  const bias = addTensor(b, `${name}.bias`, [cout], BIAS_BOUND)
  const pad = (o.kernel - 1) >> 1
  const y = `${name}.out`
  b.nodes.push({
    name,
    opType: 'Conv',
    inputs: [x, w, bias],
    outputs: [y],
    attributes: [
      { name: 'dilations', type: 'ints', value: [1, 1] },
      { name: 'group', type: 'int', value: 1 },
      { name: 'kernel_shape', type: 'ints', value: [o.kernel, o.kernel] },
      { name: 'pads', type: 'ints', value: [pad, pad, pad, pad] },
      { name: 'strides', type: 'ints', value: [o.stride, o.stride] },
    ],
  })
  return y
}

/**
 * Makes each row sum to zero. The pooled features are all >= 0 with a shared level, so random
 * rows would add a large input-independent per-class offset and one class would always win.
 */
function centerRows(data: Float32Array, rowLength: number): void {
  for (let start = 0; start < data.length; start += rowLength) {
    const row = data.subarray(start, start + rowLength)
    const mean = row.reduce((sum, v) => sum + v, 0) / rowLength
    for (let i = 0; i < rowLength; i++) row[i]! -= mean
  }
}

function op(b: Builder, opType: string, name: string, inputs: string[]): string {
  const y = `${name}.out`
  b.nodes.push({ name, opType, inputs, outputs: [y] })
  return y
}

function bottleneck(
  b: Builder,
  name: string,
  x: string,
  cin: number,
  width: number,
  stride: number
): string {
  const cout = width * EXPANSION
  let y = op(b, 'Relu', `${name}.relu1`, [
    conv(b, `${name}.conv1`, x, cin, width, { kernel: 1, stride: 1 }),
  ])
  y = op(b, 'Relu', `${name}.relu2`, [
    conv(b, `${name}.conv2`, y, width, width, { kernel: 3, stride }),
  ])
  y = conv(b, `${name}.conv3`, y, width, cout, { kernel: 1, stride: 1, scale: RESIDUAL_SCALE })
  const identity =
    stride !== 1 || cin !== cout
      ? conv(b, `${name}.downsample.0`, x, cin, cout, { kernel: 1, stride })
      : x
  return op(b, 'Relu', `${name}.relu3`, [op(b, 'Add', `${name}.add`, [y, identity])])
}

/** Builds the demo ResNet-50 graph (weights included) from a seed; deterministic per seed. */
export function buildDemoResnet50Graph(seed: number = DEMO_RESNET50_SEED): GraphSpec {
  const b: Builder = { nodes: [], initializers: [], random: mulberry32(seed) }
  let x = op(b, 'Relu', 'relu', [
    conv(b, 'conv1', DEMO_RESNET50_IO.input, 3, 64, { kernel: 7, stride: 2 }),
  ])
  const pool = 'maxpool.out'
  b.nodes.push({
    name: 'maxpool',
    opType: 'MaxPool',
    inputs: [x],
    outputs: [pool],
    attributes: [
      { name: 'kernel_shape', type: 'ints', value: [3, 3] },
      { name: 'pads', type: 'ints', value: [1, 1, 1, 1] },
      { name: 'strides', type: 'ints', value: [2, 2] },
    ],
  })
  x = pool
  let channels = 64
  LAYERS.forEach((layer, li) => {
    for (let i = 0; i < layer.blocks; i++) {
      const stride = i === 0 ? layer.stride : 1
      x = bottleneck(b, `layer${li + 1}.${i}`, x, channels, layer.width, stride)
      channels = layer.width * EXPANSION
    }
  })
  x = op(b, 'GlobalAveragePool', 'avgpool', [x])
  const flat = 'flatten.out'
  b.nodes.push({
    name: 'flatten',
    opType: 'Flatten',
    inputs: [x],
    outputs: [flat],
    attributes: [{ name: 'axis', type: 'int', value: 1 }],
  })
  const classes = DEMO_RESNET50_IO.classes
  const fcW = uniform(b, classes * channels, Math.sqrt(6 / channels))
  centerRows(fcW, channels)
  b.initializers.push({ name: 'fc.weight', dims: [classes, channels], data: fcW })
  const fcB = addTensor(b, 'fc.bias', [classes], BIAS_BOUND)
  b.nodes.push({
    name: 'fc',
    opType: 'Gemm',
    inputs: [flat, 'fc.weight', fcB],
    outputs: [DEMO_RESNET50_IO.output],
    attributes: [
      { name: 'alpha', type: 'float', value: 1 },
      { name: 'beta', type: 'float', value: 1 },
      { name: 'transB', type: 'int', value: 1 },
    ],
  })
  return {
    name: 'demo-resnet50',
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: [{ name: DEMO_RESNET50_IO.input, shape: ['N', 3, 224, 224] }],
    outputs: [{ name: DEMO_RESNET50_IO.output, shape: ['N', classes] }],
  }
}

/** Total number of weights in a graph's initializers. */
export function countParameters(graph: GraphSpec): number {
  return graph.initializers.reduce((n, t) => n + t.data.length, 0)
}

/** Builds and encodes the demo ResNet-50 ONNX model (opset 13, IR 8) as ordered byte chunks. */
export function buildDemoResnet50(seed: number = DEMO_RESNET50_SEED): DemoResnet50 {
  const graph = buildDemoResnet50Graph(seed)
  const chunks = encodeModel({
    irVersion: 8,
    producerName: '@resnet/model-loader demo',
    opsetVersion: 13,
    graph,
  })
  const byteLength = chunks.reduce((n, c) => n + c.byteLength, 0)
  return { chunks, byteLength, parameterCount: countParameters(graph) }
}
