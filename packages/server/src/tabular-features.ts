/**
 * A tabular bundle's `features.json`: the model's input columns in order, each with an optional
 * range, and the checks of one request's instances against it (every problem listed at once).
 */
import { z } from 'zod'

/** One input column. */
export interface Feature {
  readonly name: string
  /** Smallest accepted value (inclusive), when set. */
  readonly min?: number | undefined
  readonly max?: number | undefined
  readonly description?: string | undefined
}

const FeatureSchema = z
  .strictObject({
    name: z.string().min(1),
    min: z.number().optional(),
    max: z.number().optional(),
    description: z.string().optional(),
  })
  .refine((f) => f.min === undefined || f.max === undefined || f.min <= f.max, {
    message: 'min is above max',
  })

const FeaturesFile = z.strictObject({ features: z.array(FeatureSchema).min(1) })

/** Parses `features.json` (already JSON-decoded); throws with every problem listed. */
export function parseFeatures(json: unknown): readonly Feature[] {
  const parsed = FeaturesFile.safeParse(json)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`)
    throw new Error(`Invalid features.json: ${issues.join('; ')}`)
  }
  const names = parsed.data.features.map((f) => f.name)
  const twice = names.filter((n, i) => names.indexOf(n) !== i)
  if (twice.length > 0) throw new Error(`Invalid features.json: duplicate ${twice.join(', ')}`)
  return Object.freeze(parsed.data.features.map((f) => Object.freeze(f)))
}

/** One thing wrong with one instance of a request. */
export interface InstanceProblem {
  /** Index of the instance in `instances`. */
  readonly instance: number
  /** The feature (or unknown field) concerned; absent when the instance itself is malformed. */
  readonly field?: string
  readonly problem: string
}

const describe = (value: unknown): string =>
  value === null ? 'null' : typeof value === 'string' ? `"${value}"` : typeof value

/** Checks one value against its feature. */
function checkValue(feature: Feature, value: unknown): string | undefined {
  if (typeof value !== 'number') return `must be a number; got ${describe(value)}`
  if (!Number.isFinite(value)) return 'must be finite'
  if (feature.min !== undefined && value < feature.min) return `${value} is below ${feature.min}`
  if (feature.max !== undefined && value > feature.max) return `${value} is above ${feature.max}`
  return undefined
}

/**
 * Turns instances (objects keyed by feature name, or arrays in feature order) into float32 rows;
 * returns the problems instead when there is any (missing, extra, non-numeric, out of range).
 */
export function instancesToRows(
  features: readonly Feature[],
  instances: readonly unknown[]
): { rows: Float32Array[] } | { problems: InstanceProblem[] } {
  const problems: InstanceProblem[] = []
  const rows = instances.map((instance, i) => {
    const row = new Float32Array(features.length)
    const add = (problem: string, field?: string): void => {
      problems.push(
        field === undefined ? { instance: i, problem } : { instance: i, field, problem }
      )
    }
    if (Array.isArray(instance)) {
      if (instance.length !== features.length) {
        add(`has ${instance.length} values; the model takes ${features.length}, in features order`)
      }
      features.forEach((feature, f) => {
        if (f >= instance.length) return
        const problem = checkValue(feature, instance[f])
        if (problem) add(problem, feature.name)
        else row[f] = instance[f] as number
      })
      return row
    }
    if (typeof instance !== 'object' || instance === null) {
      add(`must be an object keyed by feature name or an array; got ${describe(instance)}`)
      return row
    }
    const record = instance as Record<string, unknown>
    features.forEach((feature, f) => {
      if (!Object.hasOwn(record, feature.name)) {
        add('is missing', feature.name)
        return
      }
      const problem = checkValue(feature, record[feature.name])
      if (problem) add(problem, feature.name)
      else row[f] = record[feature.name] as number
    })
    const known = new Set(features.map((f) => f.name))
    for (const key of Object.keys(record)) if (!known.has(key)) add('is not a feature', key)
    return row
  })
  return problems.length > 0 ? { problems } : { rows }
}
