/** The seam between HTTP and inference: what a loaded model offers the routes. */
import type { BatchTensor, ModelConfig } from '@resnet/preprocess'
import type { InputAdapter } from './input-adapter.js'

/** Identity of the model being served, shown by `GET /` and in responses. */
export interface ModelInfo {
  readonly name: string
  readonly version: string
  /** sha256 of the ONNX file, hex. */
  readonly sha256: string
  /** True for the generated demo model: its predictions are meaningless. */
  readonly demo: boolean
  readonly inputName: string
  readonly outputName: string
  readonly classes: number
  /**
   * The model's fixed batch dimension, when it has one: runs never carry more images, and
   * smaller batches are padded to it.
   */
  readonly fixedBatchSize?: number | undefined
}

/** Score rows of a `runImages` call, and the milliseconds spent writing its tensor. */
export interface ImagesRun {
  readonly rows: Float64Array[]
  readonly tensorMs: number
}

/**
 * A loaded classifier of any kind of input. `run` returns one row of class scores per item,
 * activation applied; `runItems` runs items as its input adapter prepared them (decoded pixels,
 * or rows of float32 features) as one batch.
 */
export interface InferenceModel {
  readonly info: ModelInfo
  readonly labels: readonly string[]
  /** How a request becomes this model's items (see input-adapter.ts). */
  readonly input: InputAdapter
  run(batch: BatchTensor): Promise<Float64Array[]>
  runItems(items: readonly Uint8Array[]): Promise<ImagesRun>
  close(): Promise<void>
}

/** An image classifier: its effective preprocessing, and runs of decoded images. */
export interface ImageModel extends InferenceModel {
  readonly config: ModelConfig
  /**
   * Runs decoded images (HWC RGB at the input size) as one batch; the tensor is written off the
   * event loop. The same as `runItems`.
   */
  runImages(pixels: readonly Uint8Array[]): Promise<ImagesRun>
}
