// Child of download.bench.ts: a fresh process that loads the demo ResNet-50 (no URI) from
// `<cacheDir>` (argv[2]) the way the server does at start, and prints how long that took since
// the process started (Node's start and module loading included). Imports nothing else.
import { loadModel } from '@resnet/model-loader'

const bundle = await loadModel({ cacheDir: process.argv[2] ?? '' })
const sinceStartMs = performance.now() // performance's time origin is the process start
await bundle.release()
process.stdout.write(JSON.stringify({ sinceStartMs }))
