/** An InferenceModel backed by an onnxruntime-node session. */
import { availableParallelism } from 'node:os'
import { allocateBatch } from '@resnet/preprocess'
import type { BatchTensor, DeclaredInput, ModelConfig } from '@resnet/preprocess'
import { imageInput } from './image-input.js'
import { checkInput, chooseInput, chooseOutput, fixedBatchSize } from './model-io.js'
import type { ImageModel, ImagesRun, ModelInfo } from './model.js'
import { softmax } from './top-k.js'
import { WorkerSession } from './worker-session.js'

/** What to open and how to describe it. */
export interface OnnxModelOptions {
  readonly modelPath: string
  /**
   * The effective config, or a function making it from the model's declared input (so that what
   * the bundle's config leaves out can come from the model: see `parseModelConfig`).
   */
  readonly config: ModelConfig | ((declared: DeclaredInput) => ModelConfig)
  readonly labels: readonly string[]
  readonly identity: { readonly name: string; readonly version: string; readonly sha256: string }
  /** Intra-op threads. @default os.availableParallelism() (follows the container's CPU quota) */
  readonly threads?: number
  /**
   * Nice value of the inference threads (0-19): above 0 the HTTP event loop and image decoding
   * win the CPU over inference, which keeps health checks fast while inference saturates it.
   * @default 10
   */
  readonly niceness?: number
}

/** Inference threads run at this nice value unless told otherwise. */
export const DEFAULT_INFERENCE_NICENESS = 10

/** Whether a score row already is a probability distribution (a softmax inside the model). */
const isDistribution = (row: Float32Array): boolean => {
  let sum = 0
  for (const v of row) {
    if (!(v >= 0 && v <= 1)) return false
    sum += v
  }
  return Math.abs(sum - 1) < 1e-2
}

/** Splits a batch tensor into tensors of `size` rows, the last one zero-padded. */
function splitBatch(batch: BatchTensor, config: ModelConfig, size: number): BatchTensor[] {
  const n = batch.dims[0] ?? 0
  const perItem = batch.data.length / Math.max(1, n)
  const parts: BatchTensor[] = []
  for (let first = 0; first < n; first += size) {
    const part = allocateBatch(config.input, size)
    part.data.set(batch.data.subarray(first * perItem, Math.min(n, first + size) * perItem))
    parts.push(part)
  }
  return parts
}

/**
 * Opens the model, chooses its image input and score output (refusing models that are not a
 * single-image classifier), completes the config from the declared input, and runs one warm-up
 * batch, so the returned model is ready for traffic. A model with a fixed batch dimension runs
 * padded batches of exactly that size.
 */
export async function createOnnxModel(options: OnnxModelOptions): Promise<ImageModel> {
  const threads = options.threads ?? availableParallelism()
  const niceness = options.niceness ?? DEFAULT_INFERENCE_NICENESS
  const session = await WorkerSession.open({ modelPath: options.modelPath, threads, niceness })
  try {
    return await serve(session, options)
  } catch (err) {
    await session.close()
    throw err
  }
}

async function serve(session: WorkerSession, options: OnnxModelOptions): Promise<ImageModel> {
  const declared = chooseInput(session.inputs)
  const given = typeof options.config === 'function' ? options.config(declared) : options.config
  if (given.input.name !== undefined && given.input.name !== declared.name) {
    throw new Error(
      `Model has no input "${given.input.name}" (it has "${declared.name}"); fix input.name`
    )
  }
  checkInput(given, declared)
  const output = chooseOutput(session.outputs, given.output.name)
  const fixedBatch = fixedBatchSize(declared)
  const names = { input: declared.name, output: output.name }

  /** Raw score rows of `n` images out of a run of `batchRows` rows (padding dropped). */
  const rawRows = (data: Float32Array, batchRows: number, n: number): Float32Array[] => {
    const perRow = data.length / batchRows // [N,C], [N,C,1,1], or [C] for batch 1
    return Array.from({ length: n }, (_, i) => data.subarray(i * perRow, (i + 1) * perRow))
  }
  const runOnce = async (batch: BatchTensor): Promise<Float32Array[]> => {
    const n = batch.dims[0] ?? 1
    return rawRows((await session.run(batch, names.input, names.output)).data, n, n)
  }
  const runRaw = async (batch: BatchTensor): Promise<Float32Array[]> => {
    if (fixedBatch === undefined || batch.dims[0] === fixedBatch) return runOnce(batch)
    const n = batch.dims[0] ?? 0
    const parts = splitBatch(batch, given, fixedBatch)
    const rows: Float32Array[] = []
    for (const part of parts) rows.push(...(await runOnce(part)))
    return rows.slice(0, n)
  }

  // warm-up: the first run allocates and JITs; its scores tell logits from probabilities
  const [warm] = await runRaw(allocateBatch(given.input, fixedBatch ?? 1))
  const inside = given.sources['output.activation'] === 'default' && warm && isDistribution(warm)
  const config: ModelConfig = inside
    ? Object.freeze({
        ...given,
        output: Object.freeze({ ...given.output, activation: 'none' as const }),
        sources: Object.freeze({ ...given.sources, 'output.activation': 'model' as const }),
      })
    : given
  const activate = (row: Float32Array): Float64Array =>
    config.output.activation === 'softmax' ? softmax(row) : new Float64Array(row)

  const run = async (batch: BatchTensor): Promise<Float64Array[]> =>
    (await runRaw(batch)).map(activate)
  const runImages = async (pixels: readonly Uint8Array[]): Promise<ImagesRun> => {
    if (fixedBatch !== undefined && pixels.length > fixedBatch) {
      throw new RangeError(`${pixels.length} images in one run; the model takes ${fixedBatch}`)
    }
    const rows = fixedBatch ?? pixels.length
    const out = await session.runPixels(pixels, config.input, names, rows)
    return { rows: rawRows(out.data, rows, pixels.length).map(activate), tensorMs: out.tensorMs }
  }

  const info: ModelInfo = {
    ...options.identity,
    demo: config.demo,
    inputName: names.input,
    outputName: names.output,
    classes: warm?.length ?? 0,
    fixedBatchSize: fixedBatch,
  }
  return {
    info,
    config,
    labels: options.labels,
    input: imageInput(config, options.labels, info.classes),
    run,
    runImages,
    runItems: runImages,
    close: () => session.close(),
  }
}
