/**
 * The tutorial's two hosts on one balancer, rehearsed locally: HAProxy routes resnet.example.com
 * and catboost.example.com (Host header, as the ALB's listener rules) to the real images of
 * apps/resnet and apps/catboost under steady load on both; resnet rolls (a replacement started,
 * checked healthy, the old one drained by SIGTERM) while the catboost container stays untouched.
 */
import { chmod, mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { breastCancerTreeBundle, IMAGES_DIR, MOBILENET_DIR } from '@resnet/test-support'
import { hostRoutingConfig, startHaproxy } from './haproxy.ts'
import type { CheckTiming } from './haproxy.ts'
import { freePort, hostRequest, waitFor200 } from './http.ts'
import {
  CATBOOST_IMAGE,
  containerLogs,
  podman,
  removeContainers,
  startContainer,
  stopContainer,
} from './podman.ts'
import { steadyCalls } from './steady-load.ts'
import type { LoadReport } from './steady-load.ts'

/** What the two-host rehearsal measured. */
export interface TwoHostReport {
  readonly resnet: LoadReport
  readonly catboost: LoadReport
  /** Exit codes of the resnet replicas stopped by the roll. */
  readonly stops: readonly { exitCode: number; seconds: number }[]
  /** The catboost container's id and start time, before and after the roll. */
  readonly catboostBefore: string
  readonly catboostAfter: string
  /** What the balancer answers for a host no app serves. */
  readonly unknownHostStatus: number
  readonly seconds: number
}

export const HOSTS = { resnet: 'resnet.example.com', catboost: 'catboost.example.com' } as const
const CHECK: CheckTiming = { intervalMs: 500, healthy: 2, unhealthy: 2 }
const DRAIN_DELAY_S = 2
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs the rehearsal; `log` receives progress lines. Always cleans up. */
export async function runTwoHostRehearsal(
  log: (line: string) => void = console.info
): Promise<TwoHostReport> {
  const started = performance.now()
  const dir = await mkdtemp(path.join(tmpdir(), 'two-hosts-'))
  const bundle = await breastCancerTreeBundle()
  // the image runs as `node`: the generated bundle must be readable by others
  await chmod(bundle.dir, 0o755)
  for (const f of await readdir(bundle.dir)) await chmod(path.join(bundle.dir, f), 0o755)
  const [r1, r2, c1, front] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
  const names = [r1, r2, c1].map((port) => `two-hosts-${port}`)
  let haproxy: Awaited<ReturnType<typeof startHaproxy>> | undefined
  const common = (port: number) => ({
    HOST: '127.0.0.1',
    PORT: String(port),
    MODEL_URI: '/models',
    DRAIN_DELAY_S: String(DRAIN_DELAY_S),
    SHUTDOWN_TIMEOUT_S: '20',
    INFERENCE_THREADS: '1',
    LOG_LEVEL: 'warn',
  })
  const ready = (port: number) =>
    waitFor200(`http://127.0.0.1:${port}/readyz`, 120_000).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\n${await containerLogs(`two-hosts-${port}`)}`)
    })
  const resnet = async (port: number) => {
    await startContainer({
      name: `two-hosts-${port}`,
      env: common(port),
      volumes: [`${MOBILENET_DIR}:/models:ro`],
    })
    await ready(port)
  }
  const identity = () =>
    podman(['inspect', '-f', '{{.Id}} {{.State.StartedAt}} {{.RestartCount}}', `two-hosts-${c1}`])
  try {
    await removeContainers(...names)
    await startContainer({
      name: `two-hosts-${c1}`,
      image: CATBOOST_IMAGE,
      env: common(c1),
      volumes: [`${bundle.dir}:/models:ro`],
    })
    await Promise.all([resnet(r1), ready(c1)])
    haproxy = await startHaproxy(
      dir,
      hostRoutingConfig(
        front,
        [
          { host: HOSTS.resnet, slots: [r1, r2] },
          { host: HOSTS.catboost, slots: [c1] },
        ],
        CHECK
      )
    )
    await sleep(CHECK.intervalMs * (CHECK.healthy + 1) + 500)
    const unknownHostStatus = (await hostRequest(front, 'other.example.com', '/readyz')).status
    const catboostBefore = await identity()
    const image = await readFile(`${IMAGES_DIR}cat.jpg`)
    const boundary = 'two-hosts'
    const multipart = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="cat.jpg"\r\n\r\n`
      ),
      image,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ])
    const rows = JSON.stringify({ instances: bundle.expected.rows.slice(0, 8) })
    const call = (host: string, type: string, body: Uint8Array | string) => async () => {
      const res = await hostRequest(front, host, '/predict', {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      })
      const version = (JSON.parse(res.body) as { model?: { name?: string } }).model?.name
      return { status: String(res.status), version }
    }
    const loads = {
      resnet: steadyCalls(
        call(HOSTS.resnet, `multipart/form-data; boundary=${boundary}`, multipart),
        4
      ),
      catboost: steadyCalls(call(HOSTS.catboost, 'application/json', rows), 4),
    }
    log(`resnet :${r1} and catboost :${c1} behind haproxy :${front}; steady load on both hosts`)
    await sleep(2000)
    // roll resnet as ECS does (min healthy 100 %): replacement first, then drain the old one
    await resnet(r2)
    await sleep(CHECK.intervalMs * (CHECK.healthy + 1))
    const stops = [await stopContainer(`two-hosts-${r1}`, 30)]
    log(`resnet: replaced :${r1} with :${r2} (${loads.resnet.count()} resnet responses so far)`)
    await sleep(2000)
    const report = {
      resnet: await loads.resnet.stop(),
      catboost: await loads.catboost.stop(),
      stops,
      catboostBefore,
      catboostAfter: await identity(),
      unknownHostStatus,
      seconds: (performance.now() - started) / 1000,
    }
    log(`two hosts: ${JSON.stringify(report)}`)
    return report
  } finally {
    haproxy?.kill('SIGTERM')
    await removeContainers(...names)
    await rm(dir, { recursive: true, force: true })
  }
}
