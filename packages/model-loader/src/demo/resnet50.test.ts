// Runs the generated demo ResNet-50 in real onnxruntime-node and checks its shape and determinism.
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  buildDemoResnet50,
  buildDemoResnet50Graph,
  countParameters,
  mulberry32,
} from './resnet50.js'
import type { DemoResnet50 } from './resnet50.js'

const TIMEOUT = 60_000
const PIXELS = 224 * 224

function sha256(chunks: readonly Uint8Array[]): string {
  const h = createHash('sha256')
  for (const c of chunks) h.update(c)
  return h.digest('hex')
}

function noiseImage(seed: number): Float32Array {
  const random = mulberry32(seed)
  return Float32Array.from({ length: 3 * PIXELS }, () => (random() * 2 - 1) * 2)
}

function colorImage(rgb: readonly [number, number, number]): Float32Array {
  return Float32Array.from({ length: 3 * PIXELS }, (_, i) => rgb[Math.floor(i / PIXELS)]!)
}

function batchOf(images: readonly Float32Array[]): ort.Tensor {
  const data = new Float32Array(images.length * 3 * PIXELS)
  images.forEach((img, k) => {
    data.set(img, k * 3 * PIXELS)
  })
  return new ort.Tensor('float32', data, [images.length, 3, 224, 224])
}

function argmax(row: Float32Array): number {
  let best = 0
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i
  return best
}

describe('buildDemoResnet50', () => {
  let dir: string
  let model: DemoResnet50
  let session: ort.InferenceSession | undefined

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'demo-resnet50-test-'))
    const started = performance.now()
    model = buildDemoResnet50()
    const buildMs = performance.now() - started
    const modelPath = join(dir, 'model.onnx')
    await writeFile(modelPath, model.chunks)
    console.info(`demo resnet50: built in ${buildMs.toFixed(0)} ms, ${model.byteLength} bytes`)
    session = await ort.InferenceSession.create(modelPath)
  }, TIMEOUT)

  afterAll(async () => {
    try {
      await session?.release()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('has ResNet-50 parameter count and structure with BN folded away', () => {
    expect(model.parameterCount).toBeGreaterThanOrEqual(25_400_000)
    expect(model.parameterCount).toBeLessThanOrEqual(25_700_000)
    // torchvision resnet50 has 25,557,032 params; folding BN drops the 26,560 BN scales.
    expect(model.parameterCount).toBe(25_530_472)
    const graph = buildDemoResnet50Graph()
    expect(countParameters(graph)).toBe(model.parameterCount)
    const ops = graph.nodes.map((n) => n.opType)
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(53)
    expect(ops.filter((o) => o === 'Add')).toHaveLength(16)
    expect(ops).not.toContain('BatchNormalization')
    expect(ops).not.toContain('Softmax')
    const strided = graph.nodes.filter((n) =>
      n.attributes?.some((a) => a.name === 'strides' && a.type === 'ints' && a.value[0] === 2)
    )
    // v1.5: conv1, maxpool, then conv2 (3x3) + downsample of layer2..4's first block.
    expect(strided.map((n) => n.name)).toEqual([
      'conv1',
      'maxpool',
      'layer2.0.conv2',
      'layer2.0.downsample.0',
      'layer3.0.conv2',
      'layer3.0.downsample.0',
      'layer4.0.conv2',
      'layer4.0.downsample.0',
    ])
    const total = model.chunks.reduce((n, c) => n + c.byteLength, 0)
    expect(model.byteLength).toBe(total)
    expect(total).toBeGreaterThan(model.parameterCount * 4)
    expect(total).toBeLessThan(model.parameterCount * 4 + 1_000_000)
  })

  it('exposes input/output names and dynamic-batch shapes to onnxruntime', () => {
    expect(session!.inputNames).toEqual(['input'])
    expect(session!.outputNames).toEqual(['output'])
    const [input] = session!.inputMetadata
    const [output] = session!.outputMetadata
    expect(input).toMatchObject({ isTensor: true, type: 'float32', shape: ['N', 3, 224, 224] })
    expect(output).toMatchObject({ isTensor: true, type: 'float32', shape: ['N', 1000] })
  })

  it(
    'runs a batch of two different inputs to finite, distinct logits',
    async () => {
      const result = await session!.run({ input: batchOf([noiseImage(1), noiseImage(2)]) })
      const out = result.output!
      expect(out.dims).toEqual([2, 1000])
      const data = out.data as Float32Array
      expect(data.every((v) => Number.isFinite(v))).toBe(true)
      const [a, b] = [data.subarray(0, 1000), data.subarray(1000)]
      const maxDiff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0)
      expect(maxDiff).toBeGreaterThan(1e-3)
      // logits spread out (not collapsed to ~0) so softmax is not uniform
      const spread = Math.max(...a) - Math.min(...a)
      expect(spread).toBeGreaterThan(1)
      expect(spread).toBeLessThan(1000)
    },
    TIMEOUT
  )

  it(
    'predicts more than one class across differently coloured inputs',
    async () => {
      const images = [
        noiseImage(3),
        colorImage([-2, 0, 2]),
        colorImage([2, -1, 0]),
        colorImage([-1, 2, 1]),
      ]
      const data = (await session!.run({ input: batchOf(images) })).output!.data as Float32Array
      const classes = images.map((_, k) => argmax(data.subarray(k * 1000, (k + 1) * 1000)))
      expect(new Set(classes).size).toBeGreaterThan(1)
    },
    TIMEOUT
  )

  it(
    'is deterministic per seed and different across seeds',
    () => {
      const first = sha256(model.chunks)
      expect(sha256(buildDemoResnet50().chunks)).toBe(first)
      expect(sha256(buildDemoResnet50(1234).chunks)).not.toBe(first)
    },
    TIMEOUT
  )
})
