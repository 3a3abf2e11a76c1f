/**
 * Model URI -> warmed-up tabular model: fetch the bundle (model.onnx, features.json, labels.txt,
 * optional config.json with name/version), expose a ZipMap's probability tensor, open it.
 */
import { readFile } from 'node:fs/promises'
import { exposeZipMapInputs, loadModel } from '@resnet/model-loader'
import type { ModelBundle } from '@resnet/model-loader'
import { createTabularModel, parseFeatures, parseLabels } from '@resnet/server'
import type { InferenceModel } from '@resnet/server'
import type { Logger } from 'pino'
import type { Config } from './config.js'

const readJson = async (file: string): Promise<unknown> =>
  JSON.parse(await readFile(file, 'utf8')) as unknown

const stringField = (json: unknown, key: string): string | undefined => {
  const value = (json as Record<string, unknown> | undefined)?.[key]
  return typeof value === 'string' && value.length > 0 ? value : undefined
}

/** Opens a fetched bundle; a bundle without features.json is refused (nothing names the columns). */
export async function openTabularBundle(
  bundle: ModelBundle,
  config: Config,
  logger: Logger
): Promise<InferenceModel> {
  if (bundle.featuresPath === undefined) {
    throw new Error(
      `${bundle.uri} has no features.json: a tabular bundle names its input columns, in order ` +
        '({"features": [{"name": "age", "min": 0, "max": 120}, ...]}); see apps/catboost/README.md'
    )
  }
  const features = parseFeatures(await readJson(bundle.featuresPath))
  const labels =
    bundle.labelsPath === undefined ? [] : parseLabels(await readFile(bundle.labelsPath, 'utf8'))
  const settings = bundle.configPath === undefined ? undefined : await readJson(bundle.configPath)
  const { model: modelBytes, replaced } = exposeZipMapInputs(await readFile(bundle.modelPath))
  if (replaced.length > 0) {
    logger.info({ replaced }, 'ZipMap removed at load: serving its probability tensor instead')
  }
  return createTabularModel({
    modelPath: bundle.modelPath,
    modelBytes: replaced.length > 0 ? modelBytes : undefined,
    features,
    labels,
    identity: {
      name: stringField(settings, 'name') ?? bundle.name,
      version: stringField(settings, 'version') ?? bundle.version,
      sha256: bundle.sha256,
    },
    maxRowsPerRequest: config.MAX_ROWS_PER_REQUEST,
    threads: config.INFERENCE_THREADS,
    niceness: config.INFERENCE_NICENESS,
  })
}

/** Fetches and opens the model named by the config; throws on any failure (the caller exits). */
export async function loadTabularModel(config: Config, logger: Logger): Promise<InferenceModel> {
  const bundle = await loadModel({ uri: config.MODEL_URI, cacheDir: config.MODEL_CACHE_DIR })
  const { uri, version, sha256, downloadedBytes } = bundle
  logger.info({ uri, version, sha256, downloadedBytes }, 'model files ready')
  const model = await openTabularBundle(bundle, config, logger)
  logger.info({ model: model.info, features: model.input.describe() }, 'model ready to serve')
  return model
}
