/**
 * The pixel scaling of Keras' `preprocess_input` modes, as config.json fields (means and stds
 * in R, G, B order, like every other field; `caffe` feeds the channels as B, G, R).
 */
import type { KerasPreset, Triple } from './model-config-schema.js'
import { IMAGENET_MEAN, IMAGENET_STD } from './model-config-schema.js'

/** The fields one preset sets. */
export interface PresetFields {
  readonly colorOrder: 'RGB' | 'BGR'
  readonly scale: number
  readonly mean: Triple
  readonly std: Triple
}

/**
 * `caffe` (ResNet50, VGG16/19): BGR, 0..255 minus the ImageNet means 103.939/116.779/123.68 (B, G,
 * R), no scaling; `tf` (MobileNet, Inception, Xception, EfficientNetV2 without rescaling):
 * x / 127.5 - 1, so [-1, 1]; `torch` (DenseNet): /255 then torchvision's mean/std, RGB.
 */
export const KERAS_PRESETS: Readonly<Record<KerasPreset, PresetFields>> = Object.freeze({
  caffe: { colorOrder: 'BGR', scale: 1, mean: [123.68, 116.779, 103.939], std: [1, 1, 1] },
  tf: { colorOrder: 'RGB', scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  torch: {
    colorOrder: 'RGB',
    scale: 1 / 255,
    mean: [...IMAGENET_MEAN],
    std: [...IMAGENET_STD],
  },
})
