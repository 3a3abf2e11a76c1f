/** Hot reload: polls the model source and swaps in a new version between requests. */
import type { ModelBundle } from '@resnet/model-loader'
import type { ImageDecoder, InferenceModel, ServingState } from '@resnet/server'
import type { Logger } from 'pino'
import type { Config } from './config.js'
import { fetchBundle, openBundle } from './load-serving-model.js'

/** A running poller. */
export interface ModelPoller {
  /** Stops polling and waits for a reload in progress (closing its model if not installed). */
  stop(): Promise<void>
  /** Runs one check now (also what each tick does); resolves with whether it swapped. */
  check(): Promise<boolean>
}

const sameVersion = (a: ModelBundle, b: ModelBundle): boolean =>
  a.sha256 === b.sha256 && a.version === b.version

/**
 * Every `MODEL_POLL_INTERVAL_S` seconds: fetch the bundle (no download when unchanged); on a new
 * version open and warm it up, then swap it in. A version that fails to load or warm up is
 * logged and counted, and the current one keeps serving.
 */
export function startModelPoller(
  config: Config,
  state: ServingState,
  current: ModelBundle,
  logger: Logger,
  decoder?: ImageDecoder
): ModelPoller {
  let serving = current
  let running: Promise<boolean> | undefined
  const life = { stopped: false }
  const isStopped = (): boolean => life.stopped // read after awaits

  const reload = async (): Promise<boolean> => {
    let opened: InferenceModel | undefined
    let fetched: ModelBundle | undefined
    try {
      const bundle = await fetchBundle(config)
      if (sameVersion(bundle, serving) || life.stopped) {
        await bundle.release() // this lookup's lease; `serving` keeps its own
        return false
      }
      fetched = bundle
      logger.info({ version: bundle.version, sha256: bundle.sha256 }, 'new model version: loading')
      opened = await openBundle(bundle, config, logger, decoder)
      if (isStopped()) throw new Error('stopping')
      state.setModel(opened)
      const previous = serving
      serving = bundle
      fetched = undefined
      await previous.release() // the old version may now be evicted from the cache
      state.metrics.modelReloads.inc({ result: 'success' })
      logger.info({ model: opened.info }, 'model swapped')
      return true
    } catch (err) {
      await opened?.close()
      await fetched?.release()
      if (isStopped()) return false
      state.metrics.modelReloads.inc({ result: 'failure' })
      logger.error({ err }, 'model reload failed; still serving the current version')
      return false
    }
  }

  const check = (): Promise<boolean> => (running ??= reload().finally(() => (running = undefined)))
  const timer =
    config.MODEL_POLL_INTERVAL_S > 0
      ? setInterval(() => void check(), config.MODEL_POLL_INTERVAL_S * 1000)
      : undefined
  timer?.unref()
  return {
    check,
    async stop() {
      life.stopped = true
      clearInterval(timer)
      await running
      await serving.release()
    },
  }
}
