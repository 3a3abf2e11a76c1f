/** Graceful stop on SIGTERM/SIGINT: not ready at once, drain, finish in-flight, release, exit. */
import type { Server } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import type { ServingState } from './serving-state.js'

/** What a graceful stop needs. */
export interface ShutdownOptions {
  readonly server: Server
  readonly state: ServingState
  readonly logger: Logger
  /** Seconds to keep serving after readiness turns 503, so the load balancer stops routing here. */
  readonly drainDelayS: number
  /** Hard limit for the whole stop; past it the process exits 1. */
  readonly timeoutS: number
  /** Resolves once the model (possibly still loading) is released. */
  readonly releaseModel: () => Promise<void>
  readonly exit?: (code: number) => void
}

/**
 * Stops gracefully: `/readyz` turns 503 at once; requests keep being served for the drain delay;
 * then the listener closes, in-flight requests finish, the model is released and the process
 * exits with `exitCode` (1 if the timeout passes first).
 */
export async function shutdown(
  options: ShutdownOptions,
  reason: string,
  exitCode = 0
): Promise<void> {
  const { server, state, logger } = options
  const exit = options.exit ?? ((code: number) => process.exit(code))
  const hardStop = setTimeout(() => {
    logger.error({ inFlight: state.inFlight }, `shutdown took over ${options.timeoutS}s; exiting`)
    exit(1)
  }, options.timeoutS * 1000)
  hardStop.unref()

  state.startDraining()
  logger.info({ reason, drainDelayS: options.drainDelayS }, 'draining: readiness is now 503')
  await sleep(options.drainDelayS * 1000)
  const closed = new Promise<void>((resolve) =>
    server.close(() => {
      resolve()
    })
  )
  // keep-alive connections are closed as soon as they go idle
  const idle = setInterval(() => {
    server.closeIdleConnections()
  }, 100)
  await closed
  clearInterval(idle)
  // a model still loading is awaited and released: exiting while onnxruntime runs native
  // code on the worker thread would crash the process
  await options.releaseModel()
  clearTimeout(hardStop)
  logger.info({ exitCode }, 'stopped')
  exit(exitCode)
}
