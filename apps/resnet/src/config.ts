/** The only reader of process.env: validates every setting at once and freezes the result. */
import { availableParallelism, tmpdir } from 'node:os'
import path from 'node:path'
import { DEFAULT_DECODE_NICENESS, DEFAULT_INFERENCE_NICENESS, parseEnv } from '@resnet/server'
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

export { ConfigError, readApiKeys, splitList } from '@resnet/server'

/**
 * Reads the configuration once at start. Throws a ConfigError listing every invalid variable.
 * @example const config = loadConfig(process.env)
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseEnv(EnvSchema, env)
}
