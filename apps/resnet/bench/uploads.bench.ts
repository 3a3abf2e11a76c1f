// Issue 17's bench, run by `pnpm bench` after the server bench: real uploads (a 640x480 JPEG, a
// 12 MP phone JPEG with EXIF orientation 6, a 1920x1080 PNG). (1) The decode ceiling: sharp's
// decode alone against our exact pipeline, per core and at saturation, in this process. (2) Over
// HTTP, for MobileNetV2 and ResNet-50: our server against the naive baseline at several
// concurrencies, and side by side (alternating rounds) on the phone photo, with our server once
// more with `fastShrinkOnLoad: true`. (3) The fast path's accuracy on the fixture photos at 12 MP.
// Writes $BENCH_OUT_DIR/uploads.md, uploads.json and charts/*.svg.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DEMO_MODEL_URI, ensureDemoBundle } from '@resnet/model-loader'
import { allocateBatch, decodeImage, parseModelConfig, writeImage } from '@resnet/preprocess'
import type { InputSpec } from '@resnet/preprocess'
import { createOnnxModel } from '@resnet/server'
import { NODE_FLAGS } from '../src/launch.ts'
import { renderLoadChart } from './charts.ts'
import { ChildServer, killAllChildren, runBounded } from './children.ts'
import { alternatingRounds } from './decode-ceiling.ts'
import { measureEngine } from './engine.ts'
import { multipart, runLoad } from './load.ts'
import type { PhaseResult } from './load.ts'
import { sharp } from './sharp.ts'
import { decodeAlone, jpegScale, uploadInputs } from './upload-inputs.ts'
import type { BenchInput } from './upload-inputs.ts'
import { renderUploadsReport } from './uploads-report.ts'
import type { AccuracyRow, ModelUploads, ServerCurve, UploadsResults } from './uploads-report.ts'

const APP_DIR = path.resolve(import.meta.dirname, '..')
const REPO = path.resolve(APP_DIR, '../..')
const FIXTURES = process.env.SHARED_FIXTURES_DIR ?? path.resolve(REPO, '../shared/fixtures')
const OUT_DIR = process.env.BENCH_OUT_DIR ?? path.join(REPO, '.artifacts', 'bench')
const QUICK = process.env.BENCH_QUICK === '1'
const OURS = { script: path.join(APP_DIR, 'dist', 'main.js'), nodeFlags: NODE_FLAGS }
/**
 * Optional: the app directory of a built checkout of another revision (e.g. `git archive main`,
 * installed and built): its server joins the phone-photo rounds as "before".
 */
const BASELINE_APP = process.env.BENCH_BASELINE_APP

/** Every duration and size of the run, reported with the results. */
export const UPLOAD_SETTINGS = {
  ceilingRounds: QUICK ? 1 : 3,
  ceilingS: QUICK ? 0.3 : 1.5,
  concurrencies: QUICK ? [4] : [1, 4, 16],
  warmupS: 1,
  measureS: QUICK ? 1 : 3,
  sideBySideConnections: 16,
  sideBySideRounds: QUICK ? 1 : 5,
  engine: { batchSize: 4, inFlight: 2, threads: 2, seconds: QUICK ? 1 : 3 },
  baseline: BASELINE_APP,
  quick: QUICK,
}

