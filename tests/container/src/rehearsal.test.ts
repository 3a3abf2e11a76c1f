import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { IMAGE, imageAvailable } from './podman.ts'
import { runRehearsal } from './rehearsal.ts'

const haproxy = await promisify(execFile)('haproxy', ['-v']).then(
  () => true,
  () => false
)
const ready = haproxy && (await imageAvailable())
if (!ready)
  console.warn(
    `skipped: the rehearsal needs haproxy, podman and the image ${IMAGE} (apt-get install ` +
      'haproxy podman; build it with ../shared/tools/container-check.sh as .ci/run does)'
  )

describe.skipIf(!ready)('rolling restart and model version change behind HAProxy', () => {
  it('serves every request with 2xx while replicas roll twice, and ends on the new version', async () => {
    const report = await runRehearsal(3)
    expect(report.load.sent).toBeGreaterThan(100)
    expect(report.load.non2xx).toBe(0)
    expect(report.load.versions).toEqual(['v1', 'v2'])
    expect(report.stops.map((s) => s.exitCode)).toEqual([0, 0, 0, 0, 0, 0])
  })
})
