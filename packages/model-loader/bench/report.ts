// Bench results -> the Markdown section (goals first, then the tables behind them) and JSON.
const MB = 1024 * 1024

/** The kinds of download compared. */
export type Mode = 'plain' | 'ours' | 'ours-md5'
/** The order runs alternate in, within each round. */
export const MODES: readonly Mode[] = ['plain', 'ours', 'ours-md5']
/** Where S3 is: behind the shaping proxy, or straight on loopback. */
export type Network = 'shaped' | 'loopback'

/** What one child process measured. */
export interface Run {
  readonly mode: Mode
  readonly network: Network
  readonly ms: number
  /** CPU seconds of the whole client process during the download */
  readonly cpuS: number
  /** CPU seconds of the parent (s3rver + the shaping proxy, one event loop) during the download */
  readonly serverCpuS: number
  readonly bytes: number
  readonly rssBeforeBytes: number
  readonly peakRssBytes: number
  /** ours only: a second loadModel of the unchanged source */
  readonly pollMs?: number
  readonly pollDownloadedBytes?: number
}

/** The demo ResNet-50 loaded in a fresh process: the loader's share of the time to `/readyz`. */
export interface DemoRun {
  readonly cache: 'cold' | 'warm'
  /** From process start (module loading included) until `loadModel` returned */
  readonly sinceStartMs: number
}

/** The issue's thresholds. */
export const GOALS = { shapedOfLink: 0.85, loopbackOfPlain: 0.8, rssGrowthMb: 100 }

const LABELS: Record<Mode, string> = {
  plain: 'one plain `GetObject` piped to `fs.createWriteStream` (no verification, no fsync)',
  ours: 'ours, bundle with SHA256SUMS: `loadModel` (List, HEAD, ranged GETs in parallel, SHA-256 while downloading, fsync, verify, rename, manifest)',
  'ours-md5':
    'ours, single object verified by its ETag: the same with MD5 + SHA-256 (HEAD instead of List)',
}

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
const mbPerS = (r: Run): number => r.bytes / MB / (r.ms / 1000)
const growthMb = (r: Run): number => (r.peakRssBytes - r.rssBeforeBytes) / MB
/** Cores busy during a download: the client's CPU and the server's (s3rver + proxy) per second. */
const coresBusy = (r: Run): number => (r.cpuS + r.serverCpuS) / (r.ms / 1000)
const verdict = (ok: boolean): string => (ok ? '**PASS**' : '**MISS**')

function row(rs: readonly Run[], mode: Mode, linkMbPerS: number | undefined): string {
  const speed = median(rs.map(mbPerS))
  const cells = [
    `${speed.toFixed(0)} (${rs.map((r) => mbPerS(r).toFixed(0)).join(', ')})`,
    linkMbPerS ? (speed / linkMbPerS).toFixed(2) : '',
    median(rs.map((r) => r.ms / 1000)).toFixed(2),
    median(rs.map((r) => r.cpuS)).toFixed(2),
    median(rs.map((r) => r.serverCpuS)).toFixed(2),
    median(rs.map(coresBusy)).toFixed(2),
    Math.max(...rs.map(growthMb)).toFixed(0),
  ]
  return `| ${LABELS[mode]} | ${cells.join(' | ')} |`
}

/** Settings of the run, for the report. */
export interface BenchSetup {
  readonly sizeMb: number
  readonly runsPerMode: number
  readonly cpus: number
  /** Which CPUs the client and the stand-ins for S3 ran on; undefined: all shared every CPU. */
  readonly pinning: string | undefined
  readonly setupS: number
  readonly concurrency: number
  readonly partMb: number
  readonly shaping: { perConnectionMbPerS: number; linkMbPerS: number; firstByteDelayMs: number }
  readonly demo: readonly DemoRun[]
  /** /proc/loadavg (1-minute) when the bench started and ended: the other work on the machine */
  readonly loadAverage: readonly [start: number, end: number]
}