const T0 = performance.now()
const log = (line: string): void => {
  process.stdout.write(`[uploads ${((performance.now() - T0) / 1000).toFixed(0)}s] ${line}\n`)
}
const median = (values: readonly number[]): number => {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** (1) decode alone vs our pipeline, exact and (phone photo) fast, alternating rounds. */
async function ceilings(inputs: readonly BenchInput[]) {
  const exact = parseModelConfig({}).input
  const fast = parseModelConfig({ input: { fastShrinkOnLoad: true } }).input
  const out = []
  for (const input of inputs) {
    const scale = jpegScale(input, exact.resize, false)
    const fastScale = jpegScale(input, exact.resize, true)
    const variants = [
      { key: 'decode', once: () => decodeAlone(input, scale) },
      { key: 'exact', once: () => decodeImage(input.bytes, exact) },
      ...(fastScale !== scale
        ? [
            { key: 'fastDecode', once: () => decodeAlone(input, fastScale) },
            { key: 'fast', once: () => decodeImage(input.bytes, fast) },
          ]
        : []),
    ]
    const rounds = await alternatingRounds(
      variants,
      UPLOAD_SETTINGS.ceilingRounds,
      UPLOAD_SETTINGS.ceilingS
    )
    const summary = Object.fromEntries(
      Object.entries(rounds).map(([k, r]) => [
        k,
        {
          perCore: median(r.perCore.map((x) => x.imagesPerS)),
          saturation: median(r.saturation.map((x) => x.imagesPerS)),
          perCoreRounds: r.perCore.map((x) => x.imagesPerS),
          saturationRounds: r.saturation.map((x) => x.imagesPerS),
          cpuMsPerImage: median([...r.perCore, ...r.saturation].map((x) => x.cpuMsPerImage)),
          cpuMsRounds: [...r.perCore, ...r.saturation].map((x) => x.cpuMsPerImage),
        },
      ])
    )
    log(
      `ceiling ${input.key} (decoded at 1/${scale}${fastScale !== scale ? `, fast 1/${fastScale}` : ''}): ` +
        Object.entries(summary)
          .map(
            ([k, s]) =>
              `${k} ${s.perCore.toFixed(1)} / ${s.saturation.toFixed(1)} images/s, ${s.cpuMsPerImage.toFixed(2)} ms CPU`
          )
          .join(', ')
    )
    out.push({
      input: input.key,
      title: input.title,
      bytes: input.bytes.length,
      scale,
      fastScale,
      variants: summary,
    })
  }
  return out
}

/** (3) The fast path's answer against the exact one, fixture photos enlarged to 12 MP. */
async function accuracy(): Promise<AccuracyRow[]> {
  const dir = path.join(FIXTURES, 'models', 'mobilenetv2-int8')
  const model = await createOnnxModel({
    modelPath: path.join(dir, 'model.onnx'),
    config: parseModelConfig({}),
    labels: [],
    identity: { name: 'bench', version: '0', sha256: '' },
    threads: 2,
  })
  const score = async (pixels: Uint8Array, input: InputSpec) => {
    const batch = allocateBatch(input, 1)
    writeImage(pixels, input, batch, 0)
    return Float32Array.from((await model.run(batch))[0]!)
  }
  const argmax = (s: Float32Array) => s.reduce((b, v, i) => (v > s[b]! ? i : b), 0)
  const exact = parseModelConfig({}).input
  const fast = parseModelConfig({ input: { fastShrinkOnLoad: true } }).input
  const expected = JSON.parse(
    readFileSync(path.join(FIXTURES, 'images', 'expected.json'), 'utf8')
  ) as Record<string, unknown>
  const rows: AccuracyRow[] = []
  try {
    for (const photo of Object.keys(expected)) {
      const bytes = await readFile(path.join(FIXTURES, 'images', photo))
      const { width, height } = await sharp(bytes).metadata()
      const k = Math.sqrt((4032 * 3024) / (width * height))
      const jpeg = await sharp(bytes)
        .resize(Math.round(width * k), Math.round(height * k), { fit: 'fill' })
        .jpeg({ quality: 90 })
        .toBuffer()
      const a = await score((await decodeImage(jpeg, exact)).data, exact)
      const b = await score((await decodeImage(jpeg, fast)).data, fast)
      const top1 = argmax(a)
      rows.push({
        photo,
        top1,
        fastTop1: argmax(b),
        score: a[top1]!,
        diff: Math.abs(a[top1]! - b[top1]!),
      })
    }
  } finally {
    await model.close()
  }
  return rows
}

/** A copy of a bundle with `input` merged into its config.json (to start our server on it). */
function bundleWith(dir: string, work: string, name: string, input: object): string {
  const copy = path.join(work, name)
  cpSync(dir, copy, { recursive: true })
  const file = path.join(copy, 'config.json')
  let config: { input?: object } = {}
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as { input?: object }
  } catch {
    // no config.json: the defaults
  }
  writeFileSync(file, JSON.stringify({ ...config, input: { ...config.input, ...input } }))
  return copy
}

