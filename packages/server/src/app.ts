/** The HTTP API as a Hono app. Does no I/O of its own: state, logger and limits come in. */
import { randomUUID } from 'node:crypto'
import { DEFAULT_DECODE_LIMITS } from '@resnet/preprocess'
import { Hono } from 'hono'
import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import { requestId } from 'hono/request-id'
import { routePath } from 'hono/route'
import type { Logger } from 'pino'
import { bearerAuth } from './auth.js'
import type { DemoPage } from './demo-page/table-page.js'
import { ApiError, errorHandler, errorResponse } from './http-errors.js'
import type { ImageDecoder } from './image-decoder.js'
import { healthRoutes } from './routes/health.js'
import { infoRoute } from './routes/info.js'
import type { ServiceInfo } from './routes/info.js'
import { metricsRoute } from './routes/metrics.js'
import { openApiRoute } from './routes/openapi.js'
import { predictRoute } from './routes/predict.js'
import type { PredictLimits } from './routes/predict.js'
import { v2Routes } from './routes/v2.js'
import type { ServingState } from './serving-state.js'

/** Request limits; every field has a safe default. */
export interface ServerLimits extends PredictLimits {
  /** Largest request body in bytes (413 above). */
  readonly maxBodyBytes: number
}

/** 32 MiB bodies, 16 images per request, 30 s deadline, and @resnet/preprocess's decode limits. */
export const DEFAULT_SERVER_LIMITS: ServerLimits = Object.freeze({
  maxBodyBytes: 32 * 1024 * 1024,
  maxImagesPerRequest: 16,
  requestTimeoutMs: 30_000,
  decode: DEFAULT_DECODE_LIMITS,
})

/** Everything the app needs, passed in by the composition root. */
export interface AppOptions {
  readonly state: ServingState
  readonly logger: Logger
  readonly limits?: ServerLimits
  /** @default { name: 'ecs-model-serving', version: '0.0.0' } */
  readonly service?: ServiceInfo
  /** API keys for `Authorization: Bearer`; health, info and metrics stay open. @default no auth */
  readonly apiKeys?: readonly string[]
  /** Origins allowed by CORS (`*` for any). @default none: no CORS headers */
  readonly corsOrigins?: readonly string[]
  /**
   * Where uploads are decoded: a `WorkerDecoder` keeps sharp's JavaScript and the pixels off the
   * event loop. @default inProcessDecoder
   */
  readonly decoder?: ImageDecoder
  /** The page browsers get at `GET /`. @default the image demo page */
  readonly demoPage?: DemoPage
}

const PROTECTED = ['/predict', '/v2/models/*']

/**
 * Builds the HTTP API: `GET /`, `/healthz`, `/readyz`, `/metrics`, `/openapi.json`,
 * `POST /predict`, the v2 inference protocol, and JSON errors.
 * @example serve({ fetch: createApp({ state, logger }).fetch, port: 8080 })
 */
export function createApp(options: AppOptions): Hono {
  const { state, logger } = options
  const limits = options.limits ?? DEFAULT_SERVER_LIMITS
  const service = options.service ?? { name: 'ecs-model-serving', version: '0.0.0' }
  const app = new Hono()
  app.use(
    requestId({
      headerName: 'X-Request-Id',
      // behind an ALB, its trace id ties our logs to the load balancer's
      generator: (c) => c.req.header('x-amzn-trace-id') ?? randomUUID(),
    })
  )
  app.use(async (c, next) => {
    const started = performance.now()
    await next()
    const route = routePath(c)
    const seconds = (performance.now() - started) / 1000
    state.metrics.requests.inc({ route, method: c.req.method, status: c.res.status })
    state.metrics.requestSeconds.observe({ route }, seconds)
    if (['/healthz', '/readyz', '/metrics'].includes(c.req.path)) return
    const fields = { requestId: c.get('requestId'), method: c.req.method, path: c.req.path }
    logger.info({ ...fields, status: c.res.status, ms: Math.round(seconds * 1000) }, 'request')
  })
  if (options.corsOrigins?.length) {
    const origins = [...options.corsOrigins]
    app.use(
      cors({
        origin: origins.includes('*') ? '*' : origins,
        exposeHeaders: ['Server-Timing', 'X-Request-Id'],
      })
    )
  }
  const overLimit = (c: Context): Response =>
    errorResponse(c, 'PAYLOAD_TOO_LARGE', `The request body is over ${limits.maxBodyBytes} bytes`)
  const streamedLimit = bodyLimit({ maxSize: limits.maxBodyBytes, onError: overLimit })
  // A declared length is checked without touching the body (Node's parser never reads past it),
  // which keeps the body on the fast path (read straight from the socket, no web streams).
  const tooLarge: MiddlewareHandler = async (c, next) => {
    const length = c.req.header('content-length')
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) {
      return streamedLimit(c, next)
    }
    if (Number(length) > limits.maxBodyBytes) return overLimit(c)
    await next()
  }
  for (const path of PROTECTED) {
    if (options.apiKeys?.length) app.use(path, bearerAuth(options.apiKeys))
    app.use(path, tooLarge)
  }
  app.route('/', healthRoutes(state))
  app.route('/', infoRoute(state, service, options.demoPage))
  app.route('/', metricsRoute(state.metrics))
  app.route('/', openApiRoute(service))
  app.route('/', predictRoute(state, limits, options.decoder))
  app.route(
    '/',
    v2Routes(state, {
      maxBatch: limits.maxImagesPerRequest,
      requestTimeoutMs: limits.requestTimeoutMs,
    })
  )
  app.notFound((c) => {
    throw new ApiError('NOT_FOUND', `No route for ${c.req.method} ${c.req.path}`)
  })
  app.onError(errorHandler(logger))
  return app
}
