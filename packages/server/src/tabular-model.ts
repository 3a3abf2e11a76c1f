/** An InferenceModel for a tabular classifier: one float32 [N, F] input, probabilities [N, C]. */
import { availableParallelism } from 'node:os'
import { chooseOutput } from './model-io.js'
import type { ImagesRun, InferenceModel, ModelInfo } from './model.js'
import { DEFAULT_INFERENCE_NICENESS } from './onnx-model.js'
import type { Feature } from './tabular-features.js'
import { tabularInput } from './tabular-input.js'
import type { SessionInput } from './worker-session.js'
import { WorkerSession } from './worker-session.js'

/** What to open and how to describe it. */
export interface TabularModelOptions {
  readonly modelPath: string
  /** The model's bytes when rewritten at load (e.g. ZipMap removed); else the file is read. */
  readonly modelBytes?: Uint8Array | undefined
  /** The bundle's features.json, in the model's input order. */
  readonly features: readonly Feature[]
  readonly labels: readonly string[]
  readonly identity: { readonly name: string; readonly version: string; readonly sha256: string }
  /** Most instances in one request. @default 1024 */
  readonly maxRowsPerRequest?: number
  /** Intra-op threads. @default os.availableParallelism() */
  readonly threads?: number
  /** Nice value of the inference threads (0-19). @default 10 */
  readonly niceness?: number
}

const describe = (t: SessionInput): string => `"${t.name}" ${t.type} ${JSON.stringify(t.shape)}`

/** The one float32 [N, F] input; F must be the number of features (or dynamic). */
function chooseTableInput(inputs: readonly SessionInput[], features: number): SessionInput {
  const [only, ...more] = inputs
  if (!only || more.length > 0) {
    throw new Error(
      `A tabular model takes one float32 [N, ${features}] input; it has ${inputs.map(describe).join(', ')}`
    )
  }
  const [, width] = only.shape
  if (only.type !== 'float32' || only.shape.length !== 2) {
    throw new Error(`Model input ${describe(only)} is not a float32 [N, F] table`)
  }
  if (typeof width === 'number' && width !== features) {
    throw new Error(
      `Model input ${describe(only)} takes ${width} features; features.json lists ${features}`
    )
  }
  return only
}

/** Copies float32 rows (as bytes) into one [N, F] batch. */
function batchOf(items: readonly Uint8Array[], width: number): Float32Array {
  const data = new Float32Array(items.length * width)
  items.forEach((item, i) => {
    data.set(new Float32Array(item.buffer, item.byteOffset, width), i * width)
  })
  return data
}

/**
 * Opens a tabular classifier, checks its input against features.json and its output (the only
 * float output: probabilities, used as they are) against the labels, and runs one warm-up row.
 */
export async function createTabularModel(options: TabularModelOptions): Promise<InferenceModel> {
  const session = await WorkerSession.open({
    modelPath: options.modelPath,
    modelBytes: options.modelBytes,
    threads: options.threads ?? availableParallelism(),
    niceness: options.niceness ?? DEFAULT_INFERENCE_NICENESS,
  })
  try {
    return await serve(session, options)
  } catch (err) {
    await session.close()
    throw err
  }
}

async function serve(
  session: WorkerSession,
  options: TabularModelOptions
): Promise<InferenceModel> {
  const width = options.features.length
  const input = chooseTableInput(session.inputs, width)
  const output = chooseOutput(session.outputs)
  const runData = async (data: Float32Array, n: number): Promise<Float64Array[]> => {
    const dims = [n, width]
    const out = await session.run({ dtype: 'float32', dims, data }, input.name, output.name)
    const classes = out.data.length / Math.max(1, n)
    return Array.from({ length: n }, (_, i) =>
      Float64Array.from(out.data.subarray(i * classes, (i + 1) * classes))
    )
  }
  const [warm] = await runData(new Float32Array(width), 1)
  const classes = warm?.length ?? 0
  if (options.labels.length > 0 && options.labels.length !== classes) {
    throw new Error(`The model outputs ${classes} classes; labels.txt has ${options.labels.length}`)
  }
  const info: ModelInfo = {
    ...options.identity,
    demo: false,
    inputName: input.name,
    outputName: output.name,
    classes,
  }
  const runItems = async (items: readonly Uint8Array[]): Promise<ImagesRun> => {
    const started = performance.now()
    const data = batchOf(items, width)
    const tensorMs = performance.now() - started
    return { rows: await runData(data, items.length), tensorMs }
  }
  return {
    info,
    labels: options.labels,
    input: tabularInput(options.features, options.labels, {
      maxRows: options.maxRowsPerRequest ?? 1024,
    }),
    run: (batch) => runData(batch.data as Float32Array, batch.dims[0] ?? 0),
    runItems,
    close: () => session.close(),
  }
}