const phase = (server: ChildServer, input: BenchInput, connections: number, raw = false) =>
  runLoad(server, {
    upload: multipart('image', input.filename, input.type, input.bytes),
    connections,
    warmupS: UPLOAD_SETTINGS.warmupS,
    durationS: UPLOAD_SETTINGS.measureS,
    ...(raw ? { generator: 'raw' as const } : {}),
  })

/** (2) For one model: sweeps of each server on each input, then side-by-side rounds. */
async function models(inputs: readonly BenchInput[], work: string): Promise<ModelUploads[]> {
  const mobilenet = path.join(FIXTURES, 'models', 'mobilenetv2-int8')
  const demo = await ensureDemoBundle(path.join(work, 'models'))
  const cases = [
    {
      key: 'mobilenetv2',
      title: 'MobileNetV2 int8',
      dir: mobilenet,
      uri: mobilenet,
      modelPath: path.join(mobilenet, 'model.onnx'),
      labels: path.join(mobilenet, 'labels.txt'),
    },
    {
      key: 'resnet50',
      title: 'ResNet-50 fp32',
      dir: demo.dir,
      uri: DEMO_MODEL_URI,
      modelPath: demo.modelPath,
      labels: demo.labelsPath,
    },
  ]
  const results: ModelUploads[] = []
  for (const m of cases) {
    log(m.title)
    const cache = path.join(work, 'models')
    const servers: { key: string; label: string; server: ChildServer }[] = []
    const oursEnv = {
      MODEL_CACHE_DIR: cache,
      LOG_LEVEL: 'warn',
      INFERENCE_THREADS: '2',
      MAX_BATCH_SIZE: '8',
      MAX_QUEUE: '64',
    }
    try {
      servers.push({
        key: 'ours',
        label: 'ours',
        server: await ChildServer.start({
          label: `${m.key} ours`,
          ...OURS,
          env: { ...oursEnv, MODEL_URI: m.uri },
        }),
      })
      if (BASELINE_APP) {
        const script = path.join(path.resolve(BASELINE_APP), 'dist', 'main.js')
        const env = { ...oursEnv, MODEL_URI: m.uri }
        const server = await ChildServer.start({
          label: `${m.key} before`,
          script,
          nodeFlags: NODE_FLAGS,
          env,
        })
        servers.push({ key: 'before', label: 'before (baseline revision)', server })
      }
      if (m.key === 'mobilenetv2') {
        const fastDir = bundleWith(m.dir, work, `${m.key}-fast`, { fastShrinkOnLoad: true })
        servers.push({
          key: 'oursFast',
          label: 'ours, fastShrinkOnLoad',
          server: await ChildServer.start({
            label: `${m.key} ours fast`,
            ...OURS,
            env: { ...oursEnv, MODEL_URI: fastDir },
          }),
        })
      }
      servers.push({
        key: 'naive',
        label: 'naive',
        server: await ChildServer.start({
          label: `${m.key} naive`,
          script: path.join(APP_DIR, 'bench', 'naive-server.ts'),
          env: {
            MODEL_URI: undefined,
            NAIVE_MODEL_PATH: m.modelPath,
            NAIVE_LABELS_PATH: m.labels,
            INFERENCE_THREADS: '2',
          },
        }),
      })
      const curves: ServerCurve[] = []
      const engine: Record<string, number> = {}
      for (const input of inputs) {
        const e = UPLOAD_SETTINGS.engine
        const run = await measureEngine(
          {
            modelPath: m.modelPath,
            config: parseModelConfig({}),
            image: input.bytes,
            batchSizes: [],
            inFlights: [],
            sweepSeconds: 0,
            confirmSeconds: e.seconds,
            log,
          },
          e.threads,
          e.batchSize,
          e.inFlight,
          e.seconds
        )
        engine[input.key] = run.imagesPerS
        log(`  ${input.key} engine: ${run.imagesPerS.toFixed(1)} images/s`)
        for (const s of servers) {
          if ((s.key === 'oursFast' || s.key === 'before') && input.key !== 'phone-12mp') continue
          const sweep: PhaseResult[] = []
          for (const c of UPLOAD_SETTINGS.concurrencies) {
            const r = await phase(s.server, input, c)
            sweep.push(r)
            log(
              `  ${input.key} ${s.label} c=${c}: ${r.okPerS.toFixed(1)} 2xx/s, p50 ${r.latencyAll.p50.toFixed(0)} ms, p99 ${r.latencyAll.p99.toFixed(0)} ms, non-2xx ${r.non2xx}`
            )
          }
          curves.push({ input: input.key, server: s.key, label: s.label, sweep: sweep.map(point) })
        }
      }
      const phone = inputs.find((i) => i.key === 'phone-12mp')!
      const sideBySide: Record<string, number[]> = {}
      const sideBySideCpuMs: Record<string, number[]> = {}
      for (const s of servers) [sideBySide[s.key], sideBySideCpuMs[s.key]] = [[], []]
      // ResNet-50's rounds take ~10x MobileNetV2's: three of them
      const sideRounds =
        m.key === 'resnet50'
          ? Math.min(3, UPLOAD_SETTINGS.sideBySideRounds)
          : UPLOAD_SETTINGS.sideBySideRounds
      for (let i = 0; i < sideRounds; i++) {
        for (const s of servers) {
          const r = await phase(s.server, phone, UPLOAD_SETTINGS.sideBySideConnections, true)
          sideBySide[s.key]!.push(r.okPerS)
          sideBySideCpuMs[s.key]!.push((1000 * r.serverCpuCores) / r.okPerS)
        }
        log(
          `  side by side ${i + 1}: ` +
            servers.map((s) => `${s.label} ${sideBySide[s.key]!.at(-1)!.toFixed(1)}`).join(', ') +
            ' 2xx/s'
        )
      }
      results.push({ key: m.key, title: m.title, engine, curves, sideBySide, sideBySideCpuMs })
    } finally {
      for (const s of servers) await s.server.stop()
    }
  }
  return results
}

