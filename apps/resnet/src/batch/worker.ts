/** A batch worker: one engine, shards run one after another (listed, or handed out over IPC). */
import type { S3Client } from '@aws-sdk/client-s3'
import type { Logger } from 'pino'
import type { BatchEngine } from './engine.js'
import { readPlan } from './plan.js'
import type { Progress } from './progress.js'
import type { S3Location } from './s3-location.js'
import { outcomeOf, runShard } from './shard-runner.js'
import type { CoordinatorMessage, WorkerMessage } from './worker-messages.js'

/** What a worker runs with. */
export interface WorkerContext {
  readonly s3: S3Client
  readonly engine: BatchEngine
  readonly logger: Logger
  readonly output: S3Location
  readonly topK: number
}

/** The listed shards of the plan, in this process; resolves with the images of failed shards. */
export async function workListed(
  ctx: WorkerContext,
  shards: readonly string[],
  progress: Progress
): Promise<{ planned: number; failed: number }> {
  const plan = new Map((await readPlan(ctx.s3, ctx.output)).map((s) => [s.shard, s.images]))
  const planned = shards.reduce((n, s) => n + (plan.get(s) ?? 0), 0)
  progress.start(planned)
  let failed = 0
  for (const shard of shards) {
    try {
      const result = await runShard(ctx.s3, ctx.engine, ctx.output, shard, ctx.topK, (record) => {
        progress.record(outcomeOf(record))
      })
      if (result.skipped) progress.skip(plan.get(shard) ?? 0)
      ctx.logger.info({ shard, skipped: result.skipped }, 'shard complete')
    } catch (err) {
      failed += plan.get(shard) ?? 0
      ctx.logger.error({ err, shard }, 'shard failed; a rerun redoes it')
    }
  }
  return { planned, failed }
}

/** Takes shards from the coordinator (`process.send`) until it says exit. */
export function workForCoordinator(ctx: WorkerContext): Promise<void> {
  const send = (message: WorkerMessage): void => {
    process.send!(message)
  }
  return new Promise((resolve) => {
    process.on('message', (message: CoordinatorMessage) => {
      if (message.type === 'exit') {
        resolve()
        return
      }
      const { shard } = message
      runShard(ctx.s3, ctx.engine, ctx.output, shard, ctx.topK, (record) => {
        send({ type: 'record', outcome: outcomeOf(record) })
      }).then(
        (result) => {
          send({ type: 'shard-done', result })
        },
        (err: unknown) => {
          ctx.logger.error({ err, shard }, 'shard failed')
          send({ type: 'shard-failed', shard, message: String(err) })
        }
      )
    })
    // the coordinator disappearing (killed) ends this worker too
    process.on('disconnect', () => process.exit(1))
    send({ type: 'ready' })
  })
}
