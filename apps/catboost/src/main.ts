/** The container entry point: config -> HTTP listener -> model -> ready; graceful stop on SIGTERM. */
import { readFileSync } from 'node:fs'
import {
  configOrExit,
  createApp,
  DEFAULT_SERVER_LIMITS,
  readApiKeys,
  runService,
  serviceLogger,
  ServingState,
  splitList,
  TABLE_PAGE,
} from '@resnet/server'
import { loadConfig } from './config.js'
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

const config = configOrExit(() => loadConfig(process.env))
const logger = serviceLogger(config.LOG_LEVEL, SERVICE.name)
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

await runService({
  app,
  state,
  logger,
  port: config.PORT,
  host: config.HOST,
  drainDelayS: config.DRAIN_DELAY_S,
  shutdownTimeoutS: config.SHUTDOWN_TIMEOUT_S,
  loading: loadTabularModel(config, logger).then((model) => ({ model })),
})
