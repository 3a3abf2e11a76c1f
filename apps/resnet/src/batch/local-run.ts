/**
 * `batch run`: plans the job, then hands its unfinished shards to N worker processes (the same
 * entry point, `work --ipc`) one at a time. A worker that dies (OOM, kill -9) is replaced and its
 * shard handed out again (twice at most); its partial output never became visible.
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import type { S3Client } from '@aws-sdk/client-s3'
import type { Logger } from 'pino'
import type { BatchCommand } from './args.js'
import { ensurePlan } from './plan.js'
import { Progress } from './progress.js'
import type { BatchSummary } from './progress.js'
import { s3Uri } from './s3-location.js'
import { isShardDone, shardOutput } from './shard-output.js'
import { orderedMap } from './shard-runner.js'
import type { CoordinatorMessage, WorkerMessage } from './worker-messages.js'

/** How the coordinator starts its workers. */
export interface LocalRunOptions {
  readonly s3: S3Client
  readonly logger: Logger
  readonly interactive: boolean
  /** The batch entry script, forked with `work --ipc`. */
  readonly script: string
  /** The workers' environment (the server settings; threads split between workers if unset). */
  readonly env: NodeJS.ProcessEnv
}

/** Most attempts at one shard: a shard that kills two workers is left for a rerun. */
const MAX_ATTEMPTS = 2

type RunCommand = Extract<BatchCommand, { kind: 'run' }>

/** Plans, runs every unfinished shard and returns the summary. */
export async function runLocal(cmd: RunCommand, options: LocalRunOptions): Promise<BatchSummary> {
  const { s3, logger } = options
  const plan = await ensurePlan(s3, cmd.input, cmd.output, cmd.shardSize)
  const planned = plan.shards.reduce((n, s) => n + s.images, 0)
  logger.info(
    { output: s3Uri(cmd.output), shards: plan.shards.length, images: planned },
    plan.reused ? 'plan found: resuming' : 'plan written'
  )
  const progress = new Progress({ logger, interactive: options.interactive })
  progress.start(planned)
  const done = orderedMap(plan.shards, 16, async (s) => ({
    ...s,
    done: await isShardDone(s3, shardOutput(cmd.output, s.shard)),
  }))
  const queue: string[] = []
  const images = new Map<string, number>()
  for await (const s of done) {
    images.set(s.shard, s.images)
    if (s.done) progress.skip(s.images)
    else queue.push(s.shard)
  }
  await new Coordinator(cmd, options, progress, queue).finished
  return progress.finish(planned)
}

/** Hands out shards, replaces dead workers, resolves once every worker has exited. */
class Coordinator {
  readonly finished: Promise<void>
  readonly #cmd: RunCommand
  readonly #options: LocalRunOptions
  readonly #progress: Progress
  readonly #queue: string[]
  readonly #attempts = new Map<string, number>()
  readonly #current = new Map<ChildProcess, string | undefined>()
  /** Outcomes of each worker's current shard, taken back if it dies before the upload. */
  readonly #partial = new Map<ChildProcess, Record<string, number>>()
  #resolve!: () => void

  constructor(cmd: RunCommand, options: LocalRunOptions, progress: Progress, queue: string[]) {
    this.#cmd = cmd
    this.#options = options
    this.#progress = progress
    this.#queue = queue
    this.finished = new Promise((resolve) => (this.#resolve = resolve))
    const workers = Math.min(cmd.workers, queue.length)
    for (let i = 0; i < workers; i++) this.#spawn()
    if (workers === 0) this.#resolve()
  }

  #spawn(): void {
    const { cmd, env } = { cmd: this.#cmd, env: this.#options.env }
    const threads = Math.max(1, Math.floor(availableParallelism() / cmd.workers))
    const args = ['work', '--ipc', '--output', s3Uri(cmd.output), '--top-k', String(cmd.topK)]
    const child = fork(this.#options.script, args, {
      env: {
        INFERENCE_THREADS: String(threads),
        // a progress bar owns the terminal: workers say only what went wrong
        ...(this.#options.interactive ? { LOG_LEVEL: 'warn' } : {}),
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.#current.set(child, undefined)
    this.#options.logger.info({ pid: child.pid }, 'worker started')
    child.on('message', (message: WorkerMessage) => {
      this.#onMessage(child, message)
    })
    child.on('exit', (code, signal) => {
      this.#onExit(child, code, signal)
    })
  }

  #next(child: ChildProcess): void {
    const shard = this.#queue.shift()
    this.#current.set(child, shard)
    this.#partial.set(child, {})
    const message: CoordinatorMessage = shard ? { type: 'shard', shard } : { type: 'exit' }
    if (shard) this.#attempts.set(shard, (this.#attempts.get(shard) ?? 0) + 1)
    child.send(message)
  }

  #onMessage(child: ChildProcess, message: WorkerMessage): void {
    if (message.type === 'record') {
      this.#progress.record(message.outcome)
      const partial = this.#partial.get(child)!
      partial[message.outcome] = (partial[message.outcome] ?? 0) + 1
      return
    }
    if (message.type === 'shard-failed') {
      this.#progress.forget(this.#partial.get(child) ?? {})
      this.#options.logger.error({ shard: message.shard }, message.message)
      this.#retry(message.shard)
    }
    this.#next(child)
  }

  #retry(shard: string): void {
    if ((this.#attempts.get(shard) ?? 0) < MAX_ATTEMPTS) this.#queue.push(shard)
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const shard = this.#current.get(child)
    this.#current.delete(child)
    if (shard !== undefined) {
      this.#options.logger.error(
        { pid: child.pid, code, signal, shard },
        'worker died mid-shard; its partial output was never made visible'
      )
      this.#progress.forget(this.#partial.get(child) ?? {})
      this.#retry(shard)
    }
    this.#partial.delete(child)
    if (this.#queue.length > 0 && shard !== undefined) this.#spawn()
    else if (this.#current.size === 0) this.#resolve()
  }
}
