/** The only reader of process.env: validates every setting at once and freezes the result. */
import { readFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import path from 'node:path'
import { DEFAULT_DECODE_NICENESS, DEFAULT_INFERENCE_NICENESS } from '@resnet/server'
import { z } from 'zod'

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max)
const seconds = z.coerce.number().min(0).max(3600)

const EnvSchema = z.object({
  PORT: int(1, 65_535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  MODEL_URI: z.string().trim().min(1).optional(),
  MODEL_POLL_INTERVAL_S: z.coerce.number().min(0).max(86_400).default(0),
  MODEL_CACHE_DIR: z
    .string()
    .min(1)
    .default(path.join(tmpdir(), 'ecs-model-serving', 'models')),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_BODY_BYTES: int(1024).default(32 * 1024 * 1024),
  MAX_IMAGE_BYTES: int(1024).default(20 * 1024 * 1024),
  MAX_IMAGE_PIXELS: int(1).default(50_000_000),
  DECODE_TIMEOUT_MS: int(100, 600_000).default(10_000),
  MAX_IMAGES_PER_REQUEST: int(1, 1024).default(16),
  MAX_QUEUE: int(1, 100_000).default(64),
  MAX_BATCH_SIZE: int(1, 256).default(8),
  BATCH_DELAY_MS: int(0, 1000).default(0),
  MAX_ADMISSION_WAIT_MS: int(0, 60_000).default(1000),
  REQUEST_TIMEOUT_MS: int(100, 600_000).default(30_000),
  API_KEYS: z.string().optional(),
  API_KEYS_FILE: z.string().min(1).optional(),
  CORS_ORIGINS: z.string().optional(),
  INFERENCE_THREADS: int(1, 256).default(availableParallelism()),
  INFERENCE_NICENESS: int(0, 19).default(DEFAULT_INFERENCE_NICENESS),
  DECODE_NICENESS: int(0, 19).default(DEFAULT_DECODE_NICENESS),
  DRAIN_DELAY_S: seconds.default(0),
  SHUTDOWN_TIMEOUT_S: seconds.default(25),
})

/** Validated, frozen server configuration. */
export type Config = Readonly<z.infer<typeof EnvSchema>>

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
 * Reads the configuration once at start. Throws a ConfigError listing every invalid variable.
 * @example const config = loadConfig(process.env)
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const values = withoutEmpty(env)
  const parsed = EnvSchema.safeParse(values)
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
export function readApiKeys(config: Config): string[] {
  const fromFile = config.API_KEYS_FILE
    ? readFileSync(config.API_KEYS_FILE, 'utf8')
        .split('\n')
        .map((k) => k.trim())
        .filter((k) => k !== '')
    : []
  return [...splitList(config.API_KEYS), ...fromFile]
}
