// `pnpm bench`: a 500 MB model from a local S3 server (s3rver on 127.0.0.1), behind the shaping
// proxy (tests/support: per-connection and link caps, first-byte delay) and straight on loopback,
// each download in a fresh child process that reports its time, CPU and RSS growth: ours
// (loadModel: parallel ranged GETs, hashing while downloading, fsync, verify, rename) as a bundle
// with SHA256SUMS (SHA-256) and as a single object (MD5 ETag + SHA-256), against one plain
// GetObject piped to a file. The parent (s3rver + proxy) measures its own CPU during each
// download. Also times a repeated loadModel of the unchanged source (the hot-reload poll). Writes
// $BENCH_OUT_DIR/model-loader.md and .json. Runs on Node 24 (type stripping).
// Knobs: BENCH_MODEL_LOADER_MB (size, default 500), BENCH_RUNS (rounds, default 3),
// BENCH_QUICK=1 (harness debugging: 64 MB, 1 round), BENCH_ONLY, BENCH_NETWORKS, BENCH_LINK_MB
// (below). `pnpm bench` runs it with UV_USE_IO_URING=0: the container runtimes' default seccomp
// profiles refuse io_uring (podman's /usr/share/containers/seccomp.json allows no io_uring_*
// call), so in the image libuv does file I/O on its thread pool, and the bench does the same. On
// the host libuv would use io_uring: 4 alternating pairs here (2026-12-03, 200 MB/s shaped link),
// ours 159 vs 139 MB/s (medians), client CPU 2.98 vs 3.46 s per 500 MB without and with it.
import { spawn } from 'node:child_process'
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE, loadModel } from '@resnet/model-loader'
import { cpuSplit, onCpus, pinSelf } from '../../../tests/support/src/cpu-pin.ts'
import { startLocalS3 } from '../../../tests/support/src/s3-server.ts'
import { SCALED_S3, startShapingProxy } from '../../../tests/support/src/shaping-proxy.ts'
import { writeBigOnnx } from './big-onnx.ts'
import { MODES, report } from './report.ts'
import type { DemoRun, Mode, Network, Run } from './report.ts'

const MB = 1024 * 1024
/** The server's V8 flags (apps/resnet/src/launch.ts), then BENCH_NODE_FLAGS (profiling, GC). */
const SERVER_FLAGS = [
  '--max-semi-space-size=16',
  ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
]
const QUICK = process.env.BENCH_QUICK === '1'
const SIZE_MB = Number(process.env.BENCH_MODEL_LOADER_MB ?? (QUICK ? 64 : 500))
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 3))
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
/** BENCH_ONLY=ours,plain and BENCH_NETWORKS=shaped: a part of the bench (harness debugging). */
const ONLY = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean)
const NETWORKS = (process.env.BENCH_NETWORKS ?? 'shaped,loopback').split(',') as Network[]
/** BENCH_LINK_MB=100: a link further scaled down (per connection an eighth of it, as in SCALED_S3). */
const LINK_MB = Number(process.env.BENCH_LINK_MB ?? 0)
const SHAPING = LINK_MB
  ? {
      perConnectionBytesPerS: (LINK_MB * MB) / 8,
      linkBytesPerS: LINK_MB * MB,
      firstByteDelayMs: 20,
    }
  : SCALED_S3
/**
 * On the shaped network the client (the task) runs on its own CPU and s3rver and the proxy (S3
 * and the network, which cost a task no CPU on AWS) on the others; on loopback (the CPU-bound
 * comparison, both sides with the same machine) nothing is pinned. BENCH_PIN=0: never pinned.
 */
const SPLIT = process.env.BENCH_PIN === '0' ? undefined : cpuSplit()
const URIS = { single: 's3://models/single/model.onnx', bundle: 's3://models/bundle/' }

const status = (field: 'VmRSS' | 'VmHWM'): number =>
  Number(
    new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
  ) * 1024

// ---- child: one download, measured from the inside ----
async function plainGet(client: S3Client, target: string): Promise<number> {
  const got = await client.send(
    new GetObjectCommand({ Bucket: 'models', Key: 'single/model.onnx' })
  )
  await pipeline(got.Body as NodeJS.ReadableStream, createWriteStream(target))
  return statSync(target).size
}

async function ours(
  uri: string,
  target: string,
  cpuS: () => number
): Promise<
  Pick<Run, 'bytes' | 'pollMs' | 'pollDownloadedBytes' | 'cpuS'> & { peak: number; ms: number }
