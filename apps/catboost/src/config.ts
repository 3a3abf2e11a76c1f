/** The only reader of process.env: validates every setting at once and freezes the result. */
import { COMMON_ENV, envInt as int, parseEnv } from '@resnet/server'
import { z } from 'zod'

/**
 * Rows are cheap (microseconds each through the trees), so batches and the queue are counted in
 * rows and are far larger than the image app's: 512 rows a run, 8192 waiting.
 */
const EnvSchema = z.object({
  ...COMMON_ENV,
  MODEL_URI: z.string().trim().min(1, 'set it to the bundle (s3://bucket/prefix/ or a path)'),
  MAX_BODY_BYTES: int(1024).default(4 * 1024 * 1024),
  MAX_ROWS_PER_REQUEST: int(1, 100_000).default(1024),
  MAX_QUEUE: int(1, 1_000_000).default(8192),
  MAX_BATCH_SIZE: int(1, 65_536).default(512),
  REQUEST_TIMEOUT_MS: int(100, 600_000).default(10_000),
})

/** Validated, frozen server configuration. */
export type Config = Readonly<z.infer<typeof EnvSchema>>

/** Reads the configuration once at start; throws a ConfigError listing every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseEnv(EnvSchema, env)
}
