import { execFile } from 'node:child_process'
import { chmod, readdir } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { breastCancerTreeBundle, treeBundleAvailable } from '@resnet/test-support'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, waitFor200 } from './http.ts'
import {
  CATBOOST_IMAGE,
  containerLogs,
  IMAGE,
  imageAvailable,
  removeContainers,
  startContainer,
  stopContainer,
} from './podman.ts'
import { HOSTS, runTwoHostRehearsal } from './two-hosts.ts'

const available = treeBundleAvailable && (await imageAvailable(CATBOOST_IMAGE))
if (!available)
  console.warn(
    `skipped: the catboost image tests need podman, the image ${CATBOOST_IMAGE} (build it with ` +
      'DOCKERFILE=apps/catboost/Dockerfile IMAGE=localhost/catboost:ci ../shared/tools/container-check.sh) ' +
      'and python3-sklearn python3-onnx'
  )
const haproxy = await promisify(execFile)('haproxy', ['-v']).then(
  () => true,
  () => false
)
const both = available && haproxy && (await imageAvailable(IMAGE))
if (available && !both)
  console.warn(`skipped: the two-host rehearsal also needs haproxy and the image ${IMAGE}`)
afterAll(() => removeContainers('catboost-smoke'))

describe.skipIf(!available)(`the container image ${CATBOOST_IMAGE}`, () => {
  it("serves the forest mounted read-only with the trainer's probabilities, and stops with exit 0", async () => {
    const bundle = await breastCancerTreeBundle()
    await chmod(bundle.dir, 0o755) // the image runs as `node`
    for (const f of await readdir(bundle.dir)) await chmod(path.join(bundle.dir, f), 0o755)
    const port = await freePort()
    await removeContainers('catboost-smoke')
    await startContainer({
      name: 'catboost-smoke',
      image: CATBOOST_IMAGE,
      env: { HOST: '127.0.0.1', PORT: String(port), MODEL_URI: '/models', INFERENCE_THREADS: '1' },
      volumes: [`${bundle.dir}:/models:ro`],
    })
    await waitFor200(`http://127.0.0.1:${port}/readyz`, 120_000).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\n${await containerLogs('catboost-smoke')}`)
    })
    const res = await fetch(`http://127.0.0.1:${port}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: bundle.expected.rows }),
    })
    expect(res.status).toBe(200)
    const { predictions } = (await res.json()) as {
      predictions: { probabilities: Record<string, number> }[]
    }
    const worst = Math.max(
      ...predictions.flatMap((p, i) =>
        ['malignant', 'benign'].map((l, c) =>
          Math.abs(p.probabilities[l]! - bundle.expected.probabilities[i]![c]!)
        )
      )
    )
    expect(worst).toBeLessThanOrEqual(1e-5)
    expect((await stopContainer('catboost-smoke', 10)).exitCode).toBe(0)
  })
})

describe.skipIf(!both)(`${HOSTS.resnet} and ${HOSTS.catboost} behind one HAProxy`, () => {
  it('routes each host to its app, rolls resnet with 0 failures on either host, catboost untouched', async () => {
    const report = await runTwoHostRehearsal()
    expect(report.resnet.sent).toBeGreaterThan(20)
    expect(report.catboost.sent).toBeGreaterThan(20)
    expect(report.resnet.non2xx).toBe(0)
    expect(report.catboost.non2xx).toBe(0)
    expect(report.resnet.versions).toHaveLength(1)
    expect(report.catboost.versions).toHaveLength(1)
    expect(report.stops.map((s) => s.exitCode)).toEqual([0])
    expect(report.catboostAfter).toBe(report.catboostBefore)
    expect(report.unknownHostStatus).toBe(404)
  })
})
