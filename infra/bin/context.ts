/** Typed, validated reads of CDK context (`cdk synth -c key=value` or cdk.json). */
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Node } from 'constructs'

/** Reads context values and collects every problem, so one run reports them all. */
export interface ContextReader {
  /** A non-empty string, or undefined when the key is unset. */
  string(key: string): string | undefined
  /** An integer in `min..max` (a number, or a string of digits from `-c`), or undefined. */
  int(key: string, min: number, max: number): number | undefined
  /** One of `values`, or undefined. */
  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined
  /** Throws one error listing every problem found so far. */
  assertValid(): void
}

/**
 * A reader over `node`'s context.
 * @example const ctx = contextReader(app.node); const tag = ctx.string('resnet:imageTag')
 */
export function contextReader(node: Node): ContextReader {
  const problems: string[] = []
  const raw = (key: string): unknown => node.tryGetContext(key)
  const string = (key: string): string | undefined => {
    const value = raw(key)
    if (value === undefined) return undefined
    if (typeof value === 'string' && value.length > 0) return value
    problems.push(`context '${key}' must be a non-empty string, got ${JSON.stringify(value)}`)
    return undefined
  }
  return {
    string,
    int(key, min, max) {
      const value = raw(key)
      if (value === undefined) return undefined
      const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value
      if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return n
      problems.push(
        `context '${key}' must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`
      )
      return undefined
    },
    oneOf<T extends string>(key: string, values: readonly T[]) {
      const value = string(key)
      if (value === undefined) return undefined
      if ((values as readonly string[]).includes(value)) return value as T
      problems.push(`context '${key}' must be one of ${values.join(', ')}, got '${value}'`)
      return undefined
    },
    assertValid() {
      if (problems.length > 0) {
        throw new Error(`Invalid CDK context:\n  - ${problems.join('\n  - ')}`)
      }
    },
  }
}

/**
 * The monorepo root (the folder holding pnpm-workspace.yaml) above `start`. Works both from
 * `bin/` (tests on sources) and `dist/bin/` (`cdk synth` runs the compiled app).
 * @example findRepoRoot(path.dirname(fileURLToPath(import.meta.url)))
 */
export function findRepoRoot(start: string): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir
    if (path.dirname(dir) === dir) {
      throw new Error(
        `No pnpm-workspace.yaml found above ${start}: cannot locate the repository root`
      )
    }
  }
}
