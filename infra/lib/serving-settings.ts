/** One settings object for the server's timings: the container env, the task, the ALB and ECS. */
import { Duration } from 'aws-cdk-lib'

/** Log levels the server accepts in `LOG_LEVEL` (apps/resnet/src/config.ts). */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

/** How the ALB probes a target's readiness. */
export interface TargetHealthCheck {
  /** Readiness path: 200 only once the model is loaded and warmed, 503 while loading or draining. */
  readonly path: string
  readonly interval: Duration
  readonly timeout: Duration
  /** Consecutive successes before a target receives traffic. */
  readonly healthyThreshold: number
  /** Consecutive failures before the ALB stops routing to a target. */
  readonly unhealthyThreshold: number
}

/** How one model server runs: port, drain and stop timings, readiness probe, queue, logging. */
export interface ServingSettings {
  /** Container port (`PORT`); also the target group's port. */
  readonly port: number
  /** After SIGTERM, how long the server keeps serving while `/readyz` is 503 (`DRAIN_DELAY_S`). */
  readonly drainDelay: Duration
  /** Hard limit of a graceful stop, counted from SIGTERM, drain included (`SHUTDOWN_TIMEOUT_S`). */
  readonly shutdownTimeout: Duration
  /** How long ECS ignores failing ALB health checks of a new task (model download and warm-up). */
  readonly healthCheckGracePeriod: Duration
  readonly targetHealthCheck: TargetHealthCheck
  readonly logLevel: LogLevel
  /** Predictions waiting for the model beyond which the server answers 503 (`MAX_QUEUE`). */
  readonly maxQueue: number
}

/** The settings used when nothing is overridden. */
export const DEFAULT_SERVING_SETTINGS: ServingSettings = Object.freeze({
  port: 8080,
  drainDelay: Duration.seconds(15),
  shutdownTimeout: Duration.seconds(30),
  healthCheckGracePeriod: Duration.seconds(120),
  targetHealthCheck: Object.freeze({
    path: '/readyz',
    interval: Duration.seconds(10),
    timeout: Duration.seconds(5),
    healthyThreshold: 2,
    unhealthyThreshold: 3,
  }),
  logLevel: 'info',
  maxQueue: 64,
})

/** ECS's largest container `stopTimeout` (SIGTERM to SIGKILL), in seconds. */
export const ECS_MAX_STOP_TIMEOUT_S = 120
/** Seconds between the server's own hard limit and ECS's SIGKILL: time to flush logs and exit. */
export const STOP_MARGIN_S = 5
/** Seconds a graceful stop needs after the drain for in-flight predictions to finish. */
export const MIN_IN_FLIGHT_GRACE_S = 5

/** Overrides for {@link defineServingSettings}; the health check may be overridden per field. */
export type ServingSettingsOverrides = Partial<Omit<ServingSettings, 'targetHealthCheck'>> & {
  readonly targetHealthCheck?: Partial<TargetHealthCheck>
}

/**
 * Merges `overrides` into the defaults, checks that the timings fit together and freezes the
 * result. Throws one error that lists every problem.
 * @example const settings = defineServingSettings({ drainDelay: Duration.seconds(30) })
 */
