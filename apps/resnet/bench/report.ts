// Results -> the Markdown section of the bench report: goals first, then the tables behind them.
import type { PhaseResult } from './load.ts'
import type { BenchResults, ModelResult, ServerRun } from './server.bench.ts'
import { fmt, mib, verdict } from './util.ts'

/** The issue's thresholds. */
export const GOALS = {
  saturationVsEngine: 0.9,
  healthzP99Ms: 20,
  overloadGoodputVsSaturation: 0.9,
  soakRssGrowth: 0.15,
}

export interface Evaluated {
  readonly model: string
  readonly server: string
  /** (b)/(a): medians of the side-by-side rounds (the sweep's best over the engine's best without them). */
  readonly saturationRatio: number
  /** The sweep's best 2xx/s over the best images/s of every engine run. */
  readonly bestOfRatio: number
  readonly healthzP99Ms: number
  readonly overloadGoodputRatio: number
  readonly overloadAcceptedP99Ms: number
  readonly openLoopGoodputRatio: number
  readonly openLoopAcceptedP99Ms: number
}

const ratio = (a: number | undefined, b: number | undefined): number =>
  a === undefined || b === undefined || !(b > 0) ? NaN : a / b
const pass = (value: number, ok: (v: number) => boolean): boolean | undefined =>
  Number.isFinite(value) ? ok(value) : undefined
const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '–')
const top = (runs: readonly PhaseResult[]): PhaseResult | undefined => runs.at(-1)

function evaluate(model: ModelResult, server: ServerRun): Evaluated {
  const engine = model.engine?.best.imagesPerS
  return {
    model: model.key,
    server: server.label,
    saturationRatio: server.sideBySide?.ratio ?? ratio(server.saturation?.okPerS, engine),
    bestOfRatio: ratio(server.saturation?.okPerS, engine),
    healthzP99Ms: top(server.sweep)?.healthz?.p99 ?? NaN,
    overloadGoodputRatio: ratio(server.overload?.okPerS, server.saturation?.okPerS),
    overloadAcceptedP99Ms: server.overload?.latencyOk.p99 ?? NaN,
    openLoopGoodputRatio:
      server.sideBySide?.overloadRatio ??
      ratio(server.overloadOpenLoop?.okPerS, server.saturation?.okPerS),
    openLoopAcceptedP99Ms:
      server.sideBySide?.overloadAcceptedP99Ms ?? server.overloadOpenLoop?.latencyOk.p99 ?? NaN,
  }
}

function goalsTable(r: BenchResults): string[] {
  const deadline = r.settings.requestTimeoutMs
  const cols = r.models.flatMap((m) =>
    m.servers.filter((s) => s.kind === 'ours').map((s) => ({ m, s, e: evaluate(m, s) }))
  )
  const head = `| Goal | ${cols.map(({ m, s }) => `${m.key}, ${s.label.replace('ours, ', '')}`).join(' | ')} |`
  const sep = `|---|${cols.map(() => '---').join('|')}|`
  // the goals are for the server as it runs by default: INFERENCE_THREADS = the CPUs it has
  const isDefault = (s: ServerRun): boolean => s.threads === r.machine.cores
  const row = (name: string, cell: (e: Evaluated) => string): string =>
    `| ${name} | ${cols
      .map(({ s, e }) =>
        isDefault(s) ? cell(e) : cell(e).replace(/\*\*(PASS|MISS)\*\*/, '(variant)')
      )
      .join(' | ')} |`
  const plain = (text: string): string => text.replace(/ \*\*(PASS|MISS)\*\*/, '')
  return [
    head,
    sep,
    row(
      `(b) at saturation ≥ ${GOALS.saturationVsEngine} × (a)`,
      (e) =>
        `${fmt(e.saturationRatio, 2)} × ${verdict(pass(e.saturationRatio, (v) => v >= GOALS.saturationVsEngine))}`
    ),
    row(
      '(for reference, not the goal) best of the sweep / best of every engine run',
      (e) => `${fmt(e.bestOfRatio, 2)} ×`
    ),
    row(
      `/healthz p99 < ${GOALS.healthzP99Ms} ms at saturation (c=64)`,
      (e) =>
        `${fmt(e.healthzP99Ms, 1)} ms ${verdict(pass(e.healthzP99Ms, (v) => v < GOALS.healthzP99Ms))}`
    ),
    row(
      '(for reference, not the goal: it does not offer 4× S, see the overload table) autocannon overallRate: goodput / accepted p99',
      (e) => plain(`${fmt(e.overloadGoodputRatio, 2)} × / ${fmt(e.overloadAcceptedP99Ms, 0)} ms`)
    ),
    row(
      `4× overload (even open loop): goodput ≥ ${GOALS.overloadGoodputVsSaturation} × saturation`,
      (e) =>
        `${fmt(e.openLoopGoodputRatio, 2)} × ${verdict(pass(e.openLoopGoodputRatio, (v) => v >= GOALS.overloadGoodputVsSaturation))}`
    ),
    row(
      `4× overload (even open loop): accepted p99 ≤ deadline (${deadline} ms)`,
      (e) =>
        `${fmt(e.openLoopAcceptedP99Ms, 0)} ms ${verdict(pass(e.openLoopAcceptedP99Ms, (v) => v <= deadline))}`
    ),
  ]
}

