import { describe, expect, it } from 'vitest'
import { inputFromModel } from './declared-input.js'

describe('inputFromModel', () => {
  it('reads layout from where the 3 is, size from fixed H and W, and the dtype', () => {
    expect(inputFromModel({ name: 'x', type: 'float32', shape: ['N', 3, 224, 224] })).toEqual({
      layout: 'NCHW',
      size: [224, 224],
      dtype: 'float32',
    })
    expect(inputFromModel({ name: 'x', type: 'uint8', shape: [1, 299, 320, 3] })).toEqual({
      layout: 'NHWC',
      size: [299, 320],
      dtype: 'uint8',
    })
  })

  it('leaves open what the model leaves open: dynamic H/W, symbolic channels, other types', () => {
    expect(inputFromModel({ name: 'x', type: 'float16', shape: ['N', 3, 'H', 'W'] })).toEqual({
      layout: 'NCHW',
      dtype: 'float16',
    })
    expect(
      inputFromModel({ name: 'pixel_values', type: 'float32', shape: ['b', 'c', 'h', 'w'] })
    ).toEqual({ dtype: 'float32' })
    expect(inputFromModel({ name: 'ids', type: 'int64', shape: ['b', 's'] })).toEqual({})
  })
})
