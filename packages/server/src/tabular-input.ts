/** The tabular input adapter: JSON rows (by feature name, or arrays) -> float32 [N, F] rows. */
import type { Context } from 'hono'
import { ApiError } from './http-errors.js'
import type { InputAdapter } from './input-adapter.js'
import { instancesToRows } from './tabular-features.js'
import type { Feature, InstanceProblem } from './tabular-features.js'

/** The most problems listed in one error message (all are in `error.problems`). */
const MESSAGE_PROBLEMS = 5

const problemText = (p: InstanceProblem): string =>
  `instance ${p.instance}${p.field === undefined ? '' : ` "${p.field}"`}: ${p.problem}`

async function readInstances(c: Context, maxRows: number): Promise<unknown[]> {
  const type = c.req.header('content-type') ?? ''
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(
      'UNSUPPORTED_MEDIA_TYPE',
      'Send application/json: {"instances": [{"<feature>": <number>, ...}, ...]}'
    )
  }
  const body = (await c.req.json().catch(() => {
    throw new ApiError('BAD_REQUEST', 'The body is not valid JSON')
  })) as unknown
  const instances: unknown = (body as { instances?: unknown } | null)?.instances
  if (!Array.isArray(instances) || instances.length === 0) {
    throw new ApiError(
      'INVALID_INSTANCES',
      'The body must be {"instances": [...]} with at least one'
    )
  }
  if (instances.length > maxRows) {
    throw new ApiError(
      'TOO_MANY_INSTANCES',
      `${instances.length} instances sent; the limit is ${maxRows} per request`
    )
  }
  return instances as unknown[]
}

/** Limits of the tabular adapter. */
export interface TabularInputOptions {
  /** Most instances in one request (413 above). */
  readonly maxRows: number
}

/**
 * Rows as `POST /predict` takes them for a tabular model: `{"instances": [...]}`, each an object
 * keyed by feature name or an array in features.json order. Any missing, extra, non-numeric or
 * out-of-range field is a 400 INVALID_INSTANCES listing every problem; the answer gives each
 * instance's most likely class and every class probability.
 */
export function tabularInput(
  features: readonly Feature[],
  labels: readonly string[],
  options: TabularInputOptions
): InputAdapter {
  return {
    kind: 'tabular',
    tensor: { dtype: 'float32', itemDims: [features.length] },
    allocate: (n) => ({
      dtype: 'float32',
      dims: [n, features.length],
      data: new Float32Array(n * features.length),
    }),
    describe: () => ({ features, labels }),
    usage: 'POST /predict (application/json {"instances": [{"<feature>": <number>, ...}]})',
    accept: () => async (c) => {
      const instances = await readInstances(c, options.maxRows)
      return {
        count: instances.length,
        prepare: () => {
          const started = performance.now()
          const checked = instancesToRows(features, instances)
          if ('problems' in checked) {
            const { problems } = checked
            const shown = problems.slice(0, MESSAGE_PROBLEMS).map(problemText).join('; ')
            const more = problems.length > MESSAGE_PROBLEMS ? '; …' : ''
            const message = `${problems.length} problem(s) in the instances: ${shown}${more}`
            throw new ApiError('INVALID_INSTANCES', message, undefined, problems)
          }
          const items = checked.rows.map((row) => new Uint8Array(row.buffer))
          return Promise.resolve({ items, ms: performance.now() - started })
        },
        respond: (rows) => ({
          predictions: rows.map((row) => {
            let index = 0
            for (let i = 1; i < row.length; i++) if (row[i]! > row[index]!) index = i
            const probabilities = Object.fromEntries(
              Array.from(row, (p, i) => [labels[i] ?? `class_${i}`, p])
            )
            return { label: labels[index] ?? `class_${index}`, index, probabilities }
          }),
        }),
      }
    },
  }
}