function sideBySideTable(m: ModelResult): string[] {
  const rows = m.servers.filter((s) => s.sideBySide)
  if (rows.length === 0) return ['Not measured.']
  return [
    'Right after its sweep, each of our servers is measured in rounds of three phases back to back: ' +
      "(a) the engine's best setting (2 intra-op threads) while the server sits idle; (b) the server at " +
      "its saturation concurrency, with a light closed-loop client on raw keep-alive sockets (about a tenth of autocannon's CPU " +
      'per request, CPU the server keeps on these 2 shared cores); then the server offered 4 × what it ' +
      'sustained in (b), by the even open loop. The goal rows use median(b) / median(a) and ' +
      'median(goodput) / median(b) of these rounds, so that both sides of each ratio see the same ' +
      "machine (this shared machine's speed drifts by ±15 % within minutes).",
    '',
    '| Server | c | (a) engine images/s, each round | (b) server 2xx/s, each round | median(b) / median(a) | 4 × (b) offered: goodput 2xx/s, each round | accepted p99 ms, each round | median(goodput) / median(b) |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((s) => {
      const sb = s.sideBySide!
      return (
        `| ${s.label} | ${sb.connections} | ${sb.engine.map((e) => fmt(e.imagesPerS)).join(', ')} | ` +
        `${sb.server.map((r) => fmt(r.okPerS)).join(', ')} | ${fmt(sb.ratio, 2)} | ` +
        `${sb.overload.map((r) => fmt(r.okPerS)).join(', ')} | ` +
        `${sb.overload.map((r) => fmt(r.latencyOk.p99, 0)).join(', ')} | ${fmt(sb.overloadRatio, 2)} |`
      )
    }),
  ]
}

function startupTable(r: BenchResults): string[] {
  if (r.startup.length === 0) return ['Not measured.']
  const of = (cache: 'cold' | 'warm'): number[] =>
    r.startup.filter((s) => s.cache === cache).map((s) => s.ms)
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1] ?? NaN
  return [
    'Our server (`dist/main.js`) with the demo ResNet-50 (`MODEL_URI=demo:resnet50`), until `/readyz` answers ' +
      '200 (model files ready, onnxruntime session open, warm-up run done), polled every 20 ms. Cold: ' +
      'an empty `MODEL_CACHE_DIR` (the model is generated and verified); warm: the same directory again.',
    '',
    '| cache | median ms | runs, ms |',
    '|---|---|---|',
    ...(['cold', 'warm'] as const).map(
      (c) =>
        `| ${c} | ${fmt(median(of(c)), 0)} | ${of(c)
          .map((ms) => fmt(ms, 0))
          .join(', ')} |`
    ),
  ]
}

function soakGoals(r: BenchResults): string[] {
  const s = r.soak
  if (!s) return [`Soak: **not measured** (${r.soakError?.split('\n')[0] ?? 'no result'})`]
  const growth = s.rssEndBytes / s.rssAfterFirst.bytes - 1
  return [
    `| Soak goal (MobileNetV2, INFERENCE_THREADS=2, default 30 s deadline) | Measured | |`,
    `|---|---|---|`,
    `| ≥ 20,000 mixed good and bad requests | ${s.requests} responses (${s.errors} connection errors, ${s.timeouts} timeouts) | ${verdict(s.requests >= 20_000)} |`,
    `| no 5xx | ${s.count5xx} 5xx | ${verdict(s.count5xx === 0)} |`,
    `| RSS at the end within ${100 * GOALS.soakRssGrowth} % of RSS after the first ${s.rssAfterFirst.requests} | ${mib(s.rssAfterFirst.bytes)} → ${mib(s.rssEndBytes)} MiB (${growth >= 0 ? '+' : ''}${pct(growth)}) | ${verdict(pass(growth, (v) => Math.abs(v) <= GOALS.soakRssGrowth))} |`,
  ]
}

