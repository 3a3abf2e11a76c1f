// `pnpm bench`: images/s for decode + preprocess of a 1200x800 JPEG at concurrency 1 and 4, ours
// (sharp) and torchvision's recipe in Pillow + numpy side by side, alternating, one fresh process
// per run; the medians of RUNS runs and their ratio; memory per image in flight from peak RSS.
// Writes $BENCH_OUT_DIR/preprocess.md and preprocess.json. Runs on Node 24 (type stripping).
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { parseModelConfig, preprocessBatch } from '@resnet/preprocess'

const RUNS = 5
const SECONDS = 1.5
const CONCURRENCY = [1, 4]
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const FIXTURES = process.env.SHARED_FIXTURES_DIR ?? path.join(ROOT, '../shared/fixtures/')
const PYTHON = '/usr/bin/python3'
const MB = 1024 * 1024

interface Run {
  readonly imagesPerSec: number
  readonly peakRssBytes?: number
}

/** One measurement in this process: `concurrency` loops over the same JPEG for SECONDS. */
async function worker(file: string, concurrency: number, fast: boolean): Promise<void> {
  const bytes = readFileSync(file)
  const input = parseModelConfig({ input: { fastShrinkOnLoad: fast } }).input
  for (let i = 0; i < 20; i++) await preprocessBatch([bytes], input) // warm-up
  let images = 0
  const started = performance.now()
  const loop = async (): Promise<void> => {
    while (performance.now() - started < SECONDS * 1000) {
      await preprocessBatch([bytes], input)
      images++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop))
  const imagesPerSec = images / ((performance.now() - started) / 1000)
  const peakRssBytes = process.resourceUsage().maxRSS * 1024
  process.stdout.write(JSON.stringify({ imagesPerSec, peakRssBytes } satisfies Run))
}

function ours(file: string, concurrency: number, fast: boolean): Run {
  const args = [fileURLToPath(import.meta.url), 'worker', file, String(concurrency), String(fast)]
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as Run
}

function pillow(file: string, concurrency: number): Run {
  const script = path.join(ROOT, 'scripts/torchvision-reference.py')
  const args = [script, 'bench', file, String(SECONDS), String(concurrency)]
  const out = spawnSync(PYTHON, args, { encoding: 'utf8' })
  if (out.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} failed:\n${out.stderr}`)
  return JSON.parse(out.stdout) as Run
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

type Series = 'ours' | 'oursFast' | 'pillow'
type Results = Record<Series, Record<number, Run[]>>

function measure(file: string): Results {
  const results: Results = { ours: {}, oursFast: {}, pillow: {} }
  for (let run = 1; run <= RUNS; run++) {
    for (const c of CONCURRENCY) {
      // alternate the contenders so that drift on a shared machine hits all of them alike
      ;(results.ours[c] ??= []).push(ours(file, c, false))
      ;(results.pillow[c] ??= []).push(pillow(file, c))
      ;(results.oursFast[c] ??= []).push(ours(file, c, true))
      process.stderr.write(`run ${run}/${RUNS} c=${c} done\n`)
    }
  }
  return results
}

function report(results: Results): { markdown: string; json: object } {
  const rate = (s: Series, c: number): number => median(results[s][c]!.map((r) => r.imagesPerSec))
  const rss = (c: number): number => median(results.ours[c]!.map((r) => r.peakRssBytes ?? 0))
  const [lo, hi] = [CONCURRENCY[0]!, CONCURRENCY.at(-1)!]
  const perImage = (rss(hi) - rss(lo)) / (hi - lo)
  // each run's ratio to the Pillow run beside it, then the median: robust to load drifting
  const ratio = (s: Series, c: number): number =>
    median(results[s][c]!.map((r, i) => r.imagesPerSec / results.pillow[c]![i]!.imagesPerSec))
  const row = (name: string, s: Series): string =>
    `| ${name} | ${CONCURRENCY.map((c) => `${rate(s, c).toFixed(0)} (${ratio(s, c).toFixed(2)}x)`).join(' | ')} |`
  const goal = CONCURRENCY.every((c) => ratio('ours', c) >= 3) ? 'met' : 'NOT met'
  const markdown = [
    '## @resnet/preprocess: decode + preprocess, 1200x800 JPEG -> 1x3x224x224 float32',
    '',
    `Images/s, median of ${RUNS} runs of ${SECONDS} s each (a fresh process per run, contenders`,
    'alternated); in brackets the median ratio to the Pillow + numpy run beside it. Pillow runs',
    'c worker processes (a DataLoader with num_workers) over one synchronised window; ours runs',
    "c images in flight on libuv's pool in one process.",
    '',
    `| pipeline | ${CONCURRENCY.map((c) => `c=${c}`).join(' | ')} |`,
    `| --- | ${CONCURRENCY.map(() => '---').join(' | ')} |`,
    row('ours, default (exact bilinear, full-scale JPEG decode)', 'ours'),
    row('ours, `fastShrinkOnLoad: true` (JPEG decoded at 1/2)', 'oursFast'),
    row("torchvision's recipe in Pillow 9.4 + numpy", 'pillow'),
    '',
    `Goal, default at least 3x Pillow at every concurrency: **${goal}** ` +
      `(${CONCURRENCY.map((c) => `${ratio('ours', c).toFixed(2)}x at c=${c}`).join(', ')}).`,
    `Memory per image in flight: ${(perImage / MB).toFixed(1)} MB (peak RSS ` +
      `${(rss(lo) / MB).toFixed(0)} MB at c=${lo}, ${(rss(hi) / MB).toFixed(0)} MB at c=${hi}).`,
  ].join('\n')
  const json = {
    image: '1200x800 JPEG, quality 90, 4:2:0',
    seconds: SECONDS,
    runs: results,
    medians: Object.fromEntries(
      (['ours', 'oursFast', 'pillow'] as const).map((s) => [
        s,
        Object.fromEntries(CONCURRENCY.map((c) => [c, rate(s, c)])),
      ])
    ),
    ratioToPillow: Object.fromEntries(CONCURRENCY.map((c) => [c, ratio('ours', c)])),
    memoryPerImageInFlightBytes: perImage,
  }
  return { markdown, json }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'preprocess-bench-'))
  try {
    const file = path.join(dir, 'photo-1200x800.jpg')
    await sharp(path.join(FIXTURES, 'images/kimono.jpg'))
      .resize(1200, 800, { fit: 'cover' })
      .jpeg({ quality: 90 })
      .toFile(file)
    const { markdown, json } = report(measure(file))
    const out = process.env.BENCH_OUT_DIR ?? path.join(ROOT, '.artifacts/bench')
    mkdirSync(out, { recursive: true })
    writeFileSync(path.join(out, 'preprocess.md'), `${markdown}\n`)
    writeFileSync(path.join(out, 'preprocess.json'), `${JSON.stringify(json, null, 2)}\n`)
    console.log(markdown)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const [mode, file, concurrency, fast] = process.argv.slice(2)
if (mode === 'worker') await worker(file!, Number(concurrency), fast === 'true')
else await main()