> {
  const started = performance.now()
  const bundle = await loadModel({ uri, cacheDir: target })
  const ms = performance.now() - started
  const cpu = cpuS()
  process.stdout.write('END\n')
  const peak = status('VmHWM')
  const t = performance.now()
  const again = await loadModel({ uri, cacheDir: target })
  const pollMs = performance.now() - t
  await Promise.all([bundle.release(), again.release()])
  return {
    bytes: bundle.downloadedBytes,
    ms,
    cpuS: cpu,
    peak,
    pollMs,
    pollDownloadedBytes: again.downloadedBytes,
  }
}

async function child(mode: Mode, network: Network, target: string): Promise<void> {
  const client = new S3Client({}) // endpoint, region and credentials from the environment
  await client.send(new HeadObjectCommand({ Bucket: 'models', Key: 'single/model.onnx' })) // SDK loaded
  const rssBeforeBytes = status('VmRSS')
  process.stdout.write('START\n')
  const cpu0 = process.cpuUsage()
  const started = performance.now()
  const cpuS = (): number => {
    const { user, system } = process.cpuUsage(cpu0)
    return (user + system) / 1e6
  }
  let run: ChildRun
  if (mode === 'plain') {
    const bytes = await plainGet(client, target)
    const ms = performance.now() - started
    const cpu = cpuS()
    process.stdout.write('END\n')
    run = {
      mode,
      network,
      ms,
      cpuS: cpu,
      bytes,
      rssBeforeBytes,
      peakRssBytes: status('VmHWM'),
    }
  } else {
    const uri = mode === 'ours-md5' ? URIS.single : URIS.bundle
    const { peak, ...rest } = await ours(uri, target, cpuS)
    run = { mode, network, ...rest, rssBeforeBytes, peakRssBytes: peak }
  }
  process.stdout.write(JSON.stringify(run))
  client.destroy()
}

/** Cold (empty cache: the model is generated) then warm (cached), each in a fresh process. */
async function demoRuns(dir: string): Promise<DemoRun[]> {
  const runs: DemoRun[] = []
  for (let i = 0; i < RUNS; i++) {
    const cacheDir = path.join(dir, `demo-${i}`)
    for (const cache of ['cold', 'warm'] as const) {
      const out = await new Promise<string>((resolve, reject) => {
        const demoStart = fileURLToPath(new URL('./demo-start.ts', import.meta.url))
        const proc = spawn(process.execPath, [demoStart, cacheDir], {
          stdio: ['ignore', 'pipe', 'inherit'],
        })
        let text = ''
        proc.stdout.on('data', (d: Buffer) => (text += d.toString()))
        proc.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`demo ${code}`))))
      })
      runs.push({ cache, ...(JSON.parse(out) as Omit<DemoRun, 'cache'>) })
    }
    rmSync(cacheDir, { recursive: true, force: true })
  }
  return runs
}

/** What a child measures (the parent adds the server's CPU). */
type ChildRun = Omit<Run, 'serverCpuS'>

/**
 * One download in a child process. The child writes a line when its download starts and one when
 * it ends (`START`, `END`), then its result: `serverCpuS` is this process's (s3rver's) CPU between
 * the two.
 */
