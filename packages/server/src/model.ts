/** The seam between HTTP and inference: what a loaded model offers the routes. */
import type { BatchTensor, ModelConfig } from '@resnet/preprocess'

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

/** A loaded classifier. `run` returns one row of class scores per image, activation applied. */
export interface InferenceModel {
  readonly info: ModelInfo
  readonly config: ModelConfig
  readonly labels: readonly string[]
  run(batch: BatchTensor): Promise<Float64Array[]>
  /**
   * Runs decoded images (HWC RGB at the input size) as one batch; the tensor is written off the
   * event loop.
   */
  runImages(pixels: readonly Uint8Array[]): Promise<ImagesRun>
  close(): Promise<void>
}
