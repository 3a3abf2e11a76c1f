/** An InferenceModel backed by an onnxruntime-node session. */
import { availableParallelism } from 'node:os'
import { allocateBatch } from '@resnet/preprocess'
import type { BatchTensor, ModelConfig } from '@resnet/preprocess'
import type { ImagesRun, InferenceModel, ModelInfo } from './model.js'
import { softmax } from './top-k.js'
import { WorkerSession } from './worker-session.js'
import type { SessionInput } from './worker-session.js'

/** What to open and how to describe it. */
export interface OnnxModelOptions {
  readonly modelPath: string
  readonly config: ModelConfig
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

/** Checks the config against the model's declared input so mistakes fail at start, not per request. */
function checkInput(config: ModelConfig, meta: SessionInput | undefined, name: string): void {
  if (!meta) return
  const expectedType = config.input.dtype
  if (meta.type !== expectedType) {
    throw new Error(
      `Model input "${name}" is ${meta.type} but the config says input.dtype=${expectedType}`
    )
  }
  const { height, width, layout } = config.input
  const want = layout === 'NCHW' ? [3, height, width] : [height, width, 3]
  meta.shape.slice(1).forEach((dim, i) => {
    if (typeof dim === 'number' && dim > 0 && dim !== want[i]) {
      const got = JSON.stringify(meta.shape)
      throw new Error(
        `Model input "${name}" has shape ${got}; the config (${layout}) gives [N,${want.join(',')}]`
      )
    }
  })
}

/** Inference threads run at this nice value unless told otherwise. */
export const DEFAULT_INFERENCE_NICENESS = 10

/**
 * Opens the model, validates its input against the config and runs one warm-up batch, so the
 * returned model is ready for traffic.
 */
export async function createOnnxModel(options: OnnxModelOptions): Promise<InferenceModel> {
  const threads = options.threads ?? availableParallelism()
  const niceness = options.niceness ?? DEFAULT_INFERENCE_NICENESS
  const session = await WorkerSession.open({ modelPath: options.modelPath, threads, niceness })
  const { config } = options
  const inputName = config.input.name ?? session.inputNames[0] ?? 'input'
  const outputName = config.output.name ?? session.outputNames[0] ?? 'output'
  if (!session.outputNames.includes(outputName)) {
    await session.close()
    throw new Error(
      `Model has no output "${outputName}" (it has ${session.outputNames.join(', ')})`
    )
  }
  try {
    checkInput(
      config,
      session.inputs.find((i) => i.name === inputName),
      inputName
    )
  } catch (err) {
    await session.close()
    throw err
  }

  const rows = (data: Float32Array, n: number): Float64Array[] => {
    const perRow = data.length / n // [N,C] or [N,C,1,1]
    return Array.from({ length: n }, (_, i) => {
      const row = data.subarray(i * perRow, (i + 1) * perRow)
      return config.output.activation === 'softmax' ? softmax(row) : new Float64Array(row)
    })
  }
  const run = async (batch: BatchTensor): Promise<Float64Array[]> =>
    rows((await session.run(batch, inputName, outputName)).data, batch.dims[0] ?? 1)
  const runImages = async (pixels: readonly Uint8Array[]): Promise<ImagesRun> => {
    const out = await session.runPixels(pixels, config.input, inputName, outputName)
    return { rows: rows(out.data, pixels.length), tensorMs: out.tensorMs }
  }

  const [warm] = await run(allocateBatch(config.input, 1)) // warm-up: first run allocates and JITs
  const info: ModelInfo = {
    ...options.identity,
    demo: config.demo,
    inputName,
    outputName,
    classes: warm?.length ?? 0,
  }
  return {
    info,
    config,
    labels: options.labels,
    run,
    runImages,
    close: () => session.close(),
  }
}
