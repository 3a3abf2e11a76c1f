/** The container entry point: config -> HTTP listener -> model -> ready; graceful stop on SIGTERM. */
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import {
  createApp,
  lowerDecodePriority,
  ServingState,
  shutdown,
  WorkerDecoder,
} from '@resnet/server'
import { pino } from 'pino'
import { ConfigError, loadConfig, readApiKeys, splitList } from './config.js'
import type { Config } from './config.js'
import { loadServingModel } from './load-serving-model.js'
import { startModelPoller } from './model-poller.js'
import type { ModelPoller } from './model-poller.js'

const SERVICE = {
  name: 'ecs-model-serving',
  version: (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string
    }
  ).version,
}

function readConfig(): Config {
  try {
    return loadConfig(process.env)
  } catch (err) {
    // R9: a bad configuration stops the process before it listens
    process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`)
    process.exit(1)
  }
}

const config = readConfig()
// Asynchronous stdout (batched writes instead of a syscall per line); pino flushes it on exit.
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
// sharp's JavaScript and the pixels stay off the event loop
const decoder = new WorkerDecoder({ niceness: config.DECODE_NICENESS })
const app = createApp({
  state,
  logger,
  decoder,
  service: SERVICE,
  apiKeys: readApiKeys(config),
  corsOrigins: splitList(config.CORS_ORIGINS),
  limits: {
    maxBodyBytes: config.MAX_BODY_BYTES,
    maxImagesPerRequest: config.MAX_IMAGES_PER_REQUEST,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    decode: {
      maxInputBytes: config.MAX_IMAGE_BYTES,
      maxPixels: config.MAX_IMAGE_PIXELS,
      timeoutMs: config.DECODE_TIMEOUT_MS,
    },
  },
})
const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  logger.info(
    { host: info.address, port: info.port },
    'listening (not ready until the model is loaded)'
  )
}) as Server

const loading = loadServingModel(config, logger, decoder)
let poller: ModelPoller | undefined
const releaseModel = async (): Promise<void> => {
  const loaded = await loading.catch(() => undefined)
  await poller?.stop()
  await (state.model ?? loaded?.model)?.close()
  await state.retired()
}

const lifecycle = { stopping: false }
const stop = (reason: string, exitCode = 0): void => {
  if (lifecycle.stopping) return
  lifecycle.stopping = true
  const drainDelayS = exitCode === 0 ? config.DRAIN_DELAY_S : 0
  const timeoutS = config.SHUTDOWN_TIMEOUT_S
  const options = { server, state, logger, drainDelayS, timeoutS, releaseModel }
  void shutdown(options, reason, exitCode)
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
  const { model, bundle } = await loading
  if (!lifecycle.stopping) {
    state.setModel(model)
    // the pool exists by now (the model files were read through it)
    const decodeThreads = lowerDecodePriority(config.DECODE_NICENESS)
    logger.info({ port: config.PORT, decodeThreads }, 'ready')
    poller = startModelPoller(config, state, bundle, logger, decoder)
  }
} catch (err) {
  logger.fatal({ err }, 'could not load the model; exiting')
  stop('model load failed', 1)
}
