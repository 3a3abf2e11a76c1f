/** What a model's declared input tensor fixes by itself: layout, size and element type. */

/** A model input as the ONNX session declares it; a string dim is symbolic (dynamic). */
export interface DeclaredInput {
  readonly name: string
  readonly type: string
  readonly shape: readonly (number | string)[]
}

/** The input fields a declared input determines; a field it leaves open is absent. */
export interface InputFromModel {
  readonly layout?: 'NCHW' | 'NHWC'
  /** [height, width], only when both are fixed. */
  readonly size?: [number, number]
  readonly dtype?: 'float32' | 'float16' | 'uint8'
}

const DTYPES = new Set(['float32', 'float16', 'uint8'])
const fixed = (dim: number | string | undefined): dim is number =>
  typeof dim === 'number' && dim > 0

/**
 * Reads layout (where the 3 is), size (fixed H and W) and dtype from a rank-4 image input.
 * @example inputFromModel({ name: 'x', type: 'uint8', shape: ['N', 299, 299, 3] })
 * // { layout: 'NHWC', size: [299, 299], dtype: 'uint8' }
 */
export function inputFromModel(declared: DeclaredInput): InputFromModel {
  const dtype = DTYPES.has(declared.type) ? (declared.type as InputFromModel['dtype']) : undefined
  const [, d1, d2, d3] = declared.shape
  if (declared.shape.length !== 4) return dtype ? { dtype } : {}
  const layout = d1 === 3 ? 'NCHW' : d3 === 3 ? 'NHWC' : undefined
  const [h, w] = layout === 'NHWC' ? [d1, d2] : [d2, d3]
  return {
    ...(layout ? { layout } : {}),
    ...(layout && fixed(h) && fixed(w) ? { size: [h, w] as [number, number] } : {}),
    ...(dtype ? { dtype } : {}),
  }
}
