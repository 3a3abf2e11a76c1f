/** The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas in schemas.ts. */
import { z } from 'zod'
import { STATUS } from './http-errors.js'
import {
  ErrorBody,
  HealthResponse,
  PredictBatchResponse,
  PredictResponse,
  ServiceInfoResponse,
  TabularPredictRequest,
  TabularPredictResponse,
  TopKQuery,
  V2InferRequest,
  V2InferResponse,
  V2Live,
  V2ModelMetadata,
  V2ModelReady,
  V2Ready,
} from './schemas.js'

type Schema = z.ZodType

interface Operation {
  readonly method: 'get' | 'post'
  readonly path: string
  readonly summary: string
  readonly ok: Schema | 'text'
  /** Error statuses this route can answer (all with the Error body). */
  readonly errors: readonly number[]
  readonly body?: Record<string, Schema | 'binary'>
  readonly query?: Record<string, Schema>
  readonly auth?: boolean
  /** Also answers `text/html` (to browsers). */
  readonly html?: boolean
}

const statuses = (codes: readonly (keyof typeof STATUS)[]): number[] => [
  ...new Set(codes.map((code) => STATUS[code])),
]

/** Every route the server answers: method, path, schemas. */
const OPERATIONS: readonly Operation[] = [
  {
    method: 'get',
    path: '/',
    summary: 'What this service is and which model it serves (browsers get the demo page)',
    ok: ServiceInfoResponse,
    errors: [],
    html: true,
  },
  { method: 'get', path: '/healthz', summary: 'Liveness', ok: HealthResponse, errors: [] },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: 200 once the model is loaded and warmed up, 503 while loading/draining',
    ok: HealthResponse,
    errors: [503],
  },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', ok: 'text', errors: [] },
  {
    method: 'post',
    path: '/predict',
    summary:
      'Classify one or more images (multipart "image" fields, or a raw image body); a tabular ' +
      'model takes JSON {"instances": [...]} instead',
    ok: z.union([PredictResponse, PredictBatchResponse, TabularPredictResponse]),
    errors: statuses([
      'BAD_REQUEST',
      'UNAUTHORIZED',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_IMAGE',
      'UNDECODABLE_IMAGE',
      'INVALID_INSTANCES',
      'OVERLOADED',
    ]),
    body: {
      'multipart/form-data': z.object({
        image: z.array(z.string().meta({ format: 'binary' })).min(1),
      }),
      'image/*': 'binary',
      'application/octet-stream': 'binary',
      'application/json': TabularPredictRequest,
    },
    query: { top_k: TopKQuery },
    auth: true,
  },
  { method: 'get', path: '/v2/health/live', summary: 'v2 liveness', ok: V2Live, errors: [] },
  { method: 'get', path: '/v2/health/ready', summary: 'v2 readiness', ok: V2Ready, errors: [] },
  {
    method: 'get',
    path: '/v2/models/{name}',
    summary: 'v2 model metadata',
    ok: V2ModelMetadata,
    errors: [404],
  },
  {
    method: 'get',
    path: '/v2/models/{name}/ready',
    summary: 'v2 model readiness',
    ok: V2ModelReady,
    errors: [404],
  },
  {
    method: 'post',
    path: '/v2/models/{name}/infer',
    summary: 'v2 inference on preprocessed tensors (JSON)',
    ok: V2InferResponse,
    errors: statuses([
      'INVALID_TENSOR',
      'UNAUTHORIZED',
      'NOT_FOUND',
      'PAYLOAD_TOO_LARGE',
      'NOT_READY',
      'OVERLOADED',
    ]),
    body: { 'application/json': V2InferRequest },
    auth: true,
  },
]

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect), without a `$schema` on every fragment. */
function jsonSchema(schema: Schema): unknown {
  const fragment: Record<string, unknown> = z.toJSONSchema(schema, {
    io: 'output',
    unrepresentable: 'any',
  })
  delete fragment.$schema
  return fragment
}

const content = (schema: Schema | 'binary' | 'text', type = 'application/json') =>
  schema === 'binary'
    ? { [type]: { schema: { type: 'string', format: 'binary' } } }
    : schema === 'text'
      ? { 'text/plain': { schema: { type: 'string' } } }
      : { [type]: { schema: jsonSchema(schema) } }

function operation(op: Operation): Record<string, unknown> {
  const responses: Record<string, unknown> = {
    200: {
      description: 'OK',
      content: {
        ...content(op.ok),
        ...(op.html ? { 'text/html': { schema: { type: 'string' } } } : {}),
      },
    },
  }
  for (const status of op.errors) {
    responses[status] = {
      description: status === 503 ? 'Not ready or overloaded (see Retry-After)' : 'Error',
      content: content(ErrorBody),
    }
  }
  const parameters = [
    ...(op.path.includes('{name}')
      ? [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }]
      : []),
    ...Object.entries(op.query ?? {}).map(([name, schema]) => ({
      name,
      in: 'query',
      required: false,
      schema: jsonSchema(schema),
    })),
  ]
  return {
    summary: op.summary,
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: Object.assign(
              {},
              ...Object.entries(op.body).map(([type, schema]) => content(schema, type))
            ) as Record<string, unknown>,
          },
        }
      : {}),
    ...(op.auth ? { security: [{}, { bearer: [] }] } : {}),
    responses,
  }
}

/** Builds the OpenAPI 3.1 document for a service name and version. */
export function openApiDocument(service: { name: string; version: string }): object {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op)
  return {
    openapi: '3.1.0',
    info: {
      title: service.name,
      version: service.version,
      description: 'Image classification over HTTP; errors are {"error":{"code","message"}}.',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Only when API keys are set' },
      },
    },
  }
}