function runChild(
  mode: Mode,
  network: Network,
  target: string,
  env: Record<string, string>
): Promise<Run> {
  return new Promise((resolve, reject) => {
    // the V8 flags the server runs the loader with (apps/resnet/src/launch.ts), for every mode
    if (SPLIT) pinSelf(network === 'shaped' ? SPLIT.aws : SPLIT.all)
    const [command, ...args] = onCpus(network === 'shaped' ? SPLIT?.task : undefined, [
      process.execPath,
      ...SERVER_FLAGS,
      fileURLToPath(import.meta.url),
      'child',
      mode,
      network,
      target,
    ])
    const proc = spawn(command!, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    let cpu0 = process.cpuUsage()
    let serverCpuS = NaN
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl)
        out = out.slice(nl + 1)
        if (line === 'START') cpu0 = process.cpuUsage()
        if (line === 'END') {
          const { user, system } = process.cpuUsage(cpu0)
          serverCpuS = (user + system) / 1e6
        }
      }
    })
    proc.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${mode} exited ${code}`))
      resolve({ ...(JSON.parse(out) as ChildRun), serverCpuS })
    })
  })
}

// ---- parent ----
async function upload(s3: Awaited<ReturnType<typeof startLocalS3>>, dir: string): Promise<number> {
  const t0 = performance.now()
  const source = path.join(dir, 'model.onnx')
  const sha256 = await writeBigOnnx(source, SIZE_MB * MB)
  const put = (Key: string, Body: PutObjectCommand['input']['Body'], ContentLength: number) =>
    s3.client.send(new PutObjectCommand({ Bucket: 'models', Key, Body, ContentLength }))
  await put('single/model.onnx', createReadStream(source), statSync(source).size) // one part: ETag = MD5
  rmSync(source)
  const CopySource = 'models/single/model.onnx'
  await s3.client.send(
    new CopyObjectCommand({ Bucket: 'models', Key: 'bundle/model.onnx', CopySource })
  )
  const sums = Buffer.from(`${sha256}  model.onnx\n`)
  await put('bundle/SHA256SUMS', sums, sums.length)
  return (performance.now() - t0) / 1000
}

const loadAverage = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])

async function main(): Promise<void> {
  const loadAtStart = loadAverage()
  const dir = mkdtempSync(path.join(tmpdir(), 'model-loader-bench-'))
  const s3 = await startLocalS3(['models'])
  const proxy = await startShapingProxy(s3.endpoint, SHAPING)
  try {
    const setupS = await upload(s3, dir)
    const env = (network: Network) => ({
      ...s3.env,
      AWS_ENDPOINT_URL_S3: network === 'shaped' ? proxy.url : s3.endpoint,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    })
    const target = (i: number): string => path.join(dir, `run-${i}`)
    // warm-up, not measured: both objects into the page cache, and a first download of each kind
    // (the first child's download was 111-118 MB/s on the shaped link with 1.5x the CPU, the next
    // 164-169, on a machine otherwise idle)
    for (const mode of ['plain', 'ours'] as const) {
      await runChild(mode, 'loopback', target(0), env('loopback'))
      rmSync(target(0), { recursive: true, force: true })
    }
    const runs: Run[] = []
    for (let round = 0; round < RUNS; round++) {
      for (const network of NETWORKS) {
        for (const mode of MODES.filter((m) => ONLY.length === 0 || ONLY.includes(m))) {
          const t = target(runs.length + 1)
          const r = await runChild(mode, network, t, env(network))
          runs.push(r)
          rmSync(t, { recursive: true, force: true })
          const cpu = `client ${r.cpuS.toFixed(2)} s, server ${r.serverCpuS.toFixed(2)} s of CPU`
          console.error(
            `${network} ${mode}: ${(r.bytes / MB / (r.ms / 1000)).toFixed(0)} MB/s, ${cpu}`
          )
        }
      }
    }
    if (SPLIT) pinSelf(SPLIT.all)
    const demo = await demoRuns(dir)
    const { perConnectionBytesPerS, linkBytesPerS, firstByteDelayMs } = proxy.shaping
    const { markdown, json } = report(runs, {
      demo,
      sizeMb: SIZE_MB,
      runsPerMode: RUNS,
      setupS,
      cpus: cpus().length, // availableParallelism() is 1 once this process is pinned
      pinning: SPLIT
        ? `on the shaped network the client on CPU ${SPLIT.task}, s3rver and the proxy on CPU ${SPLIT.aws}`
        : undefined,
      concurrency: DEFAULT_CONCURRENCY,
      partMb: DEFAULT_PART_SIZE / MB,
      loadAverage: [loadAtStart, loadAverage()],
      shaping: {
        perConnectionMbPerS: perConnectionBytesPerS / MB,
        linkMbPerS: linkBytesPerS / MB,
        firstByteDelayMs,
      },
    })
    const out = process.env.BENCH_OUT_DIR ?? path.join(ROOT, '.artifacts/bench')
    mkdirSync(out, { recursive: true })
    writeFileSync(path.join(out, 'model-loader.md'), `${markdown}\n`)
    writeFileSync(path.join(out, 'model-loader.json'), `${JSON.stringify(json, null, 2)}\n`)
    console.log(markdown)
  } finally {
    await proxy.close()
    await s3.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

const [mode, modeArg, networkArg, target] = process.argv.slice(2)
if (mode === 'child') await child(modeArg as Mode, networkArg as Network, target ?? '')
else await main()
