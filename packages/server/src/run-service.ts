/** An app's process lifecycle: listen at once, serve the model once loaded, stop on SIGTERM. */
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'
import { pino } from 'pino'
import type { Logger } from 'pino'
import type { InferenceModel } from './model.js'
import type { ServingState } from './serving-state.js'
import { shutdown } from './shutdown.js'

/**
 * Reads the app's configuration or exits 1 before anything listens, with the message (a
 * ConfigError lists every invalid variable) on stderr.
 */
export function configOrExit<T>(read: () => T): T {
  try {
    return read()
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  }
}

/** The app's JSON logger on stdout, written asynchronously (pino flushes it on exit). */
export function serviceLogger(level: string, service: string): Logger {
  return pino({ level, base: { service } }, pino.destination({ dest: 1, sync: false }))
}

/** What the app's model load resolves to. */
export interface LoadedService {
  readonly model: InferenceModel
  /** Runs once the model serves (e.g. starts a poller); its fields go into the `ready` log line. */
  readonly onReady?: () => Record<string, unknown>
  /** Runs before the model is closed on stop (e.g. stops that poller). */
  readonly release?: () => Promise<void>
}

/** How one app's process serves. */
export interface ServiceOptions {
  readonly app: Hono
  readonly state: ServingState
  readonly logger: Logger
  readonly port: number
  readonly host: string
  /** Seconds to keep serving after readiness turns 503 on SIGTERM (see {@link shutdown}). */
  readonly drainDelayS: number
  readonly shutdownTimeoutS: number
  /** The model load, started by the app; the listener is up while it runs. */
  readonly loading: Promise<LoadedService>
}

/**
 * Listens at once (`/readyz` is 503 until the model serves), installs the model when `loading`
 * resolves, and stops gracefully on SIGTERM/SIGINT: drain, finish in-flight requests, release the
 * model (even one still loading), exit 0. A failed load exits 1.
 */
export async function runService(options: ServiceOptions): Promise<void> {
  const { app, state, logger, port, host, loading } = options
  const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
    logger.info(
      { host: info.address, port: info.port },
      'listening (not ready until the model is loaded)'
    )
  }) as Server
  const releaseModel = async (): Promise<void> => {
    const loaded = await loading.catch(() => undefined)
    await loaded?.release?.()
    await (state.model ?? loaded?.model)?.close()
    await state.retired()
  }
  const lifecycle = { stopping: false }
  const stop = (reason: string, exitCode = 0): void => {
    if (lifecycle.stopping) return
    lifecycle.stopping = true
    const drainDelayS = exitCode === 0 ? options.drainDelayS : 0
    const timeoutS = options.shutdownTimeoutS
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
    const loaded = await loading
    if (lifecycle.stopping) return
    state.setModel(loaded.model)
    logger.info({ port, ...loaded.onReady?.() }, 'ready')
  } catch (err) {
    logger.fatal({ err }, 'could not load the model; exiting')
    stop('model load failed', 1)
  }
}
