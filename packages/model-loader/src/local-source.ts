/** A model file or bundle directory on local disk, used in place (no copy), checked like a download. */
import { access, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { checkBundleFile } from './bundle-check.js'
import { BUNDLE_FILES, NESTED_BUNDLE_PATHS } from './bundle.js'
import type { ModelBundle } from './bundle.js'
import { expectedChecks, parseSha256Sums, verifyDigests } from './checksums.js'
import { ModelLoaderError } from './errors.js'
import { sha256File } from './file-hasher.js'

const present = (file: string): Promise<string | undefined> =>
  access(file).then(
    () => file,
    () => undefined
  )

/**
 * Resolves a local `.onnx` file or a bundle directory; the version is the model's content hash.
 * `sha256`: the model's expected sha256; `check: false` skips the format checks (the demo).
 */
export async function loadLocal(
  target: string,
  uri: string,
  { sha256, check = true }: { sha256?: string | undefined; check?: boolean } = {}
): Promise<ModelBundle> {
  const info = await stat(target).catch((err: unknown) => {
    throw new ModelLoaderError('MODEL_NOT_FOUND', `No model at ${target}`, { cause: err })
  })
  const dir = info.isDirectory() ? target : undefined
  const inBundle = (name: string): Promise<string | undefined> =>
    dir ? present(path.join(dir, name)) : Promise.resolve(undefined)
  const { model, labels, config, preprocessorConfig, features, checksums } = BUNDLE_FILES
  const modelPath = dir
    ? ((await inBundle(model)) ?? (await inBundle(NESTED_BUNDLE_PATHS.nestedModel)))
    : target
  if (modelPath === undefined) {
    const names = `${model} or ${NESTED_BUNDLE_PATHS.nestedModel}`
    throw new ModelLoaderError('MODEL_NOT_FOUND', `No ${names} in ${dir}`)
  }
  const names = [labels, config, preprocessorConfig, features]
  const paths = await Promise.all(names.map(inBundle))
  if (check) {
    for (const [i, name] of [model, ...names].entries()) {
      const file = [modelPath, ...paths][i]
      if (file) await checkBundleFile(name, file, file)
    }
  }
  const [labelsPath, configPath, preprocessorConfigPath, featuresPath] = paths
  const sumsFile = await inBundle(checksums)
  const sums = parseSha256Sums(sumsFile ? await readFile(sumsFile, 'utf8') : '')
  const digest = await sha256File(modelPath)
  return {
    modelPath,
    labelsPath,
    configPath,
    preprocessorConfigPath,
    featuresPath,
    selfTestDir: await inBundle(NESTED_BUNDLE_PATHS.selfTest),
    name: path.basename(dir ?? target).replace(/\.onnx$/, ''),
    version: digest.slice(0, 12),
    sha256: digest,
    uri,
    downloadedBytes: 0,
    origin: 'local',
    verifiedBy: verifyDigests(modelPath, { sha256: digest }, expectedChecks(model, sums, sha256)),
    release: () => Promise.resolve(),
  }
}
