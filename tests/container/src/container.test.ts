import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ensureDemoBundle } from '@resnet/model-loader'
import { expectedClasses, IMAGES_DIR, MOBILENET_DIR, startLocalS3 } from '@resnet/test-support'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, predict, waitFor200 } from './http.ts'
import {
  containerLogs,
  IMAGE,
  imageAvailable,
  podman,
  removeContainers,
  startContainer,
  stopContainer,
} from './podman.ts'

const available = await imageAvailable()
if (!available)
  console.warn(
    `skipped: the container tests need podman and the image ${IMAGE} (apt-get install podman; ` +
      'build it with ../shared/tools/container-check.sh as .ci/run does)'
  )
const names: string[] = []
afterAll(() => removeContainers(...names))

async function launch(name: string, env: Record<string, string>, volumes: string[] = []) {
  const port = await freePort()
  names.push(name)
  await removeContainers(name)
  const started = performance.now()
  await startContainer({
    name,
    env: { HOST: '127.0.0.1', PORT: String(port), INFERENCE_THREADS: '2', ...env },
    volumes,
  })
  const url = `http://127.0.0.1:${port}`
  const readyMs = await waitFor200(`${url}/readyz`, 120_000).then(
    () => performance.now() - started,
    async (err: unknown) => {
      throw new Error(`${String(err)}\n${await containerLogs(name)}`)
    }
  )
  return { url, readyMs }
}

describe.skipIf(!available)(`the container image ${IMAGE}`, () => {
  it('serves the fixture model mounted read-only, predicts, and stops on SIGTERM with exit 0 in < 10 s', async () => {
    const { url } = await launch('resnet-smoke', { MODEL_URI: '/models' }, [
      `${MOBILENET_DIR}:/models:ro`,
    ])
    const res = await predict(url, await readFile(`${IMAGES_DIR}cat.jpg`))
    expect(res.status).toBe(200)
    const { predictions } = (await res.json()) as { predictions: { index: number }[] }
    expect(expectedClasses()['cat.jpg']).toContain(predictions[0]?.index)
    const stopped = await stopContainer('resnet-smoke', 10)
    expect(stopped.exitCode).toBe(0)
    expect(stopped.seconds).toBeLessThan(10)
    expect(await containerLogs('resnet-smoke')).toContain('"msg":"stopped"')
  })

  it('serves the default bundle it carries when MODEL_URI is unset: the cat is a tabby', async () => {
    const { url } = await launch('resnet-default', {})
    const res = await predict(url, await readFile(`${IMAGES_DIR}cat.jpg`))
    expect(res.status).toBe(200)
    const body = (await res.json()) as { model: { name: string }; predictions: { label: string }[] }
    expect(body.model.name).toBe('mobilenetv2-int8')
    expect(body.predictions[0]?.label).toBe('tabby')
    expect((await stopContainer('resnet-default')).exitCode).toBe(0)
  })

  it('pulls the demo ResNet-50 from S3 on 127.0.0.1: cold and warm cache start times', async () => {
    const s3 = await startLocalS3(['models'])
    const work = await mkdtemp(path.join(tmpdir(), 'resnet-ctr-'))
    try {
      const demo = await ensureDemoBundle(path.join(work, 'gen'))
      for (const file of ['model.onnx', 'labels.txt', 'config.json']) {
        await s3.put('models', `demo/${file}`, path.join(demo.dir, file))
      }
      const cache = path.join(work, 'cache')
      await import('node:fs/promises').then((fs) => fs.mkdir(cache))
      await chmod(cache, 0o777) // the image runs as the unprivileged "node" user
      const env = { ...s3.env, MODEL_URI: 's3://models/demo/', MODEL_CACHE_DIR: '/cache' }
      const cold = await launch('resnet-cold', env, [`${cache}:/cache`])
      expect((await predict(cold.url, await readFile(`${IMAGES_DIR}cat.jpg`))).status).toBe(200)
      expect((await stopContainer('resnet-cold')).exitCode).toBe(0)
      expect(await containerLogs('resnet-cold')).toMatch(/"downloadedBytes":10\d{7}/)
      const warm = await launch('resnet-warm', env, [`${cache}:/cache`])
      expect(await containerLogs('resnet-warm')).toMatch(/"downloadedBytes":0/)
      expect((await stopContainer('resnet-warm')).exitCode).toBe(0)
      console.info(
        `cold start (empty cache, 102 MB from S3): ${(cold.readyMs / 1000).toFixed(2)} s; ` +
          `warm cache: ${(warm.readyMs / 1000).toFixed(2)} s`
      )
    } finally {
      await s3.close()
      await rm(work, { recursive: true, force: true })
    }
  })

  it('ships production dependencies only, as a non-root user', async () => {
    const modules = await podman([
      'run',
      '--rm',
      '--entrypoint',
      'ls',
      IMAGE,
      'node_modules',
      'node_modules/.pnpm',
    ])
    for (const devOnly of ['typescript', 'vitest', 'eslint', 'turbo', 's3rver', 'aws-cdk-lib']) {
      expect(modules, devOnly).not.toMatch(new RegExp(`^${devOnly}[@/]?`, 'm'))
    }
    expect(modules).toMatch(/onnxruntime-node/)
    expect(await podman(['image', 'inspect', '-f', '{{.Config.User}}', IMAGE])).toBe('node')
    const bytes = Number(await podman(['image', 'inspect', '-f', '{{.Size}}', IMAGE]))
    console.info(`image size: ${(bytes / 1e6).toFixed(0)} MB`)
    expect(bytes).toBeLessThan(1.2e9)
  })
})
