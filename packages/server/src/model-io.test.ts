import { parseModelConfig } from '@resnet/preprocess'
import { describe, expect, it } from 'vitest'
import { checkInput, chooseInput, chooseOutput, fixedBatchSize } from './model-io.js'

const image = { name: 'input', type: 'float32', shape: ['N', 3, 224, 224] }

describe('chooseInput', () => {
  it('takes the one image input and reads its fixed batch size', () => {
    expect(chooseInput([image])).toBe(image)
    expect(fixedBatchSize(image)).toBeUndefined()
    expect(fixedBatchSize({ ...image, shape: [4, 3, 224, 224] })).toBe(4)
  })

  it('refuses several inputs, token ids, unsupported types and non-image shapes', () => {
    expect(() => chooseInput([image, { ...image, name: 'other' }])).toThrow(/2 image inputs/)
    expect(() => chooseInput([image, { name: 'mask', type: 'float32', shape: ['N', 10] }])).toThrow(
      /several inputs; only single-input image classifiers/
    )
    expect(() => chooseInput([{ name: 'ids', type: 'int64', shape: ['b', 's'] }])).toThrow(
      /text model/
    )
    expect(() => chooseInput([{ ...image, type: 'int32' }])).toThrow(/float32, float16 or uint8/)
    expect(() => chooseInput([{ ...image, shape: ['N', 3, 224] }])).toThrow(/not an image batch/)
  })
})

describe('checkInput', () => {
  it('refuses a dynamic height/width unless the config sets input.size', () => {
    const dynamic = { ...image, shape: ['N', 3, 'H', 'W'] }
    expect(() => {
      checkInput(parseModelConfig({}), dynamic)
    }).toThrow(/set input\.size/)
    expect(() => {
      checkInput(parseModelConfig({ input: { size: 256 } }), dynamic)
    }).not.toThrow()
  })
})

describe('chooseOutput', () => {
  const scores = { name: 'scores', type: 'float32', shape: ['N', 1000] }
  it('takes the only float output, or the one named; [N,C,1,1] and [C] are scores too', () => {
    const labels = { name: 'label', type: 'int64', shape: ['N'] }
    expect(chooseOutput([labels, scores])).toBe(scores)
    const fp16 = { name: 'probs', type: 'float16', shape: ['N', 1000, 1, 1] }
    expect(chooseOutput([scores, fp16], 'probs')).toBe(fp16)
    expect(chooseOutput([{ name: 'c', type: 'float32', shape: [1000] }]).name).toBe('c')
  })

  it('refuses several float outputs without a name, a missing name, and non-score shapes', () => {
    const other = { ...scores, name: 'features' }
    expect(() => chooseOutput([scores, other])).toThrow(/2 float outputs .* set output\.name/)
    expect(() => chooseOutput([scores], 'logits')).toThrow(/no output "logits"/)
    expect(() => chooseOutput([{ ...scores, shape: ['N', 7, 7, 1000] }])).toThrow(
      /not class scores/
    )
    expect(() => chooseOutput([{ ...scores, type: 'int64' }])).toThrow(/no float32 or float16/)
  })
})
