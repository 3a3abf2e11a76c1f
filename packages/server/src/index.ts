/**
 * @module @resnet/server
 * The image-classification HTTP API (Hono) over an onnxruntime-node model.
 * @example
 * import { createApp, createOnnxModel, ServingState } from '@resnet/server'
 * const state = new ServingState()
 * const app = createApp({ state, logger })
 * state.setModel(await createOnnxModel({ modelPath, config, labels, identity }))
 */
export { createApp, DEFAULT_SERVER_LIMITS } from './app.js'
export type { AppOptions, ServerLimits } from './app.js'
export { ApiError, STATUS } from './http-errors.js'
export { inProcessDecoder, WorkerDecoder } from './image-decoder.js'
export type { ImageDecoder } from './image-decoder.js'
export type { ApiErrorCode } from './http-errors.js'
export { parseLabels } from './labels.js'
export type { ImageModel, ImagesRun, InferenceModel, ModelInfo } from './model.js'
export { createOnnxModel, DEFAULT_INFERENCE_NICENESS } from './onnx-model.js'
export type { OnnxModelOptions } from './onnx-model.js'
export { predictImages } from './predict.js'
export type { PredictResult, StageTimings } from './predict.js'
export type { PredictLimits } from './routes/predict.js'
export type { Reservation } from './batcher.js'
export type { ServiceInfo } from './routes/info.js'
export { scoreImages, SELF_TEST_SCORE_TOLERANCE, selfTestDifferences } from './self-test.js'
export type { SelfTestExpectations, SelfTestImage } from './self-test.js'
export { ServingState } from './serving-state.js'
export { parseFeatures, instancesToRows } from './tabular-features.js'
export type { Feature, InstanceProblem } from './tabular-features.js'
export { tabularInput } from './tabular-input.js'
export type { TabularInputOptions } from './tabular-input.js'
export { createTabularModel } from './tabular-model.js'
export type { TabularModelOptions } from './tabular-model.js'
export type { InputAdapter, PrepareContext, RequestInput } from './input-adapter.js'
export { imageInput } from './image-input.js'
export type { ImageInputAdapter } from './image-input.js'
export type { Phase } from './serving-state.js'
export { DEFAULT_DECODE_NICENESS, lowerDecodePriority } from './thread-priority.js'
export { softmax, topK } from './top-k.js'
export type { Prediction } from './top-k.js'