/** The Markdown section and the JSON summary of a run. */
export function report(
  runs: readonly Run[],
  setup: BenchSetup
): { markdown: string; json: object } {
  const of = (network: Network, mode: Mode) =>
    runs.filter((r) => r.network === network && r.mode === mode)
  const speed = (network: Network, mode: Mode) => median(of(network, mode).map(mbPerS))
  const link = setup.shaping.linkMbPerS
  const shaped = speed('shaped', 'ours') / link
  const shapedMd5 = speed('shaped', 'ours-md5') / link
  const plainShaped = speed('shaped', 'plain') / link
  const loopback = speed('loopback', 'ours') / speed('loopback', 'plain')
  const loopbackMd5 = speed('loopback', 'ours-md5') / speed('loopback', 'plain')
  const growth = Math.max(...runs.filter((r) => r.mode !== 'plain').map(growthMb))
  const demo = (cache: DemoRun['cache']) =>
    median(setup.demo.filter((d) => d.cache === cache).map((d) => d.sinceStartMs))
  const polls = runs.filter((r) => r.pollMs !== undefined)
  // CPU seconds (client + s3rver + proxy) of one shaped download of ours, and the cores that
  // would take at the link's cap: more than the machine has means the CPU, not the link, limits
  const shapedCpuS = median(of('shaped', 'ours').map((r) => r.cpuS + r.serverCpuS))
  const coresAtCap = shapedCpuS / (setup.sizeMb / setup.shaping.linkMbPerS)
  const { perConnectionMbPerS: perConn, firstByteDelayMs } = setup.shaping
  const header =
    '| download | MB/s, median (runs) | of the link cap | seconds | client CPU s | server CPU s | cores busy | RSS growth MB (max) |\n|---|---|---|---|---|---|---|---|'
  const table = (network: Network) => [
    header,
    ...MODES.map((m) => row(of(network, m), m, network === 'shaped' ? link : undefined)),
  ]
  const markdown = [
    '## model-loader: download from S3',
    '',
    `${setup.sizeMb} MB model from s3rver on 127.0.0.1, each download in a fresh process, ${setup.runsPerMode} alternating rounds of every mode; ours with the defaults (${setup.concurrency} ranged GETs of ${setup.partMb} MiB at once). MB = MiB.`,
    '',
    `**Shaped network** (tests/support's shaping proxy in front of s3rver): ${perConn} MB/s per connection, ${link} MB/s for the whole link, ${firstByteDelayMs} ms before each response's first byte. S3 and a task's NIC scaled down by ~${(100 / perConn).toFixed(0)} (one real S3 GET stream gives ~85-100 MB/s), meant to keep the ${setup.cpus} cores, which run s3rver, the proxy and the client, from being the limit; ${setup.pinning === undefined ? 'not pinned: all three shared every CPU' : `pinned: ${setup.pinning} (a task's own vCPU; S3 and the network cost it none)`}. Ours took ${shapedCpuS.toFixed(1)} CPU-s per download (client + server, median): **${coresAtCap.toFixed(2)} cores at the link's cap** (${coresAtCap < setup.cpus ? 'fewer' : 'more'} than the machine's ${setup.cpus}; the cores the bench got are in the "cores busy" column).`,
    '',
    `- shaped, ours / link cap: **${shaped.toFixed(2)}** (goal >= ${GOALS.shapedOfLink}) ${verdict(shaped >= GOALS.shapedOfLink)}; single object (MD5 + SHA-256): ${shapedMd5.toFixed(2)}; one plain GetObject: ${plainShaped.toFixed(2)} (one connection's cap)`,
    `- loopback (no shaping), ours / plain GetObject: **${loopback.toFixed(2)}** (goal >= ${GOALS.loopbackOfPlain}) ${verdict(loopback >= GOALS.loopbackOfPlain)}; single object: ${loopbackMd5.toFixed(2)}`,
    `- RSS growth of ours, worst run: **${growth.toFixed(0)} MB** (goal < ${GOALS.rssGrowthMb}) ${verdict(growth < GOALS.rssGrowthMb)}`,
    `- a poll of the unchanged source (second \`loadModel\`): ${median(polls.map((r) => r.pollMs!)).toFixed(0)} ms median, ${Math.max(...polls.map((r) => r.pollDownloadedBytes!))} bytes downloaded`,
    `- demo ResNet-50, process start -> \`loadModel\` done: cold cache (generated) ${demo('cold').toFixed(0)} ms, warm ${demo('warm').toFixed(0)} ms (medians)`,
    '',
    '### Shaped network',
    '',
    ...table('shaped'),
    '',
    '### Loopback',
    '',
    ...table('loopback'),
    '',
    `Setup (writing and uploading the model) took ${setup.setupS.toFixed(0)} s; ${setup.cpus} CPUs, load average ${setup.loadAverage.join(' at the start, ')} at the end (other agents' work on the same cores: the noise).`,
  ].join('\n')
  const json = {
    sizeMb: setup.sizeMb,
    shaping: setup.shaping,
    shapedOursOfLink: shaped,
    shapedOursMd5OfLink: shapedMd5,
    shapedPlainOfLink: plainShaped,
    loopbackOursOfPlain: loopback,
    loopbackOursMd5OfPlain: loopbackMd5,
    rssGrowthMb: growth,
    shapedOursCpuS: shapedCpuS,
    coresAtLinkCap: coresAtCap,
    pinning: setup.pinning ?? 'none',
    loadAverage: setup.loadAverage,
    demoColdMs: demo('cold'),
    demoWarmMs: demo('warm'),
    runs,
  }
  return { markdown, json }
}
