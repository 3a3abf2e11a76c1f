/** Resize and crop arithmetic: torchvision's Resize(int) + CenterCrop(size), plain resize, letterbox. */
import type { InputSpec } from './model-config.js'

// Python's round(): half to even, as torchvision's center_crop uses.
const roundHalfEven = (x: number): number => {
  const r = Math.round(x)
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r
}

/**
 * Resize the image to `resizeWidth` x `resizeHeight`, keep the window at (`left`, `top`) of
 * `width` x `height` from it, and place that window at (`padLeft`, `padTop`) of the model input
 * (the rest of the input is padding; only letterbox pads).
 */
export interface Geometry {
  readonly resizeWidth: number
  readonly resizeHeight: number
  readonly left: number
  readonly top: number
  readonly width: number
  readonly height: number
  readonly padLeft: number
  readonly padTop: number
}

function centerCrop(width: number, height: number, input: InputSpec): Geometry {
  const s = input.resize
  // torchvision: the long side is int(s * long / short) (truncated).
  const [resizeWidth, resizeHeight] =
    width <= height ? [s, Math.floor((s * height) / width)] : [Math.floor((s * width) / height), s]
  return {
    resizeWidth,
    resizeHeight,
    left: roundHalfEven((resizeWidth - input.width) / 2),
    top: roundHalfEven((resizeHeight - input.height) / 2),
    width: input.width,
    height: input.height,
    padLeft: 0,
    padTop: 0,
  }
}

function letterbox(width: number, height: number, input: InputSpec): Geometry {
  const r = Math.min(input.width / width, input.height / height)
  // round() as Python's (half to even), like the common letterbox implementations
  const w = Math.min(input.width, Math.max(1, roundHalfEven(width * r)))
  const h = Math.min(input.height, Math.max(1, roundHalfEven(height * r)))
  return {
    resizeWidth: w,
    resizeHeight: h,
    left: 0,
    top: 0,
    width: w,
    height: h,
    padLeft: Math.floor((input.width - w) / 2),
    padTop: Math.floor((input.height - h) / 2),
  }
}

/** Where to resize to, which window to keep and where it goes, for an image of this size. */
export function geometryFor(width: number, height: number, input: InputSpec): Geometry {
  if (input.crop === 'center') return centerCrop(width, height, input)
  if (input.crop === 'letterbox') return letterbox(width, height, input)
  const { width: w, height: h } = input
  return {
    resizeWidth: w,
    resizeHeight: h,
    left: 0,
    top: 0,
    width: w,
    height: h,
    padLeft: 0,
    padTop: 0,
  }
}
