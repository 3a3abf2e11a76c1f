/** The container entry point: config -> HTTP listener -> model -> ready; graceful stop on SIGTERM. */
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import {
  ConfigError,
  createApp,
  DEFAULT_SERVER_LIMITS,
  readApiKeys,
  ServingState,
  shutdown,
  splitList,
  TABLE_PAGE,
} from '@resnet/server'
import { pino } from 'pino'
import { loadConfig } from './config.js'
import type { Config } from './config.js'
import { loadTabularModel } from './load-tabular-model.js'

const SERVICE = {
  name: 'ecs-model-serving-tabular',
  version: (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string
    }
  ).version,
  predictUsage: 'POST /predict (application/json {"instances": [{"<feature>": <number>, ...}]})',
}

function readConfig(): Config {
  try {
    return loadConfig(process.env)
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`)
    process.exit(1)
  }
}

const config = readConfig()
const logger = pino(
  { level: config.LOG_LEVEL, base: { service: SERVICE.name } },
  pino.destination({ dest: 1, sync: false })
)
const state = new ServingState({
  maxBatchSize: config.MAX_BATCH_SIZE,
  maxQueue: config.MAX_QUEUE,
  maxDelayMs: config.BATCH_DELAY_MS,
  maxAdmissionWaitMs: config.MAX_ADMISSION_WAIT_MS,
})
const app = createApp({
  state,
  logger,
  service: SERVICE,
  demoPage: TABLE_PAGE,
  apiKeys: readApiKeys(config),
  corsOrigins: splitList(config.CORS_ORIGINS),
  limits: {
    ...DEFAULT_SERVER_LIMITS,
    maxBodyBytes: config.MAX_BODY_BYTES,
    maxImagesPerRequest: config.MAX_ROWS_PER_REQUEST,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
  },
})
const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  logger.info(
    { host: info.address, port: info.port },
    'listening (not ready until the model is loaded)'
  )
}) as Server

const loading = loadTabularModel(config, logger)
const releaseModel = async (): Promise<void> => {
  const loaded = await loading.catch(() => undefined)
  await (state.model ?? loaded)?.close()
  await state.retired()
}

const lifecycle = { stopping: false }
const stop = (reason: string, exitCode = 0): void => {
  if (lifecycle.stopping) return
  lifecycle.stopping = true
  const drainDelayS = exitCode === 0 ? config.DRAIN_DELAY_S : 0
  const timeoutS = config.SHUTDOWN_TIMEOUT_S
  void shutdown({ server, state, logger, drainDelayS, timeoutS, releaseModel }, reason, exitCode)
}
process.once('SIGTERM', () => {
  stop('SIGTERM')
})
process.once('SIGINT', () => {
  stop('SIGINT')
})
server.on('error', (err) => {
  logger.fatal({ err }, 'HTTP server error')
  process.exit(1)
})

try {
  const model = await loading
  if (!lifecycle.stopping) {
    state.setModel(model)
    logger.info({ port: config.PORT }, 'ready')
  }
} catch (err) {
  logger.fatal({ err }, 'could not load the model; exiting')
  stop('model load failed', 1)
}
