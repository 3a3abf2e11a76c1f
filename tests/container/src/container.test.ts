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
/** Runs `command` in a throwaway container of the image; its stdout. */
const inImage = (command: string, ...args: string[]) =>
  podman(['run', '--rm', '--entrypoint', command, IMAGE, ...args])
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

  it('with a read-only root filesystem: downloads from S3, caches, hot-reloads a new version', async () => {
    const s3 = await startLocalS3(['models'])
    const upload = async (version: string) => {
      for (const file of ['model.onnx', 'labels.txt']) {
        await s3.put('models', `mobilenet/${file}`, path.join(MOBILENET_DIR, file))
      }
      await s3.put('models', 'mobilenet/config.json', Buffer.from(JSON.stringify({ version })))
    }
    const modelVersion = async (url: string) =>
      ((await (await fetch(url)).json()) as { model: { version: string } | null }).model?.version
    try {
      await upload('1')
      const env = { ...s3.env, MODEL_URI: 's3://models/mobilenet/', MODEL_POLL_INTERVAL_S: '1' }
      const { url } = await launch('resnet-readonly', env)
      expect(await modelVersion(url)).toBe('1')
      await upload('2')
      const deadline = performance.now() + 60_000
      while ((await modelVersion(url)) !== '2' && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
      expect(await modelVersion(url)).toBe('2')
      expect((await predict(url, await readFile(`${IMAGES_DIR}cat.jpg`))).status).toBe(200)
      // only the volumes are writable: the cache holds both versions, TMPDIR takes a file
      const exec = (script: string) => podman(['exec', 'resnet-readonly', 'sh', '-c', script])
      await expect(exec('touch /app/x')).rejects.toThrow(/Read-only file system/)
      await expect(exec('touch "$TMPDIR/x" && echo ok')).resolves.toBe('ok')
      const manifests = await exec('find "$MODEL_CACHE_DIR" -name manifest.json | wc -l')
      expect(Number(manifests)).toBe(2)
      expect((await stopContainer('resnet-readonly')).exitCode).toBe(0)
    } finally {
      await s3.close()
    }
  })

  it('ships production dependencies only, as a non-root user', async () => {
    const modules = await inImage('ls', 'node_modules', 'node_modules/.pnpm')
    for (const devOnly of ['typescript', 'vitest', 'eslint', 'turbo', 's3rver', 'aws-cdk-lib']) {
      expect(modules, devOnly).not.toMatch(new RegExp(`^${devOnly}[@/]?`, 'm'))
    }
    expect(modules).toMatch(/onnxruntime-node/)
    expect(await podman(['image', 'inspect', '-f', '{{.Config.User}}', IMAGE])).toBe('node')
    const bytes = Number(await podman(['image', 'inspect', '-f', '{{.Size}}', IMAGE]))
    console.info(`image size: ${(bytes / 1e6).toFixed(0)} MB`)
    expect(bytes).toBeLessThanOrEqual(300e6)
  })

  it('carries only its own platform: linux-x64 onnxruntime and sharp binaries, no TypeScript', async () => {
    const found = await inImage(
      'sh',
      '-c',
      'cd node_modules/.pnpm && ls -d onnxruntime-node@*/node_modules/onnxruntime-node/bin/*/*/* @img+*' +
        ' && find . -name "*.d.ts" | wc -l && uname -m'
    )
    const lines = found.split('\n')
    const arch = lines.at(-1) === 'aarch64' ? 'arm64' : 'x64'
    const binaries = lines.filter((l) => l.includes('/bin/'))
    expect(binaries.map((l) => l.split('/').slice(-2).join('/'))).toEqual([`linux/${arch}`])
    const sharp = lines.filter((l) => l.startsWith('@img+sharp-'))
    expect(sharp.length).toBeGreaterThan(0)
    for (const pkg of sharp) expect(pkg).toContain(`-linux-${arch}@`)
    expect(lines.at(-2)).toBe('0') // no .d.ts files
  })
})
