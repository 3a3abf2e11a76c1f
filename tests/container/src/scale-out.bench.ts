// `pnpm bench` (tests/container): what a new ECS task costs before it takes traffic. The real
// image starts (podman run, read-only root, volumes as on ECS) and pulls the demo ResNet-50 (102 MB)
// from s3rver through the shaping proxy (tests/support: a scaled-down S3 + task network), until
// /readyz answers 200: with an empty model cache (cold: a new task) and with the cache of the run
// before (warm: a restarted task on the same volume), 3 runs each, alternating; and the image size.
// Writes $BENCH_OUT_DIR/container.md and .json; without podman or the image, says so and exits 0.
// Knobs: BENCH_RUNS (runs per cache state, default 3).
import { writeFileSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureDemoBundle } from '@resnet/model-loader'
import { SCALED_S3, startLocalS3, startShapingProxy } from '@resnet/test-support'
import { freePort, waitFor200 } from './http.ts'
import { IMAGE, imageAvailable, podman, removeContainers, startContainer } from './podman.ts'

const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const OUT =
  process.env.BENCH_OUT_DIR ?? fileURLToPath(new URL('../../../.artifacts/bench', import.meta.url))
const MiB = 1024 * 1024
const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

function write(markdown: string, json: object): void {
  writeFileSync(path.join(OUT, 'container.md'), `${markdown}\n`)
  writeFileSync(path.join(OUT, 'container.json'), `${JSON.stringify(json, null, 2)}\n`)
  console.log(markdown)
}

/** Starts one container on `cache` and returns the seconds from `podman run` to /readyz 200. */
async function startToReady(env: Record<string, string>, cache: string): Promise<number> {
  const port = await freePort()
  const name = `scale-out-${port}`
  const started = performance.now()
  try {
    await startContainer({
      name,
      env: { ...env, HOST: '127.0.0.1', PORT: String(port), INFERENCE_THREADS: '2' },
      volumes: [`${cache}:/cache`],
    })
    await waitFor200(`http://127.0.0.1:${port}/readyz`, 180_000)
    return (performance.now() - started) / 1000
  } finally {
    await removeContainers(name)
  }
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true })
  if (!(await imageAvailable())) {
    write(
      `## Scale-out: container start -> ready\n\nSkipped: podman or the image ${IMAGE} is not available (CI builds it).`,
      { skipped: true }
    )
    return
  }
  const bytes = Number(await podman(['image', 'inspect', '-f', '{{.Size}}', IMAGE]))
  const s3 = await startLocalS3(['models'])
  const proxy = await startShapingProxy(s3.endpoint)
  const work = await mkdtemp(path.join(tmpdir(), 'scale-out-'))
  try {
    const demo = await ensureDemoBundle(path.join(work, 'gen'))
    for (const file of ['model.onnx', 'labels.txt', 'config.json']) {
      await s3.put('models', `demo/${file}`, path.join(demo.dir, file))
    }
    const env = {
      ...s3.env,
      AWS_ENDPOINT_URL_S3: proxy.url,
      MODEL_URI: 's3://models/demo/',
      MODEL_CACHE_DIR: '/cache',
    }
    const cold: number[] = []
    const warm: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const cache = path.join(work, `cache-${i}`)
      await mkdir(cache)
      await chmod(cache, 0o777) // the image runs as the unprivileged "node" user
      cold.push(await startToReady(env, cache))
      warm.push(await startToReady(env, cache))
      console.error(
        `run ${i + 1}: cold ${cold.at(-1)!.toFixed(2)} s, warm ${warm.at(-1)!.toFixed(2)} s`
      )
    }
    const { perConnectionBytesPerS, linkBytesPerS, firstByteDelayMs } = SCALED_S3
    const markdown = [
      '## Scale-out: container start -> ready',
      '',
      `The image ${IMAGE}, \`podman run\` -> \`/readyz\` 200 (read-only root, the model cache on a volume), the demo ResNet-50 (102 MB) from s3rver through the shaping proxy (${perConnectionBytesPerS / MiB} MB/s per connection, ${linkBytesPerS / MiB} MB/s link, ${firstByteDelayMs} ms to the first byte; MB = MiB), ${RUNS} runs each, alternating.`,
      '',
      `- image size: **${(bytes / 1e6).toFixed(0)} MB** (podman image inspect; goal <= 300 MB) ${bytes <= 300e6 ? '**PASS**' : '**MISS**'}`,
      `- start -> ready, cold cache (a new task: download, verify, open, warm up): **${median(cold).toFixed(2)} s** median (${cold.map((s) => s.toFixed(2)).join(', ')})`,
      `- start -> ready, warm cache (a restarted task on the same volume): **${median(warm).toFixed(2)} s** median (${warm.map((s) => s.toFixed(2)).join(', ')})`,
      '',
      'Not included: the image pull (Fargate pulls the whole image at every task start: ~0.29 GB here) and the task placement.',
    ].join('\n')
    write(markdown, {
      imageBytes: bytes,
      coldS: cold,
      warmS: warm,
      coldMedianS: median(cold),
      warmMedianS: median(warm),
    })
  } finally {
    await proxy.close()
    await s3.close()
    await rm(work, { recursive: true, force: true })
  }
}

await main()
