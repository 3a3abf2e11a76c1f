// (a) The engine limit: decode + preprocess + inference in this process, no HTTP. Several batches
// in flight, so decoding the next batch (decode worker + libuv pool) overlaps inference of the
// current one (inference worker); the same code paths the server uses (WorkerDecoder, the shared
// pixel slots, createOnnxModel's runImages), minus HTTP, admission and the batcher.
import { DEFAULT_DECODE_LIMITS } from '@resnet/preprocess'
import type { ModelConfig } from '@resnet/preprocess'
import { createOnnxModel, lowerDecodePriority, WorkerDecoder } from '@resnet/server'
import type { ImageModel } from '@resnet/server'
import { cpus } from 'node:os'
import { threadCpu, threadCpuSince } from '../src/batch/thread-cpu.ts'
import { machineTicks, waitForQuiet } from './util.ts'

const decoder = new WorkerDecoder()

export interface EngineRun {
  readonly threads: number
  readonly batchSize: number
  readonly inFlight: number
  readonly images: number
  readonly seconds: number
  readonly imagesPerS: number
  /** CPU this process used (cores) and other processes used meanwhile (interference). */
  readonly ownCpuCores: number
  readonly othersCpuCores: number
  /** CPU seconds of this process's threads by name meanwhile (batch.bench.ts compares them). */
  readonly threadCpuS: Readonly<Record<string, number>>
}

export interface EngineResult {
  readonly sweep: readonly EngineRun[]
  /** The best sweep setting run again for longer, with 2 and 1 intra-op threads. */
  readonly confirm: readonly EngineRun[]
  /** The best images/s of all runs (sweep and confirm): the engine limit used for the ratios. */
  readonly best: EngineRun
}

async function measure(
  model: ImageModel,
  image: Uint8Array,
  threads: number,
  batchSize: number,
  inFlight: number,
  seconds: number,
  decodeNiceness: number | undefined
): Promise<EngineRun> {
  const input = model.config.input
  const oneBatch = async (): Promise<void> => {
    // a fresh copy of the upload per image, as the server reads each request body
    const uploads = Array.from({ length: batchSize }, () => image.slice())
    const pixels = await Promise.all(
      uploads.map((upload) => decoder.decode([upload], input, DEFAULT_DECODE_LIMITS)[0]!)
    )
    await model.runImages(pixels)
  }
  await waitForQuiet(undefined, 4000)
  // warm-up: one round per lane (allocations, first runs at this batch size)
  await Promise.all(Array.from({ length: inFlight }, oneBatch))
  // libuv's pool (where sharp decodes) has started by now
  if (decodeNiceness !== undefined) lowerDecodePriority(decodeNiceness)
  let images = 0
  const cpu0 = process.cpuUsage()
  const threads0 = threadCpu()
  const machine0 = machineTicks()
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  const lane = async (): Promise<void> => {
    for (let i = 0; i < 100_000 && performance.now() < end; i++) {
      await oneBatch()
      images += batchSize
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane))
  const elapsed = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const threadCpuS = threadCpuSince(threads0)
  const machine1 = machineTicks()
  const busyCores =
    ((machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total)) * cpus().length
  const ownCpuCores = (cpu.user + cpu.system) / 1e6 / elapsed
  return {
    threads,
    batchSize,
    inFlight,
    images,
    seconds: elapsed,
    imagesPerS: images / elapsed,
    ownCpuCores,
    othersCpuCores: Math.max(0, busyCores - ownCpuCores),
    threadCpuS,
  }
}

export interface EngineOptions {
  readonly modelPath: string
  readonly config: ModelConfig
  readonly image: Uint8Array
  readonly batchSizes: readonly number[]
  readonly inFlights: readonly number[]
  readonly sweepSeconds: number
  readonly confirmSeconds: number
  /**
   * Nice value for libuv's pool threads (where sharp decodes), as the server and the batch task
   * set it (DECODE_NICENESS); unset leaves them at the process's. On a shared machine a lower
   * priority loses CPU to other processes, so a side-by-side comparison sets the same on both.
   */
  readonly decodeNiceness?: number
  /** Intra-op threads of the sweep (default 2, the machine's cores; a pinned bench: its CPUs). */
  readonly threads?: number
  readonly log: (line: string) => void
}

async function withModel<T>(
  options: EngineOptions,
  threads: number,
  fn: (model: ImageModel) => Promise<T>
): Promise<T> {
  const model = await createOnnxModel({
    modelPath: options.modelPath,
    config: options.config,
    labels: [],
    identity: { name: 'bench', version: '0', sha256: '' },
    threads,
  })
  try {
    return await fn(model)
  } finally {
    await model.close()
  }
}

/** One engine measurement at a given setting (model opened and closed around it). */
export function measureEngine(
  options: EngineOptions,
  threads: number,
  batchSize: number,
  inFlight: number,
  seconds: number
): Promise<EngineRun> {
  return withModel(options, threads, (model) =>
    measure(model, options.image, threads, batchSize, inFlight, seconds, options.decodeNiceness)
  )
}

/** Sweeps batch size x in-flight count (2 threads unless set), then confirms the best with those and 1. */
export async function engineLimit(options: EngineOptions): Promise<EngineResult> {
  const { image, sweepSeconds, confirmSeconds, log } = options
  const threads = options.threads ?? 2
  const sweep = await withModel(options, threads, async (model) => {
    const runs: EngineRun[] = []
    for (const b of options.batchSizes) {
      for (const f of options.inFlights) {
        const run = await measure(model, image, threads, b, f, sweepSeconds, options.decodeNiceness)
        log(
          `  engine threads=${threads} batch=${b} in-flight=${f}: ${run.imagesPerS.toFixed(1)} images/s`
        )
        runs.push(run)
      }
    }
    return runs
  })
  const top = sweep.reduce((a, b) => (b.imagesPerS > a.imagesPerS ? b : a))
  const confirm: EngineRun[] = []
  for (const confirmThreads of new Set([threads, 1])) {
    const run = await withModel(options, confirmThreads, (model) =>
      measure(
        model,
        image,
        confirmThreads,
        top.batchSize,
        top.inFlight,
        confirmSeconds,
        options.decodeNiceness
      )
    )
    log(
      `  engine confirm threads=${confirmThreads} batch=${top.batchSize} in-flight=${top.inFlight}: ` +
        `${run.imagesPerS.toFixed(1)} images/s`
    )
    confirm.push(run)
  }
  // the limit: the best of every run (on a noisy machine this leans high, which makes the
  // server's ratio to it conservative)
  const best = [...sweep, ...confirm].reduce((a, b) => (b.imagesPerS > a.imagesPerS ? b : a))
  return { sweep, confirm, best }
}
