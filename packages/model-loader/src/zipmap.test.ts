import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { breastCancerTreeBundle, MOBILENET_DIR, treeBundleAvailable } from '@resnet/test-support'
import ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { exposeZipMapInputs } from './zipmap.js'

if (!treeBundleAvailable)
  console.warn(
    'skipped: the ZipMap rewrite of a real export needs apt-get install python3-sklearn python3-onnx'
  )

describe.skipIf(!treeBundleAvailable)('exposeZipMapInputs on a skl2onnx-style forest', () => {
  it('turns a model onnxruntime-node refuses into one serving the probability tensor', async () => {
    const { dir, expected } = await breastCancerTreeBundle()
    const raw = await readFile(path.join(dir, 'model.onnx'))
    const one = { float_input: new ort.Tensor('float32', new Float32Array(30), [1, 30]) }
    await expect((await ort.InferenceSession.create(raw)).run(one)).rejects.toThrow(
      /Non tensor type/
    )

    const { model, replaced } = exposeZipMapInputs(raw)
    expect(replaced).toEqual([{ from: 'output_probability', to: 'probabilities' }])
    const session = await ort.InferenceSession.create(model)
    expect(session.outputNames).toEqual(['output_label', 'probabilities'])
    const probs = session.outputMetadata.find((o) => o.name === 'probabilities')
    expect(probs).toMatchObject({ isTensor: true, type: 'float32', shape: ['N', 2] })
    const n = expected.rows.length
    const x = new ort.Tensor('float32', new Float32Array(expected.rows.flat()), [n, 30])
    const out = (await session.run({ float_input: x }, ['probabilities'])).probabilities!
    const data = out.data as Float32Array
    // float32 sums of 40 trees' leaf weights vs the trainer's float64 mean
    expected.probabilities.forEach((row, i) => {
      row.forEach((p, c) => {
        expect(Math.abs(data[i * 2 + c]! - p)).toBeLessThanOrEqual(1e-5)
      })
    })
    await session.release()
  })
})

describe('exposeZipMapInputs on a model without ZipMap', () => {
  it('returns the very same bytes', async () => {
    const bytes = await readFile(path.join(MOBILENET_DIR, 'model.onnx'))
    const { model, replaced } = exposeZipMapInputs(bytes)
    expect(replaced).toEqual([])
    expect(model).toBe(bytes)
  })

  it('refuses what is not an ONNX model', () => {
    expect(() => exposeZipMapInputs(new Uint8Array([8, 1]))).toThrow(/no graph/)
  })
})
