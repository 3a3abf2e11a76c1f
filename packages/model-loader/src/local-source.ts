/** A model file or bundle directory on local disk, used in place (no copy). */
import { access, stat } from 'node:fs/promises'
import path from 'node:path'
import { BUNDLE_FILES } from './bundle.js'
import type { ModelBundle } from './bundle.js'
import { ModelLoaderError } from './errors.js'
import { sha256File } from './hash-file.js'

const present = (file: string): Promise<string | undefined> =>
  access(file).then(
    () => file,
    () => undefined
  )

/** Resolves a local `.onnx` file or a bundle directory; the version is the model's content hash. */
export async function loadLocal(target: string, uri: string): Promise<ModelBundle> {
  const info = await stat(target).catch((err: unknown) => {
    throw new ModelLoaderError('MODEL_NOT_FOUND', `No model at ${target}`, { cause: err })
  })
  const dir = info.isDirectory() ? target : undefined
  const modelPath = dir ? path.join(dir, BUNDLE_FILES.model) : target
  if (dir && !(await present(modelPath))) {
    throw new ModelLoaderError('MODEL_NOT_FOUND', `No ${BUNDLE_FILES.model} in ${dir}`)
  }
  const sha256 = await sha256File(modelPath)
  return {
    modelPath,
    labelsPath: dir ? await present(path.join(dir, BUNDLE_FILES.labels)) : undefined,
    configPath: dir ? await present(path.join(dir, BUNDLE_FILES.config)) : undefined,
    name: path.basename(dir ?? target).replace(/\.onnx$/, ''),
    version: sha256.slice(0, 12),
    sha256,
    uri,
    downloadedBytes: 0,
  }
}
