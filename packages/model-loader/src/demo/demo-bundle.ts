// Writes the generated demo model bundle (model, labels, config) into a cache dir, atomically.
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { buildDemoResnet50, DEMO_RESNET50_IO } from './resnet50.js'

/** Paths of a ready demo bundle; `created` is true when this call generated it. */
export interface DemoBundle {
  readonly dir: string
  readonly modelPath: string
  readonly labelsPath: string
  readonly configPath: string
  readonly created: boolean
}

/** Name of the bundle directory inside the cache dir (bump the version to force regeneration). */
export const DEMO_BUNDLE_DIR_NAME = 'demo-resnet50-v1'

/** Prefix of the temporary directories `ensureDemoBundle` builds in before renaming. */
export const DEMO_TMP_PREFIX = '.tmp-demo-'

const MODEL_FILE = 'model.onnx'
const LABELS_FILE = 'labels.txt'
const CONFIG_FILE = 'config.json'

function bundleAt(dir: string, created: boolean): DemoBundle {
  return {
    dir,
    modelPath: join(dir, MODEL_FILE),
    labelsPath: join(dir, LABELS_FILE),
    configPath: join(dir, CONFIG_FILE),
    created,
  }
}

async function isNonEmptyFile(path: string): Promise<boolean> {
  try {
    const s = await stat(path)
    return s.isFile() && s.size > 0
  } catch {
    return false
  }
}

async function isComplete(dir: string): Promise<boolean> {
  const files = [MODEL_FILE, LABELS_FILE, CONFIG_FILE].map((f) => isNonEmptyFile(join(dir, f)))
  return (await Promise.all(files)).every(Boolean)
}

function demoLabels(): string {
  const lines = Array.from(
    { length: DEMO_RESNET50_IO.classes },
    (_, i) => `demo_class_${String(i).padStart(3, '0')}`
  )
  return lines.join('\n') + '\n'
}

async function writeBundleFiles(dir: string): Promise<void> {
  const model = buildDemoResnet50()
  // Stream the chunks (the weights are referenced, not copied); `flush` fsyncs before close.
  await pipeline(
    Readable.from(model.chunks),
    createWriteStream(join(dir, MODEL_FILE), { flush: true })
  )
  await writeFile(join(dir, LABELS_FILE), demoLabels(), { flush: true })
  const config = { name: 'demo-resnet50', version: '1', demo: true }
  await writeFile(join(dir, CONFIG_FILE), JSON.stringify(config) + '\n', { flush: true })
}

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code
}

function tmpName(cacheDir: string, tag = ''): string {
  return join(cacheDir, `${DEMO_TMP_PREFIX}${tag}${process.pid}-${randomBytes(6).toString('hex')}`)
}

/** Moves an incomplete bundle dir aside (atomically) and deletes it; a no-op if it is gone. */
async function discard(dir: string, cacheDir: string): Promise<void> {
  const stale = tmpName(cacheDir, 'stale-')
  try {
    await rename(dir, stale)
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return
    throw err
  }
  await rm(stale, { recursive: true, force: true })
}

/** Renames `tmp` to `dir`; false when a complete bundle is already there (ours is then unused). */
async function publish(tmp: string, dir: string, cacheDir: string): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(tmp, dir)
      return true
    } catch (err) {
      const code = errorCode(err)
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err
      // Another process won the race with a complete bundle: use theirs.
      if (await isComplete(dir)) return false
      // Only an atomic rename creates `dir`, so an incomplete one is foreign debris.
      if (attempt > 0) throw err
      await discard(dir, cacheDir)
    }
  }
}

/**
 * Returns the demo bundle in `<cacheDir>/demo-resnet50-v1/`, generating it first if missing.
 * Generation happens in a temp dir that is renamed into place, so readers never see partial files.
 */
export async function ensureDemoBundle(cacheDir: string): Promise<DemoBundle> {
  const dir = join(cacheDir, DEMO_BUNDLE_DIR_NAME)
  if (await isComplete(dir)) return bundleAt(dir, false)
  await mkdir(cacheDir, { recursive: true })
  const tmp = tmpName(cacheDir)
  try {
    await mkdir(tmp)
    await writeBundleFiles(tmp)
    const created = await publish(tmp, dir, cacheDir)
    if (!created) await rm(tmp, { recursive: true, force: true })
    return bundleAt(dir, created)
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
}
