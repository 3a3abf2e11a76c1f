import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import {
  BAD_IMAGES_DIR,
  expectedClasses,
  IMAGES_DIR,
  MOBILENET_DIR,
  referencePhotos,
  startCountingProxy,
  startLocalS3,
} from '@resnet/test-support'
import { afterEach, describe, expect, it } from 'vitest'
import { startApp } from './test-support/app-process.js'
import type { AppProcess } from './test-support/app-process.js'
import { acceptedTop1, referenceTop1 } from './test-support/reference-top1.js'

interface Prediction {
  label: string
  index: number
  score: number
}
const run = promisify(execFile)
const running: AppProcess[] = []
const cleanups: (() => Promise<unknown>)[] = []

afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop('SIGKILL')))
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

async function start(env: Record<string, string>): Promise<AppProcess> {
  const app = await startApp({ LOG_LEVEL: 'info', INFERENCE_THREADS: '2', ...env })
  running.push(app)
  return app
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'resnet-app-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function postImage(url: string, bytes: Uint8Array): Promise<Response> {
  const form = new FormData()
  form.append('image', new Blob([bytes]), 'upload')
  return fetch(`${url}/predict`, { method: 'POST', body: form })
}

describe('resnet server process', () => {
  it('exits 1 before listening and lists every invalid variable', async () => {
    const app = await startApp({ PORT: '99999', LOG_LEVEL: 'loud', MAX_QUEUE: '0' })
    expect(await app.exited()).toBe(1)
    for (const name of ['PORT', 'LOG_LEVEL', 'MAX_QUEUE'])
      expect(app.output()).toContain(`${name}=`)
    expect(app.output()).not.toContain('listening')
  })

  it('exits 1 with a clear log line when the model cannot be loaded', async () => {
    const app = await start({ MODEL_URI: '/does/not/exist/model.onnx' })
    expect(await app.exited()).toBe(1)
    expect(app.output()).toContain('could not load the model')
    expect(app.output()).toContain('No model at /does/not/exist/model.onnx')
  })

  it('serves the MobileNetV2 fixture over HTTP: every photo gets an accepted top-1', async () => {
    const app = await start({ MODEL_URI: MOBILENET_DIR })
    await app.waitReady()
    const photos = referencePhotos()
    const reference = await referenceTop1(photos)
    for (const photo of photos) {
      const res = await postImage(app.url, await readFile(IMAGES_DIR + photo))
      expect(res.status, photo).toBe(200)
      const { predictions } = (await res.json()) as { predictions: Prediction[] }
      expect(predictions).toHaveLength(5)
      const accepted = expectedClasses()[photo] ?? []
      const ref = reference.get(photo)!
      // expected.json's classes, unless torchvision's own recipe disagrees with it (daisy.jpg)
      expect(acceptedTop1(accepted, ref), photo).toContain(predictions[0]?.index)
    }
    expect(await app.stop()).toBe(0)
  })

  it('answers the tutorial curl call and every odd or broken image with 200 or a 4xx, and stays ready', async () => {
    const app = await start({ MODEL_URI: MOBILENET_DIR })
    await app.waitReady()
    const { stdout } = await run('curl', [
      '-s',
      '-F',
      `image=@${IMAGES_DIR}cat.jpg`,
      `${app.url}/predict`,
    ])
    expect((JSON.parse(stdout) as { predictions: Prediction[] }).predictions[0]?.label).toMatch(
      /cat|tabby/
    )

    const outcomes: string[] = []
    for (const file of await readdir(BAD_IMAGES_DIR)) {
      const res = await postImage(app.url, await readFile(BAD_IMAGES_DIR + file))
      const body = (await res.json()) as { predictions?: unknown; error?: { code: string } }
      expect(res.status === 200 || (res.status >= 400 && res.status < 500), file).toBe(true)
      expect(res.status === 200 ? body.predictions : body.error?.code, file).toBeDefined()
      outcomes.push(`${file}: ${res.status} ${body.error?.code ?? ''}`)
    }
    expect(outcomes.length).toBe(15)
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200)
    expect(app.child.exitCode).toBeNull()
  })

  it('serves the model from s3:// and downloads nothing on a second start with the same cache', async () => {
    const s3 = await startLocalS3(['models'])
    cleanups.push(() => s3.close())
    await s3.put('models', 'mobilenet/model.onnx', path.join(MOBILENET_DIR, 'model.onnx'))
    await s3.put('models', 'mobilenet/labels.txt', path.join(MOBILENET_DIR, 'labels.txt'))
    const proxy = await startCountingProxy(s3.endpoint)
    cleanups.push(() => proxy.close())
    const env = {
      ...s3.env,
      AWS_ENDPOINT_URL_S3: proxy.url,
      MODEL_URI: 's3://models/mobilenet/',
      MODEL_CACHE_DIR: await tempDir(),
    }
    const objectGets = () => proxy.count('GET', '/models/mobilenet/model.onnx')

    const first = await start(env)
    await first.waitReady()
    expect(objectGets()).toBe(1)
    const filesReady = (l: Record<string, unknown>) => l.msg === 'model files ready'
    expect((await first.waitForLog(filesReady)).downloadedBytes).toBeGreaterThan(3e6)
    expect(await first.stop()).toBe(0)

    const second = await start(env)
    await second.waitReady()
    expect(objectGets()).toBe(1) // no new download: the cached copy's ETag still matches
    expect(proxy.count('GET', 'labels.txt')).toBe(1)
    expect((await second.waitForLog(filesReady)).downloadedBytes).toBe(0)
    const res = await postImage(second.url, await readFile(`${IMAGES_DIR}goldfish.jpg`))
    expect(((await res.json()) as { predictions: Prediction[] }).predictions[0]?.index).toBe(1)
    expect(await second.stop()).toBe(0)
  })

  it('hot-reloads a new version under load with no failed request, and keeps serving when one is broken', async () => {
    const s3 = await startLocalS3(['models'])
    cleanups.push(() => s3.close())
    const upload = async (version: string, model = path.join(MOBILENET_DIR, 'model.onnx')) => {
      await s3.put('models', 'm/model.onnx', model)
      await s3.put('models', 'm/config.json', Buffer.from(JSON.stringify({ version })))
    }
    await s3.put('models', 'm/labels.txt', path.join(MOBILENET_DIR, 'labels.txt'))
    await upload('v1')
    const app = await start({
      ...s3.env,
      MODEL_URI: 's3://models/m/',
      MODEL_CACHE_DIR: await tempDir(),
      MODEL_POLL_INTERVAL_S: '0.3',
    })
    await app.waitReady()
    const servedVersion = async () =>
      ((await (await fetch(app.url)).json()) as { model: { version: string } }).model.version
    const until = async (what: () => boolean | Promise<boolean>) => {
      for (let i = 0; i < 300 && !(await what()); i++) await new Promise((r) => setTimeout(r, 100))
      expect(await what()).toBe(true)
    }
    const photo = await readFile(`${IMAGES_DIR}cat.jpg`)
    const statuses: number[] = []
    const versions = new Set<string>()
    let loading = true
    const load = Array.from({ length: 4 }, async () => {
      while (loading) {
        const res = await postImage(app.url, photo)
        statuses.push(res.status)
        versions.add(((await res.json()) as { model: { version: string } }).model.version)
      }
    })
    await until(() => statuses.length > 20)
    await upload('v2')
    await until(async () => (await servedVersion()) === 'v2')
    const swappedAt = statuses.length
    await until(() => statuses.length > swappedAt + 20)

    const broken = path.join(await tempDir(), 'broken.onnx')
    await import('node:fs/promises').then((fs) => fs.writeFile(broken, 'not an onnx model'))
    await upload('v3', broken)
    const metrics = async () => (await fetch(`${app.url}/metrics`)).text()
    await until(async () => /model_reloads_total\{result="failure"\} [1-9]/.test(await metrics()))
    loading = false
    await Promise.all(load)

    expect(await servedVersion()).toBe('v2')
    expect(new Set(statuses)).toEqual(new Set([200]))
    expect([...versions]).toEqual(['v1', 'v2'])
    expect(await metrics()).toMatch(/model_reloads_total\{result="success"\} 1/)
    expect(app.output()).toContain('model reload failed; still serving the current version')
    expect(await app.stop()).toBe(0)
  })

  it('serves the bundled MobileNetV2 when MODEL_URI is unset: the tutorial call answers tabby', async () => {
    const app = await start({ MODEL_CACHE_DIR: await tempDir() })
    await app.waitReady()
    expect(app.output()).toContain('serving the bundled MobileNetV2 int8')
    const info = (await (await fetch(app.url)).json()) as { model: { name: string; demo: boolean } }
    expect(info.model).toMatchObject({ name: 'mobilenetv2-int8', demo: false })
    const { stdout } = await run('curl', [
      '-s',
      '-F',
      `image=@${IMAGES_DIR}cat.jpg`,
      `${app.url}/predict`,
    ])
    const [top1] = (JSON.parse(stdout) as { predictions: Prediction[] }).predictions
    expect(top1).toMatchObject({ label: 'tabby', index: 281 })
    expect(await app.stop()).toBe(0)
  })

  it('starts the generated demo ResNet-50 for MODEL_URI=demo:resnet50, and says it is meaningless', async () => {
    const app = await start({ MODEL_URI: 'demo:resnet50', MODEL_CACHE_DIR: await tempDir() })
    await app.waitReady()
    expect(app.output()).toMatch(/DEMO ResNet-50.*MEANINGLESS/)
    const info = (await (await fetch(app.url)).json()) as { model: { name: string; demo: boolean } }
    expect(info.model).toMatchObject({ name: 'demo-resnet50', demo: true })
    const res = await postImage(app.url, await readFile(`${IMAGES_DIR}cat.jpg`))
    const { predictions } = (await res.json()) as { predictions: Prediction[] }
    expect(predictions).toHaveLength(5)
    expect(predictions.map((p) => p.score)).toEqual(
      predictions.map((p) => p.score).sort((a, b) => b - a)
    )
    expect(await app.stop()).toBe(0)
  })

  it('exits 0 on SIGTERM while the model is still loading (no native crash)', async () => {
    const app = await start({ MODEL_URI: 'demo:resnet50', MODEL_CACHE_DIR: await tempDir() })
    while (!app.output().includes('listening'))
      await new Promise((resolve) => setTimeout(resolve, 10))
    expect(await app.stop('SIGTERM')).toBe(0)
    expect(app.logs().map((line) => line.msg)).not.toContain('ready')
    expect(app.logs().map((line) => line.msg)).toContain('stopped')
  })

  it('on SIGTERM turns not-ready, keeps serving through the drain delay, finishes in-flight work, exits 0', async () => {
    const app = await start({ MODEL_URI: MOBILENET_DIR, DRAIN_DELAY_S: '1' })
    await app.waitReady()
    const photo = await readFile(`${IMAGES_DIR}kimono.jpg`)
    const inFlight = Array.from({ length: 8 }, () => postImage(app.url, photo))
    await new Promise((resolve) => setTimeout(resolve, 30))
    const stopped = app.stop('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect((await fetch(`${app.url}/readyz`)).status).toBe(503)
    const duringDrain = await postImage(app.url, photo)
    const statuses = await Promise.all(inFlight.map((p) => p.then((r) => r.status)))
    expect(statuses).toEqual(new Array(8).fill(200))
    expect(duringDrain.status).toBe(200) // still served while the load balancer deregisters us
    expect(await stopped).toBe(0)
  })
})
