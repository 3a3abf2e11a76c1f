/**
 * The HTTP contract as zod schemas: the routes validate with them and `/openapi.json` is generated
 * from them, so the published document cannot drift from what the server accepts and returns.
 */
import { z } from 'zod'
import { STATUS } from './http-errors.js'

/** Every error: `{ "error": { "code", "message" } }`. */
export const ErrorBody: z.ZodType = z.strictObject({
  error: z.strictObject({
    code: z.enum(Object.keys(STATUS) as [keyof typeof STATUS, ...(keyof typeof STATUS)[]]),
    message: z.string(),
    problems: z
      .array(
        z.strictObject({
          instance: z.number().int().min(0),
          field: z.string().optional(),
          problem: z.string(),
        })
      )
      .optional()
      .meta({ description: 'INVALID_INSTANCES: every problem of every instance' }),
  }),
})

/** `POST /predict` of a tabular model: rows by feature name, or arrays in feature order. */
export const TabularPredictRequest: z.ZodType = z.strictObject({
  instances: z.array(z.union([z.record(z.string(), z.number()), z.array(z.number())])).min(1),
})

/** The answer to a tabular `POST /predict`: one entry per instance, in request order. */
export const TabularPredictResponse: z.ZodType = z.strictObject({
  model: z.strictObject({ name: z.string(), version: z.string() }),
  predictions: z.array(
    z.strictObject({
      label: z.string(),
      index: z.number().int().min(0),
      probabilities: z.record(z.string(), z.number()).meta({
        description: 'Every class by label, as the model outputs it (not rounded)',
      }),
    })
  ),
})

/** One class of a prediction. */
export const Prediction: z.ZodType = z.strictObject({
  label: z.string(),
  index: z.number().int().min(0),
  score: z.number().min(0).max(1),
})

const ModelRef = z.strictObject({ name: z.string(), version: z.string() })

/** `POST /predict` with one image. */
export const PredictResponse: z.ZodType = z.strictObject({
  model: ModelRef,
  predictions: z.array(Prediction),
})

/** `POST /predict` with several `image` fields: one entry per image, in order. */
export const PredictBatchResponse: z.ZodType = z.strictObject({
  model: ModelRef,
  results: z.array(z.strictObject({ predictions: z.array(Prediction) })),
})

/** `?top_k=` of `POST /predict`. */
export const TopKQuery: z.ZodType = z.string().regex(/^\d+$/).optional().meta({
  description: 'How many classes to return, 1 to the number of classes (default 5)',
})

/** `GET /` for API clients (browsers asking for HTML get the demo page). */
export const ServiceInfoResponse: z.ZodType = z.strictObject({
  service: z.string(),
  version: z.string(),
  status: z.enum(['loading', 'ready', 'draining']),
  model: z
    .strictObject({
      name: z.string(),
      version: z.string(),
      sha256: z.string(),
      demo: z.boolean(),
      classes: z.number().int(),
      input: z.string(),
      output: z.string(),
      fixedBatchSize: z.number().int().nullable().meta({
        description: "The model's fixed batch dimension (runs are padded to it), or null",
      }),
    })
    .nullable(),
  preprocessing: z
    .strictObject({
      input: z.record(z.string(), z.unknown()),
      output: z.record(z.string(), z.unknown()),
      sources: z.record(z.string(), z.string()).meta({
        description:
          'Where each setting came from: model, config.json, preprocessor_config.json, ' +
          'preset <name>, or default',
      }),
    })
    .nullable()
    .optional()
    .meta({ description: 'An image model: the effective preprocessing and output settings' }),
  features: z
    .array(
      z.strictObject({
        name: z.string(),
        min: z.number().optional(),
        max: z.number().optional(),
        description: z.string().optional(),
      })
    )
    .optional()
    .meta({ description: "A tabular model: its features.json, in the model's input order" }),
  labels: z.array(z.string()).optional().meta({ description: 'A tabular model: its classes' }),
  endpoints: z.record(z.string(), z.string()),
})

/** `/healthz` and `/readyz`. */
export const HealthResponse: z.ZodType = z.strictObject({
  status: z.enum(['ok', 'ready', 'loading', 'draining']),
})

const V2Datatype = z.enum(['FP32', 'FP16', 'UINT8'])

/** A v2 inference request as the server reads it. */
export interface V2InferRequestBody {
  id?: string | undefined
  inputs: { name: string; shape: number[]; datatype: 'FP32' | 'FP16' | 'UINT8'; data: number[] }[]
  outputs?: { name: string }[] | undefined
}

/** The JSON body of `POST /v2/models/{name}/infer`. */
export const V2InferRequest: z.ZodType<V2InferRequestBody> = z.object({
  id: z.string().optional(),
  inputs: z
    .array(
      z.object({
        name: z.string(),
        shape: z.array(z.number().int().positive()).min(1),
        datatype: V2Datatype,
        data: z.array(z.number()),
      })
    )
    .length(1, 'exactly one input tensor is expected'),
  outputs: z.array(z.object({ name: z.string() })).optional(),
})

/** The answer of `POST /v2/models/{name}/infer`. */
export const V2InferResponse: z.ZodType = z.strictObject({
  model_name: z.string(),
  model_version: z.string(),
  id: z.string().optional(),
  outputs: z.array(
    z.strictObject({
      name: z.string(),
      datatype: z.literal('FP32'),
      shape: z.array(z.number().int()),
      data: z.array(z.number()),
    })
  ),
})

const V2Tensor = z.strictObject({
  name: z.string(),
  datatype: V2Datatype,
  shape: z.array(z.number().int()),
})

/** `GET /v2/models/{name}`. */
export const V2ModelMetadata: z.ZodType = z.strictObject({
  name: z.string(),
  versions: z.array(z.string()),
  platform: z.string(),
  sha256: z.string(),
  inputs: z.array(V2Tensor),
  outputs: z.array(V2Tensor),
})

/** `GET /v2/health/live`, `/v2/health/ready`, `/v2/models/{name}/ready`. */
export const V2Live: z.ZodType = z.strictObject({ live: z.boolean() })
export const V2Ready: z.ZodType = z.strictObject({ ready: z.boolean() })
export const V2ModelReady: z.ZodType = z.strictObject({ name: z.string(), ready: z.boolean() })
