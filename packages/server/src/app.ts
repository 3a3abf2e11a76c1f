/** The HTTP API as a Hono app. Does no I/O of its own: state, logger and limits come in. */
import { DEFAULT_DECODE_LIMITS } from '@resnet/preprocess'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { requestId } from 'hono/request-id'
import type { Logger } from 'pino'
import { ApiError, errorHandler, errorResponse } from './http-errors.js'
import { healthRoutes } from './routes/health.js'
import { infoRoute } from './routes/info.js'
import type { ServiceInfo } from './routes/info.js'
import { predictRoute } from './routes/predict.js'
import type { PredictLimits } from './routes/predict.js'
import type { ServingState } from './serving-state.js'

/** Request limits; every field has a safe default. */
export interface ServerLimits extends PredictLimits {
  /** Largest request body in bytes (413 above). */
  readonly maxBodyBytes: number
}

/** 32 MiB bodies, 16 images per request, and the decode limits of @resnet/preprocess. */
export const DEFAULT_SERVER_LIMITS: ServerLimits = Object.freeze({
  maxBodyBytes: 32 * 1024 * 1024,
  maxImagesPerRequest: 16,
  decode: DEFAULT_DECODE_LIMITS,
})

/** Everything the app needs, passed in by the composition root. */
export interface AppOptions {
  readonly state: ServingState
  readonly logger: Logger
  readonly limits?: ServerLimits
  /** @default { name: 'ecs-model-serving', version: '0.0.0' } */
  readonly service?: ServiceInfo
}

/**
 * Builds the HTTP API: `GET /`, `/healthz`, `/readyz`, `POST /predict`, JSON errors.
 * @example serve({ fetch: createApp({ state, logger }).fetch, port: 8080 })
 */
export function createApp(options: AppOptions): Hono {
  const { state, logger } = options
  const limits = options.limits ?? DEFAULT_SERVER_LIMITS
  const service = options.service ?? { name: 'ecs-model-serving', version: '0.0.0' }
  const app = new Hono()
  app.use(requestId({ headerName: 'X-Request-Id' }))
  app.use(async (c, next) => {
    const started = performance.now()
    await next()
    if (c.req.path === '/healthz' || c.req.path === '/readyz') return
    const ms = Math.round(performance.now() - started)
    const fields = { requestId: c.get('requestId'), method: c.req.method, path: c.req.path }
    logger.info({ ...fields, status: c.res.status, ms }, 'request')
  })
  app.use(
    '/predict',
    bodyLimit({
      maxSize: limits.maxBodyBytes,
      onError: (c) =>
        errorResponse(
          c,
          'PAYLOAD_TOO_LARGE',
          `The request body is over ${limits.maxBodyBytes} bytes`
        ),
    })
  )
  app.route('/', healthRoutes(state))
  app.route('/', infoRoute(state, service))
  app.route('/', predictRoute(state, limits))
  app.notFound((c) => {
    throw new ApiError('NOT_FOUND', `No route for ${c.req.method} ${c.req.path}`)
  })
  app.onError(errorHandler(logger))
  return app
}