export function defineServingSettings(overrides: ServingSettingsOverrides = {}): ServingSettings {
  const base = DEFAULT_SERVING_SETTINGS
  const settings: ServingSettings = Object.freeze({
    ...base,
    ...defined(overrides),
    targetHealthCheck: Object.freeze({
      ...base.targetHealthCheck,
      ...defined(overrides.targetHealthCheck ?? {}),
    }),
  })
  const problems = settingsProblems(settings)
  if (problems.length > 0) {
    throw new Error(`Invalid serving settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
  return settings
}

/** `o` without its undefined values, so `{ drainDelay: undefined }` keeps the default. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

function settingsProblems(s: ServingSettings): string[] {
  const problems: string[] = []
  const check = (ok: boolean, message: string) => {
    if (!ok) problems.push(message)
  }
  const int = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max
  const drain = s.drainDelay.toSeconds({ integral: false })
  const shutdown = s.shutdownTimeout.toSeconds({ integral: false })
  const hc = s.targetHealthCheck
  const interval = hc.interval.toSeconds({ integral: false })
  const timeout = hc.timeout.toSeconds({ integral: false })

  check(int(s.port, 1, 65_535), `port must be an integer in 1..65535, got ${s.port}`)
  // ALB deregistration delays are whole seconds in 0..3600.
  check(int(drain, 0, 3600), `drainDelay must be whole seconds in 0..3600, got ${drain}`)
  check(
    Number.isInteger(shutdown) && shutdown >= drain + MIN_IN_FLIGHT_GRACE_S,
    `shutdownTimeout must be whole seconds >= drainDelay + ${MIN_IN_FLIGHT_GRACE_S}s (the server's hard limit includes the drain), got ${shutdown}`
  )
  check(
    shutdown + STOP_MARGIN_S <= ECS_MAX_STOP_TIMEOUT_S,
    `shutdownTimeout + ${STOP_MARGIN_S}s margin must be <= ${ECS_MAX_STOP_TIMEOUT_S}s (ECS's maximum stopTimeout), got ${shutdown}`
  )
  check(
    Number.isInteger(s.healthCheckGracePeriod.toSeconds({ integral: false })),
    'healthCheckGracePeriod must be whole seconds'
  )
  check(hc.path.startsWith('/'), `targetHealthCheck.path must start with '/', got '${hc.path}'`)
  check(int(interval, 5, 300), `targetHealthCheck.interval must be 5..300 s, got ${interval}`)
  check(
    int(timeout, 2, 120) && timeout < interval,
    `targetHealthCheck.timeout must be 2..120 s and shorter than the interval, got ${timeout}`
  )
  for (const key of ['healthyThreshold', 'unhealthyThreshold'] as const) {
    check(int(hc[key], 2, 10), `targetHealthCheck.${key} must be 2..10, got ${hc[key]}`)
  }
  check(int(s.maxQueue, 1, 100_000), `maxQueue must be an integer in 1..100000, got ${s.maxQueue}`)
  return problems
}

/** Values that ECS and the ALB derive from the settings, so they cannot drift from the server's. */
export interface ServingTimings {
  /** Target group deregistration delay: equal to the server's drain delay. */
  readonly deregistrationDelay: Duration
  /** Container stopTimeout: the server's hard limit plus {@link STOP_MARGIN_S}. */
  readonly stopTimeout: Duration
}

/**
 * The ALB and ECS timings for `settings`. The server's hard limit already counts the drain
 * (apps/resnet/src/shutdown.ts arms it at SIGTERM), so ECS only has to wait for it plus a margin.
 * @example const { deregistrationDelay, stopTimeout } = servingTimings(settings)
 */
export function servingTimings(settings: ServingSettings): ServingTimings {
  const stop = Math.min(
    settings.shutdownTimeout.toSeconds() + STOP_MARGIN_S,
    ECS_MAX_STOP_TIMEOUT_S
  )
  return {
    deregistrationDelay: settings.drainDelay,
    stopTimeout: Duration.seconds(stop),
  }
}

/** Per-deployment values of the container env that do not come from {@link ServingSettings}. */
export interface ServingRuntime {
  /** `s3://bucket/prefix/` of the model bundle. */
  readonly modelUri: string
  readonly modelCacheDir: string
  readonly inferenceThreads: number
  readonly awsRegion: string
}

/**
 * The container's environment (the contract of apps/resnet/src/config.ts), timings included.
 * @example taskDefinition.addContainer('Server', { image, environment: servingEnvironment(s, rt) })
 */
export function servingEnvironment(
  settings: ServingSettings,
  runtime: ServingRuntime
): Record<string, string> {
  return {
    PORT: String(settings.port),
    HOST: '0.0.0.0',
    MODEL_URI: runtime.modelUri,
    MODEL_CACHE_DIR: runtime.modelCacheDir,
    LOG_LEVEL: settings.logLevel,
    DRAIN_DELAY_S: String(settings.drainDelay.toSeconds()),
    SHUTDOWN_TIMEOUT_S: String(settings.shutdownTimeout.toSeconds()),
    INFERENCE_THREADS: String(runtime.inferenceThreads),
    MAX_QUEUE: String(settings.maxQueue),
    AWS_REGION: runtime.awsRegion,
  }
}
