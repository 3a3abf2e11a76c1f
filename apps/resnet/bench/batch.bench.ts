// Batch mode vs the engine limit, side by side: alternating rounds of (a) the in-process engine at
// its best setting (engine.ts) and (b) one batch task (`node dist/batch.js work`, the ECS task's
// command) classifying a prefix of 640x480 JPEGs from s3rver on 127.0.0.1. The ratio is of the
// medians. With two or more CPUs the measured side (the engine, or the task) runs on its own CPU and
// s3rver (in this process) on the others during the task's rounds (cpu-pin.ts): real S3 costs a
// task none of its CPU. s3rver's CPU during (b) is reported.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import path from 'node:path'
import { parseModelConfig } from '@resnet/preprocess'
import { DEFAULT_DECODE_NICENESS } from '@resnet/server'
import { cpuSplit, onCpus, pinSelf, startLocalS3 } from '@resnet/test-support'
import type { LocalS3 } from '@resnet/test-support'
import { BATCH_NODE_FLAGS } from '../src/launch.ts'
import { engineLimit, measureEngine } from './engine.ts'
import type { EngineRun } from './engine.ts'
import { sharp } from './sharp.ts'
import { fmt, machineTicks, waitForQuiet } from './util.ts'

const APP_DIR = path.resolve(import.meta.dirname, '..')
const REPO = path.resolve(APP_DIR, '../..')
const FIXTURES = process.env.SHARED_FIXTURES_DIR ?? path.resolve(REPO, '../shared/fixtures')
const OUT_DIR = process.env.BENCH_OUT_DIR ?? path.join(REPO, '.artifacts', 'bench')
const QUICK = process.env.BENCH_QUICK === '1'
const MODEL_DIR = path.join(FIXTURES, 'models', 'mobilenetv2-int8')
/** BENCH_TASK_FLAGS='--cpu-prof': more Node flags for the task (profiling, GC settings). */
const TASK_FLAGS = (process.env.BENCH_TASK_FLAGS ?? '').split(' ').filter(Boolean)
/** BENCH_PIN=0: no pinning (both sides share every CPU with s3rver). */
const SPLIT = process.env.BENCH_PIN === '0' ? undefined : cpuSplit()

/** Every size of the run, reported with the results. */
const SETTINGS = {
  // listed in a manifest: s3rver answers a truncated listing (more than 1,000 keys) with a 500,
  // its continuation token uses DES, which OpenSSL 3 no longer offers; real S3 pages on. 4,000
  // images measured no better than 1,000 (0.83 against 0.88-0.92): a task's start is not the gap
  images: QUICK ? 200 : 1000,
  shardSize: 250,
  rounds: QUICK ? 1 : 5,
  engineBatchSizes: [4, 8],
  engineInFlights: [2, 3],
  engineSweepS: QUICK ? 0.4 : 1.2,
  engineRoundS: QUICK ? 1 : 3,
  /** The task's CPUs (INFERENCE_THREADS follows them, as infra sets it from the task's vCPUs). */
  cpus: SPLIT ? `task and engine on CPU ${SPLIT.task}, s3rver on CPU ${SPLIT.aws}` : 'not pinned',
  inferenceThreads: SPLIT?.taskCpus ?? 2,
  maxBatchSize: 8,
  maxQueue: 64,
  upload: '640x480 JPEG (kimono.jpg resized, quality 90)',
  quick: QUICK,
}

const log = (line: string): void => {
  process.stderr.write(`${line}\n`)
}
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

interface BatchRun {
  readonly images: number
  /** From the task's own summary: model loaded to last upload done. */
  readonly imagesPerS: number
  /** Process start to exit, model load included. */
  readonly wallS: number
  /** CPU milliseconds per image of the task (all its threads, model load excluded). */
  readonly cpuMsPerImage: number
  /** CPU of this process (s3rver) and of other processes than the task meanwhile, in cores. */
  readonly s3rverCores: number
  readonly othersCores: number
  /** The task's CPU seconds by thread name (its summary's `threadCpuS`). */
  readonly threadCpuS: Readonly<Record<string, number>>
}

function runTask(
  s3: LocalS3,
  args: string[],
  cacheDir: string
): Promise<{ code: number | null; output: string }> {
  const [command, ...argv] = onCpus(SPLIT?.task, [
    process.execPath,
    ...BATCH_NODE_FLAGS,
    ...TASK_FLAGS,
    path.join(APP_DIR, 'dist', 'batch.js'),
    ...args,
  ])
  const child = spawn(command!, argv, {
    env: {
      PATH: process.env.PATH,
      ...s3.env,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      MODEL_URI: MODEL_DIR,
      MODEL_CACHE_DIR: cacheDir,
      INFERENCE_THREADS: String(SETTINGS.inferenceThreads),
      MAX_BATCH_SIZE: String(SETTINGS.maxBatchSize),
      MAX_QUEUE: String(SETTINGS.maxQueue),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr.on('data', (c: Buffer) => (output += c.toString()))
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })))
}

