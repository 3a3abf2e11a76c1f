/**
 * @module @resnet/preprocess
 * Image bytes -> the input tensor an image classifier expects, per a validated model config.
 * @example
 * import { DEFAULT_MODEL_CONFIG, preprocessBatch } from '@resnet/preprocess'
 * const batch = await preprocessBatch([jpeg], DEFAULT_MODEL_CONFIG.input) // dims [1,3,224,224]
 */
export { decodeImage } from './decode-image.js'
export type { DecodedImage } from './decode-image.js'
export { PreprocessError } from './errors.js'
export type { PreprocessErrorCode } from './errors.js'
export { DEFAULT_DECODE_LIMITS } from './limits.js'
export type { DecodeLimits } from './limits.js'
export { IMAGENET_MEAN, IMAGENET_STD } from './model-config-schema.js'
export type { CropMode, Interpolation, KerasPreset } from './model-config-schema.js'
export { inputFromModel } from './declared-input.js'
export type { DeclaredInput, InputFromModel } from './declared-input.js'
export { configFromImageProcessor, labelsFromId2Label } from './hf-processor.js'
export { KERAS_PRESETS } from './keras-presets.js'
export type { PresetFields } from './keras-presets.js'
export { DEFAULT_MODEL_CONFIG, parseModelConfig } from './model-config.js'
export type { ConfigSource, InputSpec, ModelConfig, ParseOptions } from './model-config.js'
export { preprocessBatch } from './preprocess-batch.js'
export { ACCEPTED_FORMATS, sniffFormat } from './sniff-format.js'
export type { ImageFormat, SniffResult } from './sniff-format.js'
export { allocateBatch, tensorDims, toFloat16Bits, writeImage } from './write-tensor.js'
export type { BatchTensor, TensorData } from './write-tensor.js'
