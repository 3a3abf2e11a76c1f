/** Reading an app's environment: every invalid variable listed at once, empty strings unset. */
import { readFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import { DEFAULT_INFERENCE_NICENESS } from './onnx-model.js'

/** An integer variable from `min` to `max`. */
export const envInt = (min: number, max: number = Number.MAX_SAFE_INTEGER): z.ZodCoercedNumber =>
  z.coerce.number().int().min(min).max(max)
const seconds: z.ZodCoercedNumber = z.coerce.number().min(0).max(3600)

/**
 * The variables every app reads the same way (listener, cache, logging, auth, CORS, inference
 * threads, admission wait, drain and stop); each app adds its own limits and `MODEL_URI`.
 */
type Levels = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
type Int = z.ZodDefault<z.ZodCoercedNumber>
type Text = z.ZodOptional<z.ZodString>

/** The zod shape of {@link COMMON_ENV}. */
export interface CommonEnvShape {
  readonly PORT: Int
  readonly HOST: z.ZodDefault<z.ZodString>
  readonly MODEL_CACHE_DIR: z.ZodDefault<z.ZodString>
  readonly LOG_LEVEL: z.ZodDefault<z.ZodEnum<{ [L in Levels]: L }>>
  readonly BATCH_DELAY_MS: Int
  readonly MAX_ADMISSION_WAIT_MS: Int
  readonly API_KEYS: Text
  readonly API_KEYS_FILE: Text
  readonly CORS_ORIGINS: Text
  readonly INFERENCE_THREADS: Int
  readonly INFERENCE_NICENESS: Int
  readonly DRAIN_DELAY_S: Int
  readonly SHUTDOWN_TIMEOUT_S: Int
}

export const COMMON_ENV: CommonEnvShape = {
  PORT: envInt(1, 65_535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  MODEL_CACHE_DIR: z
    .string()
    .min(1)
    .default(path.join(tmpdir(), 'ecs-model-serving', 'models')),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BATCH_DELAY_MS: envInt(0, 1000).default(0),
  MAX_ADMISSION_WAIT_MS: envInt(0, 60_000).default(1000),
  API_KEYS: z.string().optional(),
  API_KEYS_FILE: z.string().min(1).optional(),
  CORS_ORIGINS: z.string().optional(),
  INFERENCE_THREADS: envInt(1, 256).default(availableParallelism()),
  INFERENCE_NICENESS: envInt(0, 19).default(DEFAULT_INFERENCE_NICENESS),
  DRAIN_DELAY_S: seconds.default(0),
  SHUTDOWN_TIMEOUT_S: seconds.default(25),
}

/** Thrown when the environment is invalid; the message lists every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/** Empty strings count as unset, as they do in ECS task definitions and shells. */
const withoutEmpty = (env: NodeJS.ProcessEnv): Record<string, string> =>
  Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
  )

/**
 * Parses the environment with an app's schema; throws a ConfigError listing every invalid
 * variable. The result is frozen.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv
): Readonly<z.infer<S>> {
  const values = withoutEmpty(env)
  const parsed = schema.safeParse(values)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0])
      return `  - ${name}=${JSON.stringify(values[name] ?? '')}: ${issue.message}`
    })
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`)
  }
  return Object.freeze(parsed.data)
}

/** Splits a comma-separated variable into trimmed, non-empty items. */
export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

/** API keys from API_KEYS (comma-separated) and API_KEYS_FILE (one per line); none: no auth. */
export function readApiKeys(config: {
  readonly API_KEYS?: string | undefined
  readonly API_KEYS_FILE?: string | undefined
}): string[] {
  const fromFile = config.API_KEYS_FILE
    ? readFileSync(config.API_KEYS_FILE, 'utf8')
        .split('\n')
        .map((k) => k.trim())
        .filter((k) => k !== '')
    : []
  return [...splitList(config.API_KEYS), ...fromFile]
}