const point = (r: PhaseResult) => ({
  connections: r.connections,
  okPerS: r.okPerS,
  p50Ms: r.latencyAll.p50,
  p99Ms: r.latencyAll.p99,
  non2xx: r.non2xx,
})

async function main(): Promise<number> {
  const work = mkdtempSync(path.join(tmpdir(), 'uploads-bench-'))
  try {
    const inputs = await uploadInputs(FIXTURES)
    log(
      `inputs: ${inputs.map((i) => `${i.key} ${(i.bytes.length / 2 ** 20).toFixed(2)} MiB`).join(', ')}`
    )
    const ceiling = await ceilings(inputs)
    const acc = await accuracy()
    log(
      `accuracy: ${acc.map((r) => `${r.photo} ${r.top1 === r.fastTop1 ? '=' : '≠'} ${r.diff.toFixed(4)}`).join(', ')}`
    )
    const perModel = await models(inputs, work)
    const results: UploadsResults = {
      startedAt: new Date(Date.now() - (performance.now() - T0)).toISOString(),
      settings: UPLOAD_SETTINGS,
      inputs: inputs.map((i) => ({ key: i.key, title: i.title, bytes: i.bytes.length })),
      ceilings: ceiling,
      accuracy: acc,
      models: perModel,
      totalSeconds: (performance.now() - T0) / 1000,
    }
    const chartDir = path.join(OUT_DIR, 'charts')
    mkdirSync(chartDir, { recursive: true })
    const charts: string[] = []
    for (const m of perModel) {
      for (const input of inputs) {
        const file = `${m.key}-${input.key}.svg`
        const points = m.curves
          .filter((c) => c.input === input.key)
          .flatMap((c) => c.sweep.map((p) => ({ series: c.label, ...p })))
        writeFileSync(
          path.join(chartDir, file),
          await renderLoadChart({
            title: `${m.title}, ${input.title}`,
            points,
            engineLimit: m.engine[input.key],
          })
        )
        charts.push(file)
      }
    }
    writeFileSync(path.join(OUT_DIR, 'uploads.json'), JSON.stringify(results, null, 2) + '\n')
    writeFileSync(path.join(OUT_DIR, 'uploads.md'), renderUploadsReport(results, charts))
    log(`wrote ${path.join(OUT_DIR, 'uploads.md')}, uploads.json and ${charts.length} charts`)
    return 0
  } finally {
    killAllChildren()
    rmSync(work, { recursive: true, force: true })
  }
}

// Bounded run: whatever happens, children die and the process ends.
runBounded('uploads bench', 30, main)
