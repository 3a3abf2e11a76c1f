/** A model file or bundle directory on local disk, used in place (no copy), checked like a download. */
import { access, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { checkBundleFile } from './bundle-check.js'
import { BUNDLE_FILES, NESTED_BUNDLE_PATHS } from './bundle.js'
import type { ModelBundle } from './bundle.js'
import { parseSha256Sums, verifyDigests } from './checksums.js'
import type { ExpectedDigest } from './checksums.js'
import { ModelLoaderError } from './errors.js'
import { sha256File } from './hash-file.js'

const present = (file: string): Promise<string | undefined> =>
  access(file).then(
    () => file,
    () => undefined
  )

/** What to check on a local bundle. */
export interface LocalChecks {
  /** Expected sha256 of the model. */
  readonly sha256?: string | undefined
  /** Sanity-check the files' formats (off for the generated demo). @default true */
  readonly check?: boolean
}

async function expectedFor(
  dir: string | undefined,
  sha256: string | undefined
): Promise<ExpectedDigest[]> {
  const checks: ExpectedDigest[] = []
  const sumsFile = dir ? await present(path.join(dir, BUNDLE_FILES.checksums)) : undefined
  const listed = sumsFile
    ? parseSha256Sums(await readFile(sumsFile, 'utf8')).get(BUNDLE_FILES.model)
    : undefined
  if (listed) checks.push({ algorithm: 'sha256', hex: listed, source: BUNDLE_FILES.checksums })
  if (sha256)
    checks.push({ algorithm: 'sha256', hex: sha256.toLowerCase(), source: 'the expected sha256' })
  return checks
}

/** Resolves a local `.onnx` file or a bundle directory; the version is the model's content hash. */
export async function loadLocal(
  target: string,
  uri: string,
  checks: LocalChecks = {}
): Promise<ModelBundle> {
  const info = await stat(target).catch((err: unknown) => {
    throw new ModelLoaderError('MODEL_NOT_FOUND', `No model at ${target}`, { cause: err })
  })
  const dir = info.isDirectory() ? target : undefined
  const modelPath = dir
    ? ((await present(path.join(dir, BUNDLE_FILES.model))) ??
      (await present(path.join(dir, NESTED_BUNDLE_PATHS.nestedModel))))
    : target
  if (modelPath === undefined) {
    const names = `${BUNDLE_FILES.model} or ${NESTED_BUNDLE_PATHS.nestedModel}`
    throw new ModelLoaderError('MODEL_NOT_FOUND', `No ${names} in ${dir}`)
  }
  const inBundle = (name: string): Promise<string | undefined> =>
    dir ? present(path.join(dir, name)) : Promise.resolve(undefined)
  const labelsPath = await inBundle(BUNDLE_FILES.labels)
  const configPath = await inBundle(BUNDLE_FILES.config)
  const preprocessorConfigPath = await inBundle(BUNDLE_FILES.preprocessorConfig)
  const featuresPath = await inBundle(BUNDLE_FILES.features)
  const selfTestDir = await inBundle(NESTED_BUNDLE_PATHS.selfTest)
  if (checks.check !== false) {
    const { model, labels, config, preprocessorConfig, features } = BUNDLE_FILES
    const files = [modelPath, labelsPath, configPath, preprocessorConfigPath, featuresPath]
    for (const [i, name] of [model, labels, config, preprocessorConfig, features].entries()) {
      if (files[i]) await checkBundleFile(name, files[i], files[i])
    }
  }
  const sha256 = await sha256File(modelPath)
  const verifiedBy = verifyDigests(modelPath, { sha256 }, await expectedFor(dir, checks.sha256))
  return {
    modelPath,
    labelsPath,
    configPath,
    preprocessorConfigPath,
    featuresPath,
    selfTestDir,
    name: path.basename(dir ?? target).replace(/\.onnx$/, ''),
    version: sha256.slice(0, 12),
    sha256,
    uri,
    downloadedBytes: 0,
    origin: 'local',
    verifiedBy,
    release: () => Promise.resolve(),
  }
}
