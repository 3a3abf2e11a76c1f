import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { MOBILENET_DIR, IMAGES_DIR } from '@resnet/test-support'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Packs each library the way it would be published and installs the tarballs with npm in a
// scratch project outside the workspace, then imports and uses them there on plain Node.
const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const LIBRARIES = ['model-loader', 'preprocess', 'server']
let scratch: string

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'resnet-npm-consumer-'))
  const tarballs: string[] = []
  for (const lib of LIBRARIES) {
    await run('pnpm', ['pack', '--pack-destination', scratch], {
      cwd: path.join(ROOT, 'packages', lib),
    })
  }
  for (const file of await readdir(scratch)) if (file.endsWith('.tgz')) tarballs.push(`./${file}`)
  expect(tarballs).toHaveLength(LIBRARIES.length)
  await writeFile(
    path.join(scratch, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' })
  )
  const env = {
    ...process.env,
    ONNXRUNTIME_NODE_INSTALL: 'skip',
    ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip',
  }
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], {
    cwd: scratch,
    env,
    maxBuffer: 16 << 20,
    timeout: 480_000,
  })
}, 600_000)

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

describe('the packed libraries, installed with npm outside the workspace', () => {
  it('ship only dist with types, and resolve their own dependencies', async () => {
    // `npm ls` exits non-zero on a missing or invalid dependency anywhere in the tree. Which other
    // packages npm lists at the top (sharp's optional platform packages, for one) depends on the
    // npm version, so only ours are pinned: exactly the three, none of the workspace's private ones.
    const { stdout } = await run('npm', ['ls', '--all', '--json'], {
      cwd: scratch,
      maxBuffer: 64 << 20,
    })
    const tree = JSON.parse(stdout) as { dependencies: Record<string, { version: string }> }
    const ours = Object.keys(tree.dependencies).filter((name) => name.startsWith('@resnet/'))
    expect(ours.sort()).toEqual(LIBRARIES.map((l) => `@resnet/${l}`))
    const files = await readdir(path.join(scratch, 'node_modules/@resnet/preprocess/dist'))
    expect(files).toContain('index.d.ts')
    expect(files.some((f) => f.endsWith('.test.js'))).toBe(false)
  })

  it('import and work on plain Node: decode, load a model, serve a prediction', async () => {
    const script = `
      import { readFile } from 'node:fs/promises'
      import { DEFAULT_MODEL_CONFIG, preprocessBatch } from '@resnet/preprocess'
      import { loadModel } from '@resnet/model-loader'
      import { createApp, createOnnxModel, ServingState } from '@resnet/server'
      import { pino } from 'pino'
      const bundle = await loadModel({ uri: ${JSON.stringify(MOBILENET_DIR)}, cacheDir: '/tmp' })
      const batch = await preprocessBatch([await readFile(${JSON.stringify(IMAGES_DIR + 'cat.jpg')})], DEFAULT_MODEL_CONFIG.input)
      const model = await createOnnxModel({ modelPath: bundle.modelPath, config: DEFAULT_MODEL_CONFIG,
        labels: [], identity: { name: bundle.name, version: bundle.version, sha256: bundle.sha256 } })
      const state = new ServingState()
      state.setModel(model)
      const form = new FormData()
      form.append('image', new Blob([await readFile(${JSON.stringify(IMAGES_DIR + 'goldfish.jpg')})]))
      const res = await createApp({ state, logger: pino({ level: 'silent' }) }).request('/predict', { method: 'POST', body: form })
      const body = await res.json()
      console.log(JSON.stringify({ dims: batch.dims, classes: model.info.classes, status: res.status, top1: body.predictions[0].index }))
      await model.close()
    `
    await writeFile(path.join(scratch, 'check.mjs'), script)
    // pino is a dependency of @resnet/server; a consumer imports it through its own install
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', 'pino@10'], {
      cwd: scratch,
    })
    const { stdout } = await run(process.execPath, ['check.mjs'], { cwd: scratch })
    expect(JSON.parse(stdout)).toEqual({
      dims: [1, 3, 224, 224],
      classes: 1000,
      status: 200,
      top1: 1,
    })
  })
})
