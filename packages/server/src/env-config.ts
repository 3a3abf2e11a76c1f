/** Reading an app's environment: every invalid variable listed at once, empty strings unset. */
import { readFileSync } from 'node:fs'
import type { z } from 'zod'

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