/** CPU other processes used during the measured phases: the noise this run suffered. */
export function interference(r: BenchResults): { mean: number; max: number; phases: number } {
  const values = r.models.flatMap((m) => [
    ...(m.engine ? [...m.engine.sweep, ...m.engine.confirm].map((e) => e.othersCpuCores) : []),
    ...m.servers.flatMap((s) =>
      [s.sweep, s.overload ?? [], s.overloadOpenLoop ?? []].flat().map((p) => p.othersCpuCores)
    ),
  ])
  const finite = values.filter(Number.isFinite)
  return {
    mean: finite.reduce((a, b) => a + b, 0) / Math.max(1, finite.length),
    max: Math.max(...finite),
    phases: finite.length,
  }
}

function meaning(r: BenchResults): string[] {
  const lines: string[] = []
  const noise = interference(r)
  lines.push(
    `- Interference: other processes on this machine used on average ${fmt(noise.mean, 2)} of ` +
      `${r.machine.cores} cores (max ${fmt(noise.max, 2)}) during the ${noise.phases} measured phases` +
      (noise.mean > 0.25
        ? '. **This run was heavily disturbed: the absolute numbers are far below what the machine does ' +
          'when quiet, and phases measured minutes apart saw different interference, so even the ratios are rough.**'
        : '; ratios measured side by side are meaningful, absolute numbers less so.')
  )
  for (const m of r.models) {
    const a = m.engine?.best.imagesPerS
    const ours = m.servers.filter((s) => s.kind === 'ours')
    const naive = m.servers.find((s) => s.kind === 'naive')
    const c = naive?.saturation?.okPerS
    const parts = ours.map(
      (s) =>
        `${s.label.replace('ours, ', '')}: ${fmt(s.saturation?.okPerS)} req/s = ${fmt(ratio(s.saturation?.okPerS, a), 2)} × (a), ` +
        `/healthz p99 ${fmt(top(s.sweep)?.healthz?.p99)} ms, ` +
        `at ${s.overload?.overallRate ?? '–'} req/s offered (4 × S) autocannon sent only ${fmt(s.overload?.sentPerS, 0)}/s ` +
        `and got goodput ${fmt(ratio(s.overload?.okPerS, s.saturation?.okPerS), 2)} × S, accepted p99 ${fmt(s.overload?.latencyOk.p99, 0)} ms; ` +
        `the even open loop at 4 × the S of its own round got a median goodput of ${fmt(s.sideBySide?.overloadRatio, 2)} × S, ` +
        `accepted p99 ${fmt(s.sideBySide?.overloadAcceptedP99Ms, 0)} ms (median of the rounds); in its median round ` +
        `${s.overloadOpenLoop?.errors ?? '–'} requests were unanswered after 10 s`
    )
    lines.push(
      `- **${m.title}**: engine limit (a) ${fmt(a)} images/s; naive server (c) ${fmt(c)} req/s, ` +
        `so (a)/(c) = ${fmt(ratio(a, c), 2)} and (c) = ${fmt(ratio(c, a), 2)} × (a) ` +
        `(before the project: ${m.key === 'mobilenetv2' ? '(a) ≈ 1.4 × (c)' : '(c) ≈ 0.9 × (a)'}); ` +
        `naive /healthz p99 ${fmt(top(naive?.sweep ?? [])?.healthz?.p99)} ms. Our server, ${parts.join('; ')}. ` +
        `Ours/naive at saturation: ${ours.map((s) => fmt(ratio(s.saturation?.okPerS, c), 2)).join(' / ')} (threads ${ours.map((s) => s.threads).join(' / ')}).`
    )
  }
  if (r.soak) {
    const s = r.soak
    const growth = s.rssEndBytes / s.rssAfterFirst.bytes - 1
    const reasons = s.rejected
      ? Object.entries(s.rejected)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')
      : ''
    lines.push(
      `- Soak: ${s.requests} mixed requests, ${s.count5xx} 5xx` +
        (s.count5xx ? ` (refused before inference: ${reasons || 'none recorded'})` : '') +
        `, ${s.errors} connection errors; RSS ${mib(s.rssAfterFirst.bytes)} → ${mib(s.rssEndBytes)} MiB ` +
        `(${growth >= 0 ? '+' : ''}${pct(growth)}; the goal allows ±${100 * GOALS.soakRssGrowth} %).`
    )
  }
  const loaded = r.models.flatMap((m) => m.servers.map((s) => top(s.sweep))).filter((p) => p)
  const benchCpu = loaded.map((p) => p!.benchCpuCores)
  if (benchCpu.length) {
    lines.push(
      `- The load generator (autocannon) and the /healthz prober run in the bench process on the same ` +
        `${r.machine.cores} cores: at c=64 it used ${fmt(Math.min(...benchCpu), 2)}–${fmt(Math.max(...benchCpu), 2)} cores, ` +
        `which the server could not use; the engine limit (a) pays no HTTP or client cost, so the (b)/(a) ratios ` +
        `understate what the server would reach with a separate client machine.`
    )
  }
  return lines
}

