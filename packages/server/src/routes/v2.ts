/** Open Inference Protocol (KServe v2) over JSON, for clients that send preprocessed tensors. */
import { toFloat16Bits } from '@resnet/preprocess'
import type { BatchTensor } from '@resnet/preprocess'
import { Hono } from 'hono'
import type { Context } from 'hono'
import type { Batcher } from '../batcher.js'
import { ApiError } from '../http-errors.js'
import type { InferenceModel } from '../model.js'
import { V2InferRequest } from '../schemas.js'
import type { V2InferRequestBody } from '../schemas.js'
import type { ServingState } from '../serving-state.js'

const V2_TYPES = { float32: 'FP32', float16: 'FP16', uint8: 'UINT8' } as const

type InferRequest = V2InferRequestBody

/** The model's input dims after the batch dimension, as its input adapter defines them. */
const itemDims = (model: InferenceModel): readonly number[] => model.input.tensor.itemDims

function modelFor(state: ServingState, c: Context): InferenceModel {
  const model = state.model
  const name = c.req.param('name')
  if (!model || model.info.name !== name) {
    throw new ApiError('NOT_FOUND', `No model named "${name ?? ''}" is loaded`)
  }
  return model
}

function toBatch(model: InferenceModel, request: InferRequest, maxBatch: number): BatchTensor {
  const input = request.inputs[0]!
  const { dtype } = model.input.tensor
  const fail = (why: string): never => {
    throw new ApiError('INVALID_TENSOR', `Input "${input.name}": ${why}`)
  }
  if (input.name !== model.info.inputName) fail(`the model's input is "${model.info.inputName}"`)
  if (input.datatype !== V2_TYPES[dtype]) fail(`datatype must be ${V2_TYPES[dtype]}`)
  const [n = 0, ...rest] = input.shape
  const want = itemDims(model)
  if (rest.join() !== want.join()) fail(`shape must be [N,${want.join(',')}]`)
  if (n > maxBatch) fail(`batch ${n} is over the limit of ${maxBatch}`)
  if (input.data.length !== n * want.reduce((a, b) => a * b, 1))
    fail('data length does not match shape')
  const batch = model.input.allocate(n)
  const out = batch.data
  input.data.forEach((v, i) => {
    out[i] = dtype === 'float16' ? toFloat16Bits(v) : v
  })
  return batch
}

/** Limits of the v2 infer route. */
export interface V2Limits {
  /** Largest batch in one request. */
  readonly maxBatch: number
  /** Per-request deadline, as for `/predict`. */
  readonly requestTimeoutMs: number
}

/**
 * `/v2/health/*`, `/v2/models/{name}`, `/v2/models/{name}/ready` and `/v2/models/{name}/infer`.
 * An infer request goes through the batcher's admission and queue like `/predict`'s images (the
 * same 503 + Retry-After, deadline and draining) and runs as a batch of its own.
 */
export function v2Routes(state: ServingState, limits: V2Limits): Hono {
  const app = new Hono()
  app.get('/v2/health/live', (c) => c.json({ live: true }))
  app.get('/v2/health/ready', (c) => c.json({ ready: state.ready }, state.ready ? 200 : 503))
  app.get('/v2/models/:name', (c) => {
    const { info, input } = modelFor(state, c)
    const datatype = V2_TYPES[input.tensor.dtype]
    return c.json({
      name: info.name,
      versions: [info.version],
      platform: 'onnxruntime_onnx',
      sha256: info.sha256,
      inputs: [{ name: info.inputName, datatype, shape: [-1, ...itemDims(modelFor(state, c))] }],
      outputs: [{ name: info.outputName, datatype: 'FP32', shape: [-1, info.classes] }],
    })
  })
  app.get('/v2/models/:name/ready', (c) => {
    const { info } = modelFor(state, c)
    return c.json({ name: info.name, ready: state.ready }, state.ready ? 200 : 503)
  })
  app.post('/v2/models/:name/infer', async (c) => {
    const deadline = Date.now() + limits.requestTimeoutMs
    modelFor(state, c)
    const lease = state.lease()
    if (!lease) throw new ApiError('NOT_READY', 'The model is still loading; retry shortly', 1)
    const done = state.track()
    try {
      return await infer(c, lease.batcher, limits.maxBatch, deadline)
    } finally {
      done()
      lease.release()
    }
  })
  return app
}

/** Runs one v2 inference request through `batcher` (as a batch of its own). */
async function infer(
  c: Context,
  batcher: Batcher,
  maxBatch: number,
  deadline: number
): Promise<Response> {
  const { model } = batcher
  const parsed = V2InferRequest.safeParse(await c.req.json().catch(() => undefined))
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
    throw new ApiError('INVALID_TENSOR', `Invalid inference request: ${issues.join('; ')}`)
  }
  const batch = toBatch(model, parsed.data, maxBatch)
  const n = batch.dims[0] ?? 0
  const signal = c.req.raw.signal
  const reservation = await batcher.reserve(n, deadline, signal)
  const rows = await batcher.submitTensor(batch, { deadline, signal, reservation })
  return c.json({
    model_name: model.info.name,
    model_version: model.info.version,
    ...(parsed.data.id === undefined ? {} : { id: parsed.data.id }),
    outputs: [
      {
        name: model.info.outputName,
        datatype: 'FP32',
        shape: [n, model.info.classes],
        data: rows.flatMap((row) => Array.from(row.scores)),
      },
    ],
  })
}
