// Issue 17's results -> the Markdown section "Real uploads" of the bench report.
import { fmt, verdict } from './util.ts'

/** The issue's thresholds. */
export const UPLOAD_GOALS = {
  /** Our exact pipeline's images/s over sharp's decode alone, per input, per core and at saturation. */
  pipelineVsDecode: 0.85,
  /** On 12 MP uploads with MobileNetV2, over HTTP, side by side. */
  phoneVsNaive: 1.5,
  /** The fast pipeline over the fast decode alone, at saturation. */
  fastVsFastDecode: 0.85,
  /** The bound of the accuracy guard (packages/server/src/fast-decode-guard.test.ts). */
  maxTop1ScoreDiff: 0.01,
}

interface Rates {
  readonly perCore: number
  readonly saturation: number
  readonly perCoreRounds: readonly number[]
  readonly saturationRounds: readonly number[]
  /** Median CPU ms per image over every round (per core and saturation). */
  readonly cpuMsPerImage: number
  readonly cpuMsRounds: readonly number[]
}

/** One input's in-process rates: decode alone, our pipeline, and (when it differs) the fast ones. */
export interface CeilingResult {
  readonly input: string
  readonly title: string
  readonly bytes: number
  readonly scale: number
  readonly fastScale: number
  readonly variants: Record<string, Rates>
}

/** One fixture photo enlarged to 12 MP: the exact path's top-1 and the fast path's. */
export interface AccuracyRow {
  readonly photo: string
  readonly top1: number
  readonly fastTop1: number
  /** The exact path's top-1 score. */
  readonly score: number
  /** |exact - fast| score of that class. */
  readonly diff: number
}

/** One server's sweep on one input. */
export interface ServerCurve {
  readonly input: string
  readonly server: string
  readonly label: string
  readonly sweep: readonly {
    connections: number
    okPerS: number
    p50Ms: number
    p99Ms: number
    non2xx: number
  }[]
}

/** One model: engine limit per input, sweeps, and side-by-side rounds on the phone photo. */
export interface ModelUploads {
  readonly key: string
  readonly title: string
  readonly engine: Record<string, number>
  readonly curves: readonly ServerCurve[]
  /** 2xx/s per server key, one entry per round. */
  readonly sideBySide: Record<string, number[]>
  /** The server's CPU ms per 2xx response in those rounds (less disturbed by other jobs). */
  readonly sideBySideCpuMs: Record<string, number[]>
}

export interface UploadsResults {
  readonly startedAt: string
  readonly settings: object & { readonly quick: boolean }
  readonly inputs: readonly { key: string; title: string; bytes: number }[]
  readonly ceilings: readonly CeilingResult[]
  readonly accuracy: readonly AccuracyRow[]
  readonly models: readonly ModelUploads[]
  readonly totalSeconds: number
}

