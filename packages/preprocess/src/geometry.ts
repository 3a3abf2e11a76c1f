/** Resize and crop arithmetic, identical to torchvision's Resize(int) + CenterCrop(size). */
import type { InputSpec } from './model-config.js'

// Python's round(): half to even, as torchvision's center_crop uses.
const roundHalfEven = (x: number): number => {
  const r = Math.round(x)
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r
}

/** Where to resize to and which window to cut out, in pixels. */
export interface Geometry {
  readonly resizeWidth: number
  readonly resizeHeight: number
  readonly left: number
  readonly top: number
}

/** torchvision Resize(shorter) + CenterCrop(size), or a plain resize when crop is 'none'. */
export function geometryFor(width: number, height: number, input: InputSpec): Geometry {
  if (input.crop === 'none') {
    return { resizeWidth: input.width, resizeHeight: input.height, left: 0, top: 0 }
  }
  const s = input.resize
  // torchvision: the long side is int(s * long / short) (truncated).
  const [resizeWidth, resizeHeight] =
    width <= height ? [s, Math.floor((s * height) / width)] : [Math.floor((s * width) / height), s]
  return {
    resizeWidth,
    resizeHeight,
    left: roundHalfEven((resizeWidth - input.width) / 2),
    top: roundHalfEven((resizeHeight - input.height) / 2),
  }
}
