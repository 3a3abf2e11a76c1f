/** What a loaded model looks like on local disk, and the file names a bundle may hold. */

/** File names a bundle directory (or S3 prefix) may hold; anything else is ignored (see README). */
export const BUNDLE_FILES = {
  model: 'model.onnx',
  labels: 'labels.txt',
  config: 'config.json',
  preprocessorConfig: 'preprocessor_config.json',
  features: 'features.json',
  checksums: 'SHA256SUMS',
} as const

/** Below a bundle: a Transformers.js layout's model (without model.onnx), the self-test folder. */
export const NESTED_BUNDLE_PATHS = {
  nestedModel: 'onnx/model.onnx',
  selfTest: 'selftest',
} as const

/** Whether a bundle file name is the model (`model.onnx`, or `onnx/model.onnx`). */
export const isModelFile = (name: string): boolean =>
  name === BUNDLE_FILES.model || name === NESTED_BUNDLE_PATHS.nestedModel

/** The most files a bundle's `selftest/` may hold. */
export const MAX_SELF_TEST_FILES = 64

/** Where a bundle's files came from on this load (see README: `origin`). */
export type BundleOrigin = 'download' | 'cache' | 'offline-cache' | 'local' | 'demo'

/** A model on local disk, ready to open, with the identity of what was loaded. */
export interface ModelBundle {
  /** Absolute path of the ONNX file. */
  readonly modelPath: string
  /** `labels.txt`: one label per line in class-index order, when the bundle has one. */
  readonly labelsPath: string | undefined
  /** `config.json`: preprocessing and output settings, when the bundle has one. */
  readonly configPath: string | undefined
  /** `preprocessor_config.json` (Hugging Face image processor), when the bundle has one. */
  readonly preprocessorConfigPath?: string | undefined
  /** `features.json` (a tabular model's input columns), when the bundle has one. */
  readonly featuresPath?: string | undefined
  /** The bundle's `selftest/` directory, when it has one. */
  readonly selfTestDir?: string | undefined
  /** A name derived from the URI (last path segment without `.onnx`). */
  readonly name: string
  /** The source's version: S3 VersionId or ETag (a bundle's: a digest), HTTP validator, hash. */
  readonly version: string
  /** sha256 of model.onnx, hex. */
  readonly sha256: string
  /** The URI it came from (or `demo:` for the generated demo model). */
  readonly uri: string
  /** Bytes fetched over the network for this load: 0 when everything came from the cache. */
  readonly downloadedBytes: number
  /** How the files got here. */
  readonly origin: BundleOrigin
  /** What verified model.onnx besides its size, e.g. `['S3 ETag (MD5)']` or `['SHA256SUMS']`. */
  readonly verifiedBy: readonly string[]
  /** Ends this bundle's lease on its cache entry (idempotent; see README, In use and eviction). */
  release(): Promise<void>
}
