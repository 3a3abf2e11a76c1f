/** The only reader of process.env: validates every setting at once and freezes the result. */
import { COMMON_ENV, DEFAULT_DECODE_NICENESS, envInt as int, parseEnv } from '@resnet/server'
import { z } from 'zod'

const EnvSchema = z.object({
  ...COMMON_ENV,
  MODEL_URI: z.string().trim().min(1).optional(),
  MODEL_POLL_INTERVAL_S: z.coerce.number().min(0).max(86_400).default(0),
  MAX_BODY_BYTES: int(1024).default(32 * 1024 * 1024),
  MAX_IMAGE_BYTES: int(1024).default(20 * 1024 * 1024),
  MAX_IMAGE_PIXELS: int(1).default(50_000_000),
  DECODE_TIMEOUT_MS: int(100, 600_000).default(10_000),
  MAX_IMAGES_PER_REQUEST: int(1, 1024).default(16),
  MAX_QUEUE: int(1, 100_000).default(64),
  MAX_BATCH_SIZE: int(1, 256).default(8),
  REQUEST_TIMEOUT_MS: int(100, 600_000).default(30_000),
  DECODE_NICENESS: int(0, 19).default(DEFAULT_DECODE_NICENESS),
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
