/** The batch command line: `batch [run|plan|work] --input … --output …` (node:util parseArgs). */
import { parseArgs } from 'node:util'
import type { InputSource } from './plan.js'
import { parseS3Uri, UsageError } from './s3-location.js'
import type { S3Location } from './s3-location.js'

/** Usage, printed for --help and after a usage error. */
export const USAGE = `Usage:
  batch [run] (--input s3://bucket/prefix/ | --manifest s3://bucket/keys.txt)
              --output s3://bucket/prefix/ [--workers N] [--shard-size N] [--top-k K]
      plan the job (once) and classify every shard not yet done, with N worker processes
  batch plan  (--input … | --manifest …) --output … [--shard-size N]
      only write the plan: <output>_plan/shards.json (the Step Functions item list)
  batch work  --output … --shards 00000,00001 | --shards '[{"shard":"00000"}]' [--top-k K]
      classify the listed shards in this process (one ECS task of a distributed job)

Results: <output>results/shard-NNNNN.jsonl, one line per image. Exit codes: 0 every image
classified, 2 some images failed (error lines), 1 the job did not finish (rerun it) or bad usage.
The model and limits come from the server's environment (MODEL_URI, MAX_BATCH_SIZE, …).`

/** A parsed command. */
export type BatchCommand =
  | {
      readonly kind: 'run'
      readonly input: InputSource
      readonly output: S3Location
      readonly workers: number
      readonly shardSize: number
      readonly topK: number
    }
  | {
      readonly kind: 'plan'
      readonly input: InputSource
      readonly output: S3Location
      readonly shardSize: number
    }
  | {
      readonly kind: 'work'
      readonly output: S3Location
      /** Shard names; empty with `ipc` (the parent hands them out). */
      readonly shards: readonly string[]
      readonly topK: number
      readonly ipc: boolean
    }
  | { readonly kind: 'help' }

const OPTIONS = {
  input: { type: 'string' },
  manifest: { type: 'string' },
  output: { type: 'string' },
  workers: { type: 'string', default: '1' },
  'shard-size': { type: 'string', default: '500' },
  'top-k': { type: 'string', default: '5' },
  shards: { type: 'string' },
  ipc: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const

function integer(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}; got "${raw}"`)
  }
  return n
}

function inputOf(values: { input?: string; manifest?: string }): InputSource {
  if ((values.input === undefined) === (values.manifest === undefined)) {
    throw new UsageError('Give exactly one of --input s3://bucket/prefix/ or --manifest s3://…')
  }
  return values.input !== undefined
    ? { kind: 'prefix', location: parseS3Uri(values.input, true) }
    : { kind: 'manifest', location: parseS3Uri(values.manifest!, false) }
}

/** `00001,00002`, or Step Functions' item batch `[{"shard":"00001"},…]`. */
function shardList(raw: string): string[] {
  const names = raw.trim().startsWith('[')
    ? (JSON.parse(raw) as { shard: string }[]).map((item) => item.shard)
    : raw.split(',').map((s) => s.trim())
  for (const name of names) {
    if (!/^\d{5,}$/.test(name)) throw new UsageError(`Not a shard name: "${name}"`)
  }
  return names
}

/** Parses argv (without node and the script); throws UsageError on bad usage. */
export function parseBatchArgs(argv: readonly string[]): BatchCommand {
  const [first] = argv
  const verb = first === 'run' || first === 'plan' || first === 'work' ? first : undefined
  let parsed
  try {
    parsed = parseArgs({ args: verb ? argv.slice(1) : [...argv], options: OPTIONS, strict: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const { values } = parsed
  if (values.help) return { kind: 'help' }
  if (values.output === undefined) throw new UsageError('--output s3://bucket/prefix/ is required')
  const output = parseS3Uri(values.output, true)
  const shardSize = integer('shard-size', values['shard-size'], 1, 100_000)
  const topK = integer('top-k', values['top-k'], 1, 1000)
  if (verb === 'plan') return { kind: 'plan', input: inputOf(values), output, shardSize }
  if (verb === 'work') {
    if (!values.ipc && values.shards === undefined) throw new UsageError('--shards is required')
    const shards = values.shards === undefined ? [] : shardList(values.shards)
    return { kind: 'work', output, shards, topK, ipc: values.ipc }
  }
  const workers = integer('workers', values.workers, 1, 64)
  return { kind: 'run', input: inputOf(values), output, workers, shardSize, topK }
}
