/**
 * The batch entry point (`node dist/batch.js …`, the same image as the server with a command
 * override): classifies every image under an S3 prefix into JSON Lines in S3. See batch/args.ts.
 */
import { fileURLToPath } from 'node:url'
import { S3Client } from '@aws-sdk/client-s3'
import { pino } from 'pino'
import { parseBatchArgs, USAGE } from './batch/args.js'
import type { BatchCommand } from './batch/args.js'
import { openEngine } from './batch/engine.js'
import { runLocal } from './batch/local-run.js'
import { ensurePlan } from './batch/plan.js'
import { Progress } from './batch/progress.js'
import type { BatchSummary } from './batch/progress.js'
import { s3Uri, UsageError } from './batch/s3-location.js'
import { workForCoordinator, workListed } from './batch/worker.js'
import { ConfigError, loadConfig } from './config.js'
import type { Config } from './config.js'

function fail(message: string): never {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}

let cmd: BatchCommand
let config: Config
try {
  cmd = parseBatchArgs(process.argv.slice(2))
  config = loadConfig(process.env)
} catch (err) {
  if (err instanceof UsageError) fail(`${err.message}\n\n${USAGE}`)
  fail(err instanceof ConfigError ? err.message : String(err))
}
if (cmd.kind === 'help') {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}

const interactive = process.stderr.isTTY
// a progress bar owns the terminal: only problems are logged there, unless LOG_LEVEL says otherwise
const level = interactive && process.env.LOG_LEVEL === undefined ? 'warn' : config.LOG_LEVEL
const logger = pino({ level, base: { service: 'ecs-model-serving-batch' } })
const s3 = new S3Client({})

/** 0: every image classified; 2: some images failed; 1: the job did not finish. */
const exitCodeOf = (summary: BatchSummary): number =>
  summary.unfinished > 0 ? 1 : Object.keys(summary.outcomes).some((o) => o !== 'ok') ? 2 : 0

async function main(command: Exclude<BatchCommand, { kind: 'help' }>): Promise<number> {
  if (command.kind === 'plan') {
    const plan = await ensurePlan(s3, command.input, command.output, command.shardSize)
    logger.info({ shards: plan.shards.length, reused: plan.reused }, 'plan ready')
    return 0
  }
  if (command.kind === 'run') {
    const script = fileURLToPath(import.meta.url)
    const summary = await runLocal(command, { s3, logger, interactive, script, env: process.env })
    if (interactive) process.stderr.write(`${JSON.stringify(summary, null, 2)}\n`)
    if (summary.unfinished > 0) {
      logger.error(`${summary.unfinished} images not done: rerun the same command to finish`)
    }
    logger.info({ results: `${s3Uri(command.output)}results/` }, 'batch finished')
    return exitCodeOf(summary)
  }
  const engine = await openEngine(config, logger)
  const ctx = { s3, engine, logger, output: command.output, topK: command.topK }
  if (command.ipc) {
    await workForCoordinator(ctx)
    return 0
  }
  const progress = new Progress({ logger, interactive })
  const { planned, failed } = await workListed(ctx, command.shards, progress)
  progress.finish(planned)
  // item errors are in the output (and the summary); a failed shard fails the task
  return failed > 0 ? 1 : 0
}

main(cmd).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) fail(err.message)
    logger.fatal({ err }, 'batch failed')
    process.exit(1)
  }
)
