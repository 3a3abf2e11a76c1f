// Child process for the cross-process tests: runs loadModel from src (Node type stripping, with a
// hook mapping the `.js` import specifiers to the `.ts` files), prints the bundle as JSON.
// argv: <uri> <cacheDir> [partSizeBytes]. S3 settings come from the
// environment (default chain).
import { registerHooks } from 'node:module'

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context)
    } catch (err) {
      if (!specifier.startsWith('.') || !specifier.endsWith('.js')) throw err
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context)
    }
  },
})

const { loadModel } = await import('../load-model.js')
const [uri, cacheDir, partSize] = process.argv.slice(2)
const bundle = await loadModel({
  uri,
  cacheDir: cacheDir ?? '',
  partSizeBytes: partSize ? Number(partSize) : undefined,
  retryBaseDelayMs: 20,
  logger: {
    info: (fields, msg) => process.stderr.write(`${JSON.stringify({ msg, ...fields })}\n`),
    warn: (fields, msg) => process.stderr.write(`${JSON.stringify({ msg, ...fields })}\n`),
  },
})
const { modelPath, sha256, version, origin, downloadedBytes } = bundle
process.stdout.write(JSON.stringify({ modelPath, sha256, version, origin, downloadedBytes }))
