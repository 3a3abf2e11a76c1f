/**
 * `pnpm --filter resnet model:check <uri> [images...]`: prints the effective preprocessing of a
 * bundle (and where each value came from), runs the images through the serving path, prints
 * their top-5 and writes them with `expected.json` as the bundle's self-test: into the bundle's
 * `selftest/` for a local directory, else into `./selftest/`.
 */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { inProcessDecoder } from '@resnet/server'
import { writeSelfTest } from './bundle-self-test.js'
import { loadConfig } from './config.js'
import { describeConfig } from './describe-config.js'
import { fetchBundle, openModel } from './load-serving-model.js'

const [uri, ...images] = process.argv.slice(2)
if (uri === undefined || uri.startsWith('-')) {
  process.stderr.write('usage: pnpm --filter resnet model:check <model uri> [images...]\n')
  process.exit(2)
}

const config = loadConfig({ ...process.env, MODEL_URI: uri })
const bundle = await fetchBundle(config)
const model = await openModel(bundle, config)
try {
  const out = (s: string): boolean => process.stdout.write(`${s}\n`)
  out(`model ${model.info.name} ${model.info.version} (sha256 ${model.info.sha256})`)
  out(
    `input "${model.info.inputName}", output "${model.info.outputName}", ${model.info.classes} classes`
  )
  out(`fixed batch size: ${model.info.fixedBatchSize ?? 'none (dynamic)'}`)
  out('effective preprocessing (value and source):')
  for (const [key, value] of Object.entries(describeConfig(model.config)))
    out(`  ${key} = ${value}`)
  if (images.length > 0) {
    const local = await stat(uri).then(
      (s) => s.isDirectory(),
      () => false
    )
    const outDir = path.resolve(local ? path.join(uri, 'selftest') : 'selftest')
    const written = await writeSelfTest(model, images, outDir, inProcessDecoder)
    for (const [name, { top }] of Object.entries(written.images)) {
      out(`${name}: ${top.map((p) => `${p.label} (${p.index}) ${p.score.toFixed(4)}`).join(', ')}`)
    }
    out(`wrote ${path.join(outDir, 'expected.json')} and ${images.length} images`)
  }
} finally {
  await model.close()
  await bundle.release()
}
