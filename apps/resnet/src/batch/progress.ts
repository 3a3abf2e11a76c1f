/**
 * Job progress: images done / total, rate and ETA as a progress bar on a terminal (cli-progress),
 * as a JSON log line every few seconds elsewhere (a container's log); a summary at the end.
 */
import { Presets, SingleBar } from 'cli-progress'
import type { Logger } from 'pino'
import { threadCpu, threadCpuSince } from './thread-cpu.js'

/** The end-of-job figures. */
export interface BatchSummary {
  /** Images in the plan. */
  readonly total: number
  /** Images classified by this run, by outcome (`ok` or the error code). */
  readonly outcomes: Readonly<Record<string, number>>
  /** Images in shards an earlier run had already completed. */
  readonly skipped: number
  /** Images of shards that did not complete (a rerun does them). */
  readonly unfinished: number
  readonly wallS: number
  readonly imagesPerS: number
  /** CPU seconds of this process meanwhile, all threads (`batch run`: the coordinator's only). */
  readonly cpuS: number
  /** The same by thread name (Linux): main thread, decode and inference workers, libuv's pool, V8's. */
  readonly threadCpuS: Readonly<Record<string, number>>
}

/** Where progress is shown; `interactive` picks the bar. */
export interface ProgressOptions {
  readonly logger: Logger
  readonly interactive: boolean
  /** @default 5000 */
  readonly logEveryMs?: number
}

/** Counts outcomes and shows progress while a job runs. */
export class Progress {
  readonly #options: ProgressOptions
  readonly #started = performance.now()
  readonly #cpu = process.cpuUsage()
  readonly #threadCpu = threadCpu()
  readonly #outcomes: Record<string, number> = {}
  #total = 0
  #skipped = 0
  #done = 0
  #bar: SingleBar | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(options: ProgressOptions) {
    this.#options = options
  }

  /** Starts showing progress for `total` images to classify. */
  start(total: number): void {
    this.#total = total
    if (this.#options.interactive) {
      this.#bar = new SingleBar(
        {
          format: '{bar} {value}/{total} images | {rate} images/s | ETA {eta_formatted}',
          etaBuffer: 200,
          hideCursor: true,
        },
        Presets.shades_classic
      )
      this.#bar.start(total, 0, { rate: '0.0' })
    } else {
      this.#timer = setInterval(() => {
        this.#log()
      }, this.#options.logEveryMs ?? 5000)
      this.#timer.unref()
    }
  }

  /** Images of shards already done by an earlier run: in the total, not in the rate. */
  skip(images: number): void {
    this.#skipped += images
    this.#bar?.setTotal(this.#total - this.#skipped)
  }

  /** Counts one classified image. */
  record(outcome: string): void {
    this.#outcomes[outcome] = (this.#outcomes[outcome] ?? 0) + 1
    this.#done++
    this.#bar?.update(this.#done, { rate: this.#rate().toFixed(1) })
  }

  /** Takes back the records of a shard whose output was never written (its worker died). */
  forget(outcomes: Readonly<Record<string, number>>): void {
    for (const [outcome, n] of Object.entries(outcomes)) {
      this.#outcomes[outcome] = (this.#outcomes[outcome] ?? 0) - n
      this.#done -= n
    }
    this.#bar?.update(this.#done)
  }

  #rate(): number {
    return this.#done / Math.max(1e-3, (performance.now() - this.#started) / 1000)
  }

  #log(): void {
    const rate = this.#rate()
    const left = this.#total - this.#skipped - this.#done
    this.#options.logger.info(
      {
        progress: {
          done: this.#done,
          total: this.#total - this.#skipped,
          imagesPerS: Number(rate.toFixed(1)),
          etaS: rate > 0 ? Math.round(left / rate) : null,
        },
      },
      'batch progress'
    )
  }

  /** Stops the display and logs the summary; `planned` is the plan's image count. */
  finish(planned: number): BatchSummary {
    this.#bar?.stop()
    clearInterval(this.#timer)
    const wallS = (performance.now() - this.#started) / 1000
    const cpu = process.cpuUsage(this.#cpu)
    const summary: BatchSummary = {
      total: planned,
      outcomes: Object.fromEntries(Object.entries(this.#outcomes).filter(([, n]) => n > 0)),
      skipped: this.#skipped,
      unfinished: planned - this.#skipped - this.#done,
      wallS: Number(wallS.toFixed(2)),
      imagesPerS: Number((this.#done / Math.max(1e-3, wallS)).toFixed(1)),
      cpuS: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
      threadCpuS: threadCpuSince(this.#threadCpu),
    }
    this.#options.logger.info({ summary }, 'batch summary')
    return summary
  }
}
