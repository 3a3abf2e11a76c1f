/**
 * A local production rehearsal: s3rver holding the model, N replicas of the real image behind
 * HAProxy configured like the ALB, steady load, a rolling restart, then a model version change.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { MOBILENET_DIR, IMAGES_DIR, startLocalS3 } from '@resnet/test-support'
import type { LocalS3 } from '@resnet/test-support'
import { startHaproxy, haproxyConfig } from './haproxy.ts'
import type { CheckTiming } from './haproxy.ts'
import { freePort, waitFor200 } from './http.ts'
import { containerLogs, removeContainers, startContainer, stopContainer } from './podman.ts'
import { steadyLoad } from './steady-load.ts'
import type { LoadReport } from './steady-load.ts'

/** What the rehearsal measured. */
export interface RehearsalReport {
  readonly replicas: number
  readonly load: LoadReport
  readonly stops: readonly { exitCode: number; seconds: number }[]
  readonly seconds: number
}

// ALB-like checks: every 500 ms, 2 to turn healthy or unhealthy. The replicas keep serving for
// DRAIN_DELAY_S after SIGTERM, longer than the balancer needs to notice (2 x 500 ms).
const CHECK: CheckTiming = { intervalMs: 500, healthy: 2, unhealthy: 2 }
const DRAIN_DELAY_S = 2
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function uploadModel(s3: LocalS3, version: string): Promise<void> {
  await s3.put('models', 'mobilenet/model.onnx', path.join(MOBILENET_DIR, 'model.onnx'))
  await s3.put('models', 'mobilenet/labels.txt', path.join(MOBILENET_DIR, 'labels.txt'))
  await s3.put('models', 'mobilenet/config.json', Buffer.from(JSON.stringify({ version })))
}

/** Runs the rehearsal; `log` receives progress lines. Always cleans up. */
export async function runRehearsal(
  replicas = 3,
  log: (line: string) => void = console.info
): Promise<RehearsalReport> {
  const started = performance.now()
  const dir = await mkdtemp(path.join(tmpdir(), 'rehearsal-'))
  const s3 = await startLocalS3(['models'])
  const slots = await Promise.all(Array.from({ length: 2 * replicas }, freePort))
  const names = slots.map((port) => `rehearsal-${port}`)
  let haproxy: Awaited<ReturnType<typeof startHaproxy>> | undefined
  const replica = async (port: number): Promise<void> => {
    await removeContainers(`rehearsal-${port}`)
    await startContainer({
      name: `rehearsal-${port}`,
      env: {
        ...s3.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        MODEL_URI: 's3://models/mobilenet/',
        DRAIN_DELAY_S: String(DRAIN_DELAY_S),
        SHUTDOWN_TIMEOUT_S: '20',
        INFERENCE_THREADS: '1',
        LOG_LEVEL: 'warn',
      },
    })
    await waitFor200(`http://127.0.0.1:${port}/readyz`, 120_000).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\n${await containerLogs(`rehearsal-${port}`)}`)
    })
  }
  try {
    await uploadModel(s3, 'v1')
    let active = slots.slice(0, replicas)
    let spare = slots.slice(replicas)
    await Promise.all(active.map(replica))
    const front = await freePort()
    haproxy = await startHaproxy(dir, haproxyConfig(front, slots, CHECK))
    await waitFor200(`http://127.0.0.1:${front}/readyz`, 30_000)
    await sleep(CHECK.intervalMs * CHECK.healthy + 500)
    log(`${replicas} replicas ready behind haproxy on :${front}; starting steady load`)
    const load = steadyLoad(
      `http://127.0.0.1:${front}/predict`,
      await readFile(`${IMAGES_DIR}cat.jpg`),
      8
    )
    const stops: { exitCode: number; seconds: number }[] = []
    // ECS with min healthy 100% / max 200%: start the replacement, wait until the balancer
    // sees it healthy, then SIGTERM the old task, which drains and exits.
    const roll = async (label: string): Promise<void> => {
      for (let i = 0; i < replicas; i++) {
        const [next, old] = [spare[i]!, active[i]!]
        await replica(next)
        await sleep(CHECK.intervalMs * (CHECK.healthy + 1))
        stops.push(await stopContainer(`rehearsal-${old}`, 30))
        log(`${label}: replaced :${old} with :${next} (${load.count()} responses so far)`)
      }
      ;[active, spare] = [spare, active]
    }
    await sleep(2000)
    await roll('rolling restart')
    await uploadModel(s3, 'v2')
    await roll('model version change')
    await sleep(2000)
    const report = await load.stop()
    log(`load: ${JSON.stringify(report)}`)
    return { replicas, load: report, stops, seconds: (performance.now() - started) / 1000 }
  } finally {
    haproxy?.kill('SIGTERM')
    await removeContainers(...names)
    await s3.close()
    await rm(dir, { recursive: true, force: true })
  }
}