const reasonsOf = (p: PhaseResult): string =>
  p.rejected
    ? Object.entries(p.rejected)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    : '–'

function sweepTable(m: ModelResult): string[] {
  const out = [
    '| Server | c | 2xx/s | p50 ms | p99 ms | 2xx p99 ms | non-2xx | refused by reason | conn. errors | mean batch | server CPU (cores) | bench CPU (cores) | other processes CPU (cores) | server loop lag p99 ms | RSS MiB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const s of m.servers) {
    for (const p of s.sweep) {
      out.push(
        `| ${s.label} | ${p.connections} | ${fmt(p.okPerS)} | ${fmt(p.latencyAll.p50, 0)} | ${fmt(p.latencyAll.p99, 0)} | ` +
          `${fmt(p.latencyOk.p99, 0)} | ${p.non2xx} | ${reasonsOf(p)} | ${p.errors} | ${fmt(p.meanBatchSize, 2)} | ${fmt(p.serverCpuCores, 2)} | ${fmt(p.benchCpuCores, 2)} | ${fmt(p.othersCpuCores, 2)} | ` +
          `${fmt(p.loopLagP99Ms, 1)} | ${mib(p.serverRssBytes)} |`
      )
    }
    if (s.error) out.push(`| ${s.label} | **error** | ${s.error.split('\n')[0]} |`)
  }
  return out
}

function healthzTable(m: ModelResult): string[] {
  const out = [
    '| Server (c=64) | probes | p50 ms | p95 ms | p99 ms | max ms | failed (counted as 5000 ms) | prober self-delay p99 ms |',
    '|---|---|---|---|---|---|---|---|',
  ]
  for (const s of m.servers) {
    const h = top(s.sweep)?.healthz
    if (!h) continue
    out.push(
      `| ${s.label} | ${h.n} | ${fmt(h.p50)} | ${fmt(h.p95)} | ${fmt(h.p99)} | ${fmt(h.max)} | ${h.failures} | ${fmt(h.proberLoopDelayP99Ms)} |`
    )
  }
  return out
}

function overloadTable(m: ModelResult, factor: number): string[] {
  const out = [
    `S is the throughput the offered rate is ${factor} × of: for autocannon the sweep's best, for the open loop ` +
      'the (b) of its side-by-side round. The open-loop row is the round with the median goodput.',
    '',
    '| Server | generator | S (2xx/s) | offered req/s | sockets (peak in flight) | sent/s | goodput 2xx/s | 503 share | other non-2xx | conn. errors | accepted p50 ms | accepted p99 ms | accepted p99 from schedule ms | all p99 ms | rejected by reason | CPU cores: server / bench / other processes |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const s of m.servers) {
    for (const o of [s.overload, s.overloadOpenLoop]) {
      if (!o) continue
      const total = Object.values(o.statusCounts).reduce((a, b) => a + b, 0)
      const n503 = o.statusCounts['503'] ?? 0
      const n2xx = Object.entries(o.statusCounts)
        .filter(([k]) => k.startsWith('2'))
        .reduce((a, [, n]) => a + n, 0)
      const reasons = reasonsOf(o)
      out.push(
        `| ${s.label} | ${o.generator} | ${fmt(o.overallRate === undefined ? NaN : o.overallRate / factor)} | ${o.overallRate ?? '–'} | ${o.connections} (${o.peakInFlight}) | ` +
          `${fmt(o.sentPerS)} | ${fmt(o.okPerS)} | ${pct(n503 / total)} | ${total - n503 - n2xx} | ${o.errors} | ` +
          `${fmt(o.latencyOk.p50, 0)} | ${fmt(o.latencyOk.p99, 0)} | ${fmt(o.latencyOkFromSchedule?.p99, 0)} | ` +
          `${fmt(o.latencyAll.p99, 0)} | ${reasons} | ` +
          `${fmt(o.serverCpuCores, 2)} / ${fmt(o.benchCpuCores, 2)} / ${fmt(o.othersCpuCores, 2)} |`
      )
    }
  }
  return out
}