async function batchRound(
  s3: LocalS3,
  round: number,
  shards: string,
  cacheDir: string
): Promise<BatchRun> {
  const output = `s3://results/round-${round}/`
  const plan = await runTask(
    s3,
    [
      'plan',
      '--manifest',
      's3://photos/keys.txt',
      '--output',
      output,
      '--shard-size',
      String(SETTINGS.shardSize),
    ],
    cacheDir
  )
  if (plan.code !== 0) throw new Error(`plan failed: ${plan.output}`)
  if (SPLIT) pinSelf(SPLIT.aws) // s3rver off the task's CPU
  await waitForQuiet(undefined, 4000)
  const cpu0 = process.cpuUsage()
  const m0 = machineTicks()
  const t0 = performance.now()
  const task = await runTask(s3, ['work', '--output', output, '--shards', shards], cacheDir)
  const wallS = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const m1 = machineTicks()
  if (task.code !== 0) throw new Error(`batch task failed: ${task.output}`)
  const line = task.output.split('\n').find((l) => l.includes('"batch summary"'))
  const summary = (
    JSON.parse(line!) as {
      summary: {
        imagesPerS: number
        cpuS: number
        outcomes: Record<string, number>
        threadCpuS: Record<string, number>
      }
    }
  ).summary
  if ((summary.outcomes.ok ?? 0) !== SETTINGS.images)
    throw new Error(`not all ok: ${JSON.stringify(summary)}`)
  const busy = ((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * cpus().length
  const s3rverCores = (cpu.user + cpu.system) / 1e6 / wallS
  return {
    images: SETTINGS.images,
    imagesPerS: summary.imagesPerS,
    wallS,
    cpuMsPerImage: (summary.cpuS * 1000) / SETTINGS.images,
    s3rverCores,
    othersCores: Math.max(0, busy - s3rverCores - summary.cpuS / wallS),
    threadCpuS: summary.threadCpuS,
  }
}

async function main(): Promise<number> {
  const work = mkdtempSync(path.join(tmpdir(), 'batch-bench-'))
  const s3 = await startLocalS3(['photos', 'results'])
  try {
    const jpeg = await sharp(path.join(FIXTURES, 'images', 'kimono.jpg'))
      .resize(640, 480, { fit: 'cover' })
      .jpeg({ quality: 90 })
      .toBuffer()
    const keys = Array.from(
      { length: SETTINGS.images },
      (_, i) => `in/${String(i).padStart(6, '0')}.jpg`
    )
    for (const key of keys) await s3.put('photos', key, jpeg)
    await s3.put('photos', 'keys.txt', Buffer.from(`${keys.join('\n')}\n`))
    const shardCount = Math.ceil(SETTINGS.images / SETTINGS.shardSize)
    const shards = Array.from({ length: shardCount }, (_, i) => String(i).padStart(5, '0')).join(
      ','
    )
    const engineOptions = {
      modelPath: path.join(MODEL_DIR, 'model.onnx'),
      config: parseModelConfig({}),
      image: jpeg,
      batchSizes: SETTINGS.engineBatchSizes,
      inFlights: SETTINGS.engineInFlights,
      sweepSeconds: SETTINGS.engineSweepS,
      confirmSeconds: SETTINGS.engineRoundS,
      // the task's (DECODE_NICENESS' default): like with like on a shared machine
      decodeNiceness: DEFAULT_DECODE_NICENESS,
      threads: SETTINGS.inferenceThreads,
      log,
    }
    log(`batch vs engine, MobileNetV2 int8 (${SETTINGS.cpus})`)
    if (SPLIT) pinSelf(SPLIT.task)
    const { best } = await engineLimit(engineOptions)
    const engine: EngineRun[] = []
    const batch: BatchRun[] = []
    for (let round = 0; round < SETTINGS.rounds; round++) {
      const e = await measureEngine(
        engineOptions,
        SETTINGS.inferenceThreads,
        best.batchSize,
        best.inFlight,
        SETTINGS.engineRoundS
      )
      engine.push(e)
      const b = await batchRound(s3, round, shards, path.join(work, 'models'))
      batch.push(b)
      if (SPLIT) pinSelf(SPLIT.task) // the engine's next round
      log(
        `  round ${round + 1}: engine ${fmt(e.imagesPerS)} images/s (${fmt(engineCpuMs(e), 2)} CPU ms/image), ` +
          `batch task ${fmt(b.imagesPerS)} images/s (${fmt(b.cpuMsPerImage, 2)} CPU ms/image)`
      )
    }
    const ratio = median(batch.map((b) => b.imagesPerS)) / median(engine.map((e) => e.imagesPerS))
    const cpuRatio = median(engine.map(engineCpuMs)) / median(batch.map((b) => b.cpuMsPerImage))
    const results = { settings: SETTINGS, engineBest: best, engine, batch, ratio, cpuRatio }
    mkdirSync(OUT_DIR, { recursive: true })
    writeFileSync(path.join(OUT_DIR, 'resnet-batch.json'), JSON.stringify(results, null, 2) + '\n')
    writeFileSync(path.join(OUT_DIR, 'resnet-batch.md'), render(results))
    log(
      `batch/engine images/s ${fmt(ratio, 2)}, CPU per image ${fmt(cpuRatio, 2)}; wrote ${path.join(OUT_DIR, 'resnet-batch.md')}`
    )
    return 0
  } finally {
    await s3.close()
    rmSync(work, { recursive: true, force: true })
  }
}

const engineCpuMs = (e: EngineRun): number => ((e.ownCpuCores * e.seconds) / e.images) * 1000

interface Results {
  readonly engineBest: EngineRun
  readonly engine: EngineRun[]
  readonly batch: BatchRun[]
  readonly ratio: number
  readonly cpuRatio: number
}

/** CPU ms per image by thread name, engine next to task (medians of the rounds). */
function threadTable(r: Results): string[] {
  const perImage = (threads: Readonly<Record<string, number>>, images: number, name: string) =>
    ((threads[name] ?? 0) * 1000) / images
  const names = [
    ...new Set([...r.engine, ...r.batch].flatMap((x) => Object.keys(x.threadCpuS))),
  ].sort()
  const rows = names.map((name) => {
    const e = median(r.engine.map((x) => perImage(x.threadCpuS, x.images, name)))
    const b = median(r.batch.map((x) => perImage(x.threadCpuS, x.images, name)))
    return `| ${name} | ${fmt(e, 2)} | ${fmt(b, 2)} | ${fmt(b - e, 2)} |`
  })
  return [
    'CPU ms per image by thread (medians; "inference" includes onnxruntime\'s threads, "V8Worker" is GC and compilation):',
    '',
    '| thread | engine | batch task | task - engine |',
    '| ------ | ------ | ---------- | ------------- |',
    ...rows,
  ]
}

function render(r: Results): string {
  const rows = r.engine.map((e, i) => {
    const b = r.batch[i]!
    return (
      `| ${i + 1} | ${fmt(e.imagesPerS)} | ${fmt(engineCpuMs(e), 2)} | ${fmt(e.othersCpuCores, 2)} | ` +
      `${fmt(b.imagesPerS)} | ${fmt(b.cpuMsPerImage, 2)} | ${fmt(b.othersCores, 2)} | ${fmt(b.s3rverCores, 2)} |`
    )
  })
  return [
    '## Batch mode vs the engine limit (MobileNetV2 int8)',
    '',
    `${SETTINGS.images} × ${SETTINGS.upload} in s3rver (127.0.0.1), one batch task ` +
      `(\`node dist/batch.js work\`, INFERENCE_THREADS=${SETTINGS.inferenceThreads}, MAX_BATCH_SIZE=${SETTINGS.maxBatchSize}, ` +
      `MAX_QUEUE=${SETTINGS.maxQueue}, ${SETTINGS.shardSize}-image shards) against the in-process engine at its best setting ` +
      `(batch ${r.engineBest.batchSize}, ${r.engineBest.inFlight} in flight), ${SETTINGS.rounds} alternating rounds; ` +
      `CPUs: ${SETTINGS.cpus} (a task's own vCPU; S3 costs it none).` +
      (SETTINGS.quick ? ' **QUICK mode: not a measurement.**' : ''),
    '',
    '| round | engine images/s | engine CPU ms/image | others (cores) | batch images/s | batch CPU ms/image | others (cores) | s3rver (cores) |',
    '| ----- | --------------- | ------------------- | -------------- | -------------- | ------------------ | -------------- | -------------- |',
    ...rows,
    '',
    ...threadTable(r),
    '',
    `**batch / engine images/s (medians): ${fmt(r.ratio, 2)}** (goal >= 0.9); CPU per image, engine / batch ` +
      `(medians): ${fmt(r.cpuRatio, 2)}, the ratio a dedicated, CPU-bound task would reach. The task's rate ` +
      'runs from its model being loaded to its last shard upload completing; "others" is CPU used by other ' +
      'processes on the machine meanwhile (a shared machine: rounds with much of it are not a measurement).',
    '',
  ].join('\n')
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`batch bench failed: ${String(err)}\n`)
    process.exit(1)
  }
)