const median = (values: readonly number[]): number => {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const rounds = (values: readonly number[]): string => values.map((v) => fmt(v)).join(', ')
const atLeast = (v: number, goal: number): string =>
  verdict(Number.isFinite(v) ? v >= goal : undefined)

function ceilingRow(
  label: string,
  scale: number,
  decode: Rates,
  ours: Rates,
  goal: number
): string {
  const [a, b] = [ours.perCore / decode.perCore, ours.saturation / decode.saturation]
  const c = decode.cpuMsPerImage / ours.cpuMsPerImage
  return (
    `| ${label} | 1/${scale} | ${fmt(decode.perCore)} / ${fmt(decode.saturation)}, ${fmt(decode.cpuMsPerImage, 2)} ms | ` +
    `${fmt(ours.perCore)} / ${fmt(ours.saturation)}, ${fmt(ours.cpuMsPerImage, 2)} ms | ` +
    `${fmt(a, 2)} / ${fmt(b, 2)} | ${fmt(c, 2)} | ${atLeast(Math.min(a, b), goal)} / ${atLeast(c, goal)} |`
  )
}

function ceilingTable(r: UploadsResults): string[] {
  const lines = [
    '| input | decoded at | sharp decode alone: images/s per core / saturation, CPU per image | our pipeline, the same | ratio of images/s, per core / saturation | ratio of CPU per image | goal ≥ 0.85: images/s / CPU |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const c of r.ceilings) {
    const { decode, exact, fastDecode, fast } = c.variants
    const size = `${c.title} (${fmt(c.bytes / 2 ** 20, 2)} MiB)`
    lines.push(ceilingRow(size, c.scale, decode!, exact!, UPLOAD_GOALS.pipelineVsDecode))
    if (fastDecode && fast) {
      lines.push(
        ceilingRow(
          '↳ `fastShrinkOnLoad: true`',
          c.fastScale,
          fastDecode,
          fast,
          UPLOAD_GOALS.fastVsFastDecode
        )
      )
    }
  }
  lines.push(
    '',
    'Rounds (images/s per core | images/s at saturation | CPU ms per image, per core rounds then saturation rounds):',
    ''
  )
  for (const c of r.ceilings) {
    for (const [k, v] of Object.entries(c.variants)) {
      lines.push(
        `- ${c.input} ${k}: ${rounds(v.perCoreRounds)} | ${rounds(v.saturationRounds)} | ${v.cpuMsRounds.map((x) => fmt(x, 2)).join(', ')}`
      )
    }
  }
  return lines
}

function sideBySideTable(r: UploadsResults): string[] {
  const lines = [
    '| model | before | ours (exact) | ours, `fastShrinkOnLoad: true` | naive | ours / before | ours / naive | goal ≥ 1.5 | fast / naive | fast / ours |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  const cell = (values: readonly number[] | undefined): string =>
    values ? `${fmt(median(values))} (${rounds(values)})` : '–'
  for (const m of r.models) {
    const [ours, fast, naive, before] = ['ours', 'oursFast', 'naive', 'before'].map((k) =>
      median(m.sideBySide[k] ?? [])
    ) as [number, number, number, number]
    const goal =
      m.key === 'mobilenetv2'
        ? `${atLeast(ours / naive, UPLOAD_GOALS.phoneVsNaive)} (naive)` +
          (m.sideBySide.before
            ? `, ${atLeast(ours / before, UPLOAD_GOALS.phoneVsNaive)} (before)`
            : '')
        : 'unchanged or better'
    lines.push(
      `| ${m.title} | ${cell(m.sideBySide.before)} | ${cell(m.sideBySide.ours)} | ${cell(m.sideBySide.oursFast)} | ` +
        `${cell(m.sideBySide.naive)} | ${fmt(ours / before, 2)} | ${fmt(ours / naive, 2)} | ${goal} | ` +
        `${fmt(fast / naive, 2)} | ${fmt(fast / ours, 2)} |`
    )
  }
  lines.push('', 'Server CPU per 2xx response in those rounds (ms; median, rounds):', '')
  for (const m of r.models) {
    const cells = Object.entries(m.sideBySideCpuMs).map(
      ([k, v]) => `${k} ${fmt(median(v))} (${rounds(v)})`
    )
    lines.push(`- ${m.title}: ${cells.join('; ')}`)
  }
  return lines
}

function accuracyTable(r: UploadsResults): string[] {
  const holds = r.accuracy.every(
    (a) => a.top1 === a.fastTop1 && a.diff <= UPLOAD_GOALS.maxTop1ScoreDiff
  )
  return [
    `Guard: same top-1 and |top-1 score difference| ≤ ${UPLOAD_GOALS.maxTop1ScoreDiff}, on this CPU: ` +
      `${holds ? '**holds**' : '**fails**: `fastShrinkOnLoad` stays opt-in (default `false`)'}.`,
    '',
    '| photo (enlarged to 12 MP, JPEG q90) | exact top-1 (score) | fast top-1 | top-1 score difference |',
    '| --- | --- | --- | --- |',
    ...r.accuracy.map(
      (a) =>
        `| ${a.photo} | ${a.top1} (${fmt(a.score, 3)}) | ${a.fastTop1}${a.fastTop1 === a.top1 ? '' : ' ≠'} | ` +
        `${fmt(a.diff, 4)}${a.diff > UPLOAD_GOALS.maxTop1ScoreDiff ? ' > bound' : ''} |`
    ),
  ]
}

function sweepTables(r: UploadsResults, charts: readonly string[]): string[] {
  const lines: string[] = []
  for (const m of r.models) {
    lines.push(`### ${m.title}`, '')
    for (const input of r.inputs) {
      const chart = charts.find((c) => c === `${m.key}-${input.key}.svg`)
      if (chart) lines.push(`![${m.title}, ${input.title}](charts/${chart})`, '')
      lines.push(
        `${input.title}: engine limit ${fmt(m.engine[input.key])} images/s.`,
        '',
        '| server | ' +
          m.curves
            .find((c) => c.input === input.key)!
            .sweep.map((p) => `c=${p.connections}`)
            .join(' | ') +
          ' |',
        '| --- |' +
          m.curves
            .find((c) => c.input === input.key)!
            .sweep.map(() => ' --- |')
            .join(''),
        ...m.curves
          .filter((c) => c.input === input.key)
          .map(
            (c) =>
              `| ${c.label} | ` +
              c.sweep
                .map(
                  (p) =>
                    `${fmt(p.okPerS)}/s, p50 ${fmt(p.p50Ms, 0)} / p99 ${fmt(p.p99Ms, 0)} ms${p.non2xx ? `, ${p.non2xx} non-2xx` : ''}`
                )
                .join(' | ') +
              ' |'
          ),
        ''
      )
    }
  }
  return lines
}

/** The Markdown section, charts linked relative to the report (charts/<model>-<input>.svg). */
export function renderUploadsReport(r: UploadsResults, charts: readonly string[]): string {
  return [
    '## Real uploads (issue 17)',
    '',
    `${r.settings.quick ? '**QUICK mode: short phases, one round.** ' : ''}Inputs made from the fixture photos: ` +
      r.inputs.map((i) => `${i.title} (${fmt(i.bytes / 2 ** 20, 2)} MiB)`).join(', ') +
      `. ${fmt(r.totalSeconds, 0)} s.`,
    '',
    '### Decode ceiling (in process, images/s, medians of alternating rounds)',
    '',
    'Sharp decoding the file at the scale our pipeline decodes it at (JPEG DCT scaling), to raw pixels, and nothing',
    'else; against our whole pipeline (`decodeImage`: decode, orient, resize, crop). Per core: one image at a time;',
    'saturation: two images per core in flight. Images/s on this shared machine move with other jobs; CPU per image',
    '(every thread of this process) far less, so both ratios are given.',
    '',
    ...ceilingTable(r),
    '',
    '### 12 MP phone photo over HTTP, side by side (2xx/s at c=16, medians; rounds in brackets)',
    '',
    'The naive server ignores EXIF orientation (it classifies the photo lying on its side, less work: no rotation).',
    '"before": the revision in `BENCH_BASELINE_APP`, when set (goal: ours ≥ 1.5x it for MobileNetV2).',
    '',
    ...sideBySideTable(r),
    '',
    '### Accuracy of the fast path (MobileNetV2)',
    '',
    ...accuracyTable(r),
    '',
    '### Throughput and latency against concurrency',
    '',
    ...sweepTables(r, charts),
  ].join('\n')
}