function engineTable(m: ModelResult): string[] {
  const e = m.engine
  if (!e)
    return [`Engine limit: **not measured** (${m.engineError?.split('\n')[0] ?? 'no result'})`]
  const batches = [...new Set(e.sweep.map((r) => r.batchSize))]
  const flights = [...new Set(e.sweep.map((r) => r.inFlight))]
  const cell = (b: number, f: number): string =>
    fmt(e.sweep.find((r) => r.batchSize === b && r.inFlight === f)?.imagesPerS)
  return [
    `Sweep (2 intra-op threads, images/s, ${e.sweep[0]?.seconds.toFixed(1) ?? '?'} s each; other ` +
      `processes used ${fmt(Math.min(...e.sweep.map((r) => r.othersCpuCores)), 2)}–` +
      `${fmt(Math.max(...e.sweep.map((r) => r.othersCpuCores)), 2)} cores meanwhile):`,
    '',
    `| batch \\ in flight | ${flights.join(' | ')} |`,
    `|---|${flights.map(() => '---').join('|')}|`,
    ...batches.map((b) => `| ${b} | ${flights.map((f) => cell(b, f)).join(' | ')} |`),
    '',
    `Best setting re-run for longer: ${e.confirm
      .map(
        (r) =>
          `${r.threads} thread${r.threads > 1 ? 's' : ''}: ${fmt(r.imagesPerS)} images/s ` +
          `(other processes used ${fmt(r.othersCpuCores, 2)} cores meanwhile)`
      )
      .join(', ')} (same batch and in-flight count as the best sweep cell). ` +
      `**(a) = ${fmt(e.best.imagesPerS)} images/s**, the best of all these runs (batch ${e.best.batchSize}, ` +
      `${e.best.inFlight} in flight, ${e.best.threads} thread${e.best.threads > 1 ? 's' : ''}); on a noisy machine ` +
      `the best of many short runs leans high, which makes the (b)/(a) ratios conservative.`,
  ]
}

function rssTrend(s: NonNullable<BenchResults['soak']>): string {
  const marks = [0.1, 0.25, 0.5, 0.75].map((f) => Math.round(f * s.requests))
  const points = marks.flatMap((mark) => {
    const sample = s.rssSamples.find((x) => x.requests >= mark && Number.isFinite(x.bytes))
    return sample ? [`${sample.requests}: ${mib(sample.bytes)} MiB`] : []
  })
  return [...points, `${s.requests} (end): ${mib(s.rssEndBytes)} MiB`].join(' · ')
}

