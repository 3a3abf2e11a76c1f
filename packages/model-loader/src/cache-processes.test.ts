import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { startCountingProxy, startFaultProxy, startLocalS3 } from '@resnet/test-support'
import type { LocalS3 } from '@resnet/test-support'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { listFiles, randomOnnx } from './test-support/helpers.js'

const CHILD = fileURLToPath(new URL('./test-support/load-child.ts', import.meta.url))
const PART = 1024 * 1024
const MODEL = randomOnnx(8 * PART - 1000) // 8 parts
const URI = 's3://models/race/model.onnx'
let s3: LocalS3
let cacheDir: string

interface ChildResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly out: { sha256?: string; origin?: string; downloadedBytes?: number }
  readonly stderr: string
}

/** Runs loadModel in a real child process, reaching S3 through `endpoint` via the SDK's env chain. */
function runChild(endpoint: string): { pid: number; kill(): void; done: Promise<ChildResult> } {
  const env = {
    ...process.env,
    ...s3.env,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  }
  const args = [CHILD, URI, cacheDir, String(PART)]
  const child = spawn(process.execPath, args, { env })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const done = new Promise<ChildResult>((resolve) => {
    child.on('exit', (code, signal) => {
      const out = code === 0 ? (JSON.parse(stdout) as ChildResult['out']) : {}
      resolve({ code, signal, out, stderr })
    })
  })
  return { pid: child.pid ?? 0, kill: () => child.kill('SIGKILL'), done }
}

beforeAll(async () => {
  s3 = await startLocalS3(['models'])
  await s3.put('models', 'race/model.onnx', MODEL.bytes)
})
afterAll(async () => {
  await s3.close()
})
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), 'model-procs-'))
  return () => rm(cacheDir, { recursive: true, force: true })
})

describe('one cache directory, several processes', () => {
  it('downloads once when two processes start together; the other waits and reuses it', async () => {
    const proxy = await startCountingProxy(s3.endpoint)
    try {
      const children = [runChild(proxy.url), runChild(proxy.url)]
      const results = await Promise.all(children.map((c) => c.done))
      for (const r of results) expect(r.code, r.stderr).toBe(0)
      expect(results.map((r) => r.out.sha256)).toEqual([MODEL.sha256, MODEL.sha256])
      expect(results.map((r) => r.out.origin).sort()).toEqual(['cache', 'download'])
      expect(proxy.count('GET', '/models/race/model.onnx')).toBe(8) // one download, in 8 parts
      expect(
        (await listFiles(cacheDir)).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))
      ).toEqual([])
    } finally {
      await proxy.close()
    }
  })

  it('recovers after a process is killed (SIGKILL) mid-download: stale lock and temp file go', async () => {
    const slow = await startFaultProxy(s3.endpoint)
    slow.throttle(256 * 1024) // per connection: about 1 MB/s with 4 parts in flight
    try {
      const child = runChild(slow.url)
      let files: string[] = []
      for (let i = 0; i < 200 && !files.some((f) => f.endsWith('.tmp')); i++) {
        await sleep(50)
        files = await listFiles(cacheDir).catch(() => [])
      }
      child.kill()
      const killed = await child.done
      expect(killed.signal).toBe('SIGKILL')
      const left = await listFiles(cacheDir)
      expect(left.filter((f) => f.endsWith('.tmp'))).toHaveLength(1)
      const lock = left.find((f) => f.endsWith('.lock'))
      expect(JSON.parse(await readFile(path.join(cacheDir, lock ?? ''), 'utf8'))).toMatchObject({
        pid: child.pid,
      })

      const started = performance.now()
      const restarted = await runChild(s3.endpoint).done // a new process, full speed
      expect(performance.now() - started).toBeLessThan(15_000) // no wait for the dead holder
      expect(restarted.code, restarted.stderr).toBe(0)
      expect(restarted.out).toMatchObject({ sha256: MODEL.sha256, origin: 'download' })
      expect(restarted.stderr).toContain('removed leftovers of interrupted loads')
      const after = await listFiles(cacheDir)
      expect(after.filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([])
    } finally {
      await slow.close()
    }
  })
})
