/** The container entry point: config -> HTTP listener -> model -> ready; graceful stop on SIGTERM. */
import { readFileSync } from 'node:fs'
import {
  configOrExit,
  createApp,
  lowerDecodePriority,
  runService,
  serviceLogger,
  ServingState,
  WorkerDecoder,
} from '@resnet/server'
import type { LoadedService } from '@resnet/server'
import { loadConfig, readApiKeys, splitList } from './config.js'
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

// R9: a bad configuration stops the process before it listens
const config = configOrExit(() => loadConfig(process.env))
const logger = serviceLogger(config.LOG_LEVEL, SERVICE.name)
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

async function loadAndPoll(): Promise<LoadedService> {
  const { model, bundle } = await loadServingModel(config, logger, decoder)
  let poller: ModelPoller | undefined
  return {
    model,
    onReady: () => {
      poller = startModelPoller(config, state, bundle, logger, decoder)
      // the pool exists by now (the model files were read through it)
      return { decodeThreads: lowerDecodePriority(config.DECODE_NICENESS) }
    },
    release: async () => poller?.stop(),
  }
}

await runService({
  app,
  state,
  logger,
  port: config.PORT,
  host: config.HOST,
  drainDelayS: config.DRAIN_DELAY_S,
  shutdownTimeoutS: config.SHUTDOWN_TIMEOUT_S,
  loading: loadAndPoll(),
})
