/** What a loaded model looks like on local disk, and the file names a bundle may hold. */

/** File names a bundle directory (or S3 prefix) may hold; anything else is ignored. */
export const BUNDLE_FILES = {
  model: 'model.onnx',
  labels: 'labels.txt',
  config: 'config.json',
} as const

/** A model on local disk, ready to open, with the identity of what was loaded. */
export interface ModelBundle {
  /** Absolute path of the ONNX file. */
  readonly modelPath: string
  /** `labels.txt`: one label per line in class-index order, when the bundle has one. */
  readonly labelsPath: string | undefined
  /** `config.json`: preprocessing and output settings, when the bundle has one. */
  readonly configPath: string | undefined
  /** A name derived from the URI (last path segment without `.onnx`). */
  readonly name: string
  /** The source's version: S3 ETag (or a digest of the bundle's ETags), HTTP ETag, or content hash. */
  readonly version: string
  /** sha256 of model.onnx, hex. */
  readonly sha256: string
  /** The URI it came from (or `demo:` for the generated demo model). */
  readonly uri: string
  /** Bytes fetched over the network for this load: 0 when everything came from the cache. */
  readonly downloadedBytes: number
}
