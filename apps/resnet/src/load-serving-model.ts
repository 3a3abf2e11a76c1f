/** Model URI -> warmed-up ImageModel: fetch the bundle, read its config and labels, open it. */
import type { S3Client } from '@aws-sdk/client-s3'
import { DEMO_MODEL_URI, loadModel } from '@resnet/model-loader'
import type { ModelBundle } from '@resnet/model-loader'
import { createOnnxModel } from '@resnet/server'
import type { ImageDecoder, ImageModel } from '@resnet/server'
import type { Logger } from 'pino'
import { runBundleSelfTest } from './bundle-self-test.js'
import { readBundleSettings } from './bundle-settings.js'
import type { Config } from './config.js'
import { DEFAULT_MODEL_DIR } from './default-model.js'
import { describeConfig } from './describe-config.js'

/** Says which model serves when MODEL_URI names none of the user's own, loudly for the demo. */
function announceBuiltIn(config: Config, bundle: ModelBundle, logger: Logger): void {
  if (bundle.uri === DEMO_MODEL_URI) {
    logger.warn(
      `MODEL_URI=${DEMO_MODEL_URI}: serving the generated DEMO ResNet-50 with random weights. ` +
        'Its predictions are MEANINGLESS (it is there for performance work). To serve a real ' +
        'model, set MODEL_URI=s3://bucket/prefix/ (or a local path); see README.md.'
    )
  } else if (config.MODEL_URI === undefined) {
    logger.info(
      { dir: DEFAULT_MODEL_DIR },
      'MODEL_URI is not set: serving the bundled MobileNetV2 int8 (ImageNet-1k). To serve your ' +
        'own model, set MODEL_URI=s3://bucket/prefix/ (or a local path); see README.md.'
    )
  }
}

/** A loaded model and the bundle it came from (to tell a new version from the same one). */
export interface LoadedModel {
  readonly model: ImageModel
  readonly bundle: ModelBundle
}

/** Fetches the bundle named by the config: cheap (HEAD/List only) when the cache is current. */
export function fetchBundle(config: Config, s3Client?: S3Client): Promise<ModelBundle> {
  return loadModel({
    uri: config.MODEL_URI ?? DEFAULT_MODEL_DIR,
    cacheDir: config.MODEL_CACHE_DIR,
    ...(s3Client ? { s3Client } : {}),
  })
}

/** Opens a fetched bundle: reads its settings, creates the session and warms it up. */
export async function openModel(bundle: ModelBundle, config: Config): Promise<ImageModel> {
  const settings = await readBundleSettings(bundle)
  return createOnnxModel({
    modelPath: bundle.modelPath,
    config: settings.config,
    labels: settings.labels,
    identity: {
      name: settings.name ?? bundle.name,
      version: settings.version ?? bundle.version,
      sha256: bundle.sha256,
    },
    threads: config.INFERENCE_THREADS,
    niceness: config.INFERENCE_NICENESS,
  })
}

/**
 * Opens a fetched bundle (see `openModel`), logs its effective preprocessing and runs its
 * self-test through `decoder`; a model that fails it is closed and the error thrown.
 */
export async function openBundle(
  bundle: ModelBundle,
  config: Config,
  logger: Logger,
  decoder?: ImageDecoder
): Promise<ImageModel> {
  const started = performance.now()
  const model = await openModel(bundle, config)
  logger.info(
    { model: model.info, preprocessing: describeConfig(model.config) },
    'model loaded and warmed up; effective preprocessing (value and source)'
  )
  try {
    const images = await runBundleSelfTest(model, bundle, decoder)
    if (images > 0) logger.info({ images }, 'self-test passed')
  } catch (err) {
    await model.close()
    throw err
  }
  logger.info({ ms: Math.round(performance.now() - started) }, 'model ready to serve')
  return model
}

/** Loads and warms up the model named by the config; throws on any failure (the caller exits). */
export async function loadServingModel(
  config: Config,
  logger: Logger,
  decoder?: ImageDecoder
): Promise<LoadedModel> {
  const bundle = await fetchBundle(config)
  announceBuiltIn(config, bundle, logger)
  const { uri, version, sha256, downloadedBytes } = bundle
  logger.info({ uri, version, sha256, downloadedBytes }, 'model files ready')
  return { model: await openBundle(bundle, config, logger, decoder), bundle }
}