function soakTable(r: BenchResults): string[] {
  const s = r.soak
  if (!s) return []
  const codes = [...new Set(Object.values(s.byInput).flatMap((c) => Object.keys(c)))].sort()
  return [
    `The soak server keeps the default REQUEST_TIMEOUT_MS (30 s): the soak tests robustness and memory, ` +
      `not overload (with the bench's 2 s deadline a disturbed machine could turn some answers into 503 ` +
      `OVERLOADED, which would hide the 4xx paths the soak exercises). ` +
      `${s.requests} requests over ${s.connections} connections in ${fmt(s.durationS, 0)} s; statuses: ` +
      Object.entries(s.statusCounts)
        .map(([k, n]) => `${k} × ${n}`)
        .join(', ') +
      `. RSS: after ${s.rssAfterFirst.requests} ${mib(s.rssAfterFirst.bytes)} MiB, end ${mib(s.rssEndBytes)} MiB, ` +
      `2 s after the end ${mib(s.rssEndIdleBytes)} MiB, max sampled ${mib(s.rssMaxBytes)} MiB. ` +
      `Refused before inference (server metrics): ${
        s.rejected
          ? Object.entries(s.rejected)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ')
          : '–'
      }.` +
      (s.first5xx.length
        ? ` First 5xx answers: ${s.first5xx.map((f) => `${f.input} → ${f.status} \`${f.body.replace(/[|`\n]/g, ' ')}\``).join('; ')}.`
        : ''),
    '',
    `RSS by requests answered (sampled each second): ${rssTrend(s)}.`,
    '',
    `| Input | ${codes.join(' | ')} |`,
    `|---|${codes.map(() => '---').join('|')}|`,
    ...Object.entries(s.byInput).map(
      ([name, counts]) => `| ${name} | ${codes.map((c) => counts[c] ?? '').join(' | ')} |`
    ),
  ]
}

/** The Markdown section for the bench report. */
export function renderReport(r: BenchResults): string {
  const st = r.settings
  const lines: string[] = [
    '## Server benchmark (apps/resnet, issue 5)',
    '',
    `${r.startedAt} · ${r.machine.cpu} × ${r.machine.cores} · Node ${r.machine.node} · ${r.machine.memGiB} GiB · total ${fmt(r.totalSeconds, 0)} s` +
      (st.quick ? ' · **QUICK mode (short phases, not a real result)**' : ''),
    '',
    `Upload: ${st.upload}, ${r.uploadBytes} bytes. Our server: \`${st.launch}\` (as the container runs it) with MAX_BATCH_SIZE=${st.maxBatchSize}, ` +
      `MAX_QUEUE=${st.maxQueue}, REQUEST_TIMEOUT_MS=${st.requestTimeoutMs} (the deadline), INFERENCE_THREADS=2 (default here) and 1. ` +
      `Naive server: \`bench/naive-server.ts\` (node:http, sharp + one onnxruntime \`session.run\` per request on the main thread, 2 intra-op threads). ` +
      `Load: autocannon in the bench process, ${st.warmupS} s warm-up + ${st.measureS} s per concurrency; ` +
      `/healthz probed at ${st.probeRate} req/s from a worker thread during c=64, which is measured for ${st.probeMeasureS} s so that the p99 rests on ~${st.probeRate * st.probeMeasureS} probes (from ~80 probes a p99 is just the slowest one); overload at ${st.overloadFactor} × S for ${st.overloadS} s ` +
      `twice: with autocannon \`overallRate\` at 4 × the sweep's best 2xx/s (each connection sends its ` +
      `share in a burst at the start of every second and waits for each answer, so it offers less than asked when answers are slow; reference only) ` +
      `and, in each side-by-side round, with an even open loop at 4 × that round's (b) (requests started evenly spaced, answered or not, each on an idle raw keep-alive socket, up to ` +
      `${st.openLoopMaxSockets} sockets; accepted latency counts from the write, and also from the scheduled start). Latencies are autocannon's per-response times ` +
      `(from the 'response' event), split by status so accepted (2xx) requests are measured on their own. ` +
      `Before each phase the harness lets the server go idle and waits up to 8 s (30 s per run) for other processes ` +
      `to use < 0.3 cores; 'other processes CPU' shows what they used anyway.`,
    '',
    '### Goals',
    '',
    ...goalsTable(r),
    '',
    `The goals apply to the server as it runs by default here: INFERENCE_THREADS = the ${r.machine.cores} CPUs. ` +
      'INFERENCE_THREADS=1 columns are a variant, shown for comparison (marked "variant"). The 4× overload ' +
      "goal is measured with the even open loop, which offers 4 × S as the issue asks; autocannon's " +
      "overallRate sends each connection's share in a burst at the start of every second and waits for " +
      'each answer, so it offers far less than asked (see "sent/s" in the overload table) and its ' +
      'latencies include its own queueing: kept for reference only.',
    '',
    ...soakGoals(r),
    '',
    '### What this means',
    '',
    ...meaning(r),
  ]
  for (const m of r.models) {
    lines.push(
      '',
      `### ${m.title}`,
      '',
      '#### (a) Engine limit, in process (decode + preprocess + inference)',
      '',
      ...engineTable(m),
      '',
      `#### (a), (b) and ${st.overloadFactor}× overload side by side`,
      '',
      ...sideBySideTable(m),
      '',
      '#### (b) our server and (c) the naive server over HTTP',
      '',
      "p50/p99 cover every answer, '2xx p99' only accepted ones. 'refused by reason' is the server's " +
        'rejected_requests_total over the run (client_gone: requests still in flight when the load ' +
        'generator stopped).',
      '',
      ...sweepTable(m),
      '',
      '#### /healthz during c=64',
      '',
      ...healthzTable(m),
      '',
      `#### ${st.overloadFactor}× overload`,
      '',
      ...overloadTable(m, st.overloadFactor)
    )
  }
  lines.push('', '### Start-up: process start → `/readyz` 200', '', ...startupTable(r))
  lines.push('', '### Soak (mixed good and bad inputs)', '', ...soakTable(r))
  return lines.join('\n') + '\n'
}
