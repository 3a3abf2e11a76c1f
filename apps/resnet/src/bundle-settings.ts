/**
 * A fetched bundle's settings, read by its layout: ours (config.json with `input`/`output`,
 * labels.txt) or a Hugging Face / Optimum / Transformers.js export, recognised by its files: a
 * preprocessor_config.json, or a config.json holding `id2label` (see README, "Hugging Face").
 */
import { readFile } from 'node:fs/promises'
import type { ModelBundle } from '@resnet/model-loader'
import { configFromImageProcessor, labelsFromId2Label, parseModelConfig } from '@resnet/preprocess'
import type { DeclaredInput, ModelConfig } from '@resnet/preprocess'
import { parseLabels } from '@resnet/server'

/** Which layout a bundle was read as. */
export type BundleLayout = 'native' | 'hugging-face'

/** What the server needs from a bundle besides the model file. */
export interface BundleSettings {
  readonly layout: BundleLayout
  /** The effective config, completed from the model's declared input. */
  readonly config: (declared: DeclaredInput) => ModelConfig
  readonly labels: readonly string[]
  readonly name: string | undefined
  readonly version: string | undefined
}

const readJson = async (file: string | undefined): Promise<unknown> =>
  file === undefined ? undefined : (JSON.parse(await readFile(file, 'utf8')) as unknown)

const stringField = (json: unknown, key: string): string | undefined => {
  const value = (json as Record<string, unknown> | undefined)?.[key]
  return typeof value === 'string' && value.length > 0 ? value : undefined
}

/** Reads the bundle's config and labels as its layout says. */
export async function readBundleSettings(bundle: ModelBundle): Promise<BundleSettings> {
  const config = await readJson(bundle.configPath)
  const labelsFile =
    bundle.labelsPath === undefined ? [] : parseLabels(await readFile(bundle.labelsPath, 'utf8'))
  const hfLabels = labelsFromId2Label(config)
  if (bundle.preprocessorConfigPath === undefined && hfLabels === undefined) {
    return {
      layout: 'native',
      config: (declared) => parseModelConfig(config, { declared }),
      labels: labelsFile,
      name: stringField(config, 'name'),
      version: stringField(config, 'version'),
    }
  }
  const processor = configFromImageProcessor(await readJson(bundle.preprocessorConfigPath))
  return {
    layout: 'hugging-face',
    config: (declared) =>
      parseModelConfig(processor, { declared, source: 'preprocessor_config.json' }),
    labels: hfLabels ?? labelsFile,
    name: undefined,
    version: undefined,
  }
}
