/**
 * @module @resnet/model-loader
 * Model URI -> verified local files: S3 object or bundle prefix, HTTPS, local path, or a generated
 * demo ResNet-50; downloads go to a disk cache through parallel, resumable, verified writes.
 * @example
 * import { loadModel } from '@resnet/model-loader'
 * const bundle = await loadModel({ uri: process.env.MODEL_URI, cacheDir: '/tmp/models' })
 * // ... serve bundle.modelPath; when a newer version has replaced it:
 * await bundle.release()
 */
export { checkOnnxFile } from './bundle-check.js'
export { BUNDLE_FILES, MAX_SELF_TEST_FILES, NESTED_BUNDLE_PATHS } from './bundle.js'
export type { BundleOrigin, ModelBundle } from './bundle.js'
export { ensureDemoBundle } from './demo/demo-bundle.js'
export type { DemoBundle } from './demo/demo-bundle.js'
export { ModelLoaderError } from './errors.js'
export type { ModelLoaderErrorCode } from './errors.js'
export { DEMO_MODEL_URI, loadModel } from './load-model.js'
export { DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE } from './options.js'
export type { LoadModelOptions } from './options.js'
export type { LoaderLogger } from './progress.js'
export { parseModelUri } from './model-uri.js'
export type { ModelLocation } from './model-uri.js'
export { exposeZipMapInputs } from './zipmap.js'
export { fieldsOf, payloadOf } from './zipmap.js'
export type { WireField } from './zipmap.js'
export type { ZipMapRewrite } from './zipmap.js'
export { encodeModel, OnnxAttributeType, OnnxDataType } from './demo/onnx-proto.js'
export type {
  AttributeSpec,
  GraphSpec,
  ModelSpec,
  NodeSpec,
  TensorSpec,
  ValueInfoSpec,
} from './demo/onnx-proto.js'
