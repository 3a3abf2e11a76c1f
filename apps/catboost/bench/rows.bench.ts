// The tabular app at saturation: rows/s and latency percentiles of the built server
// (dist/main.js, the real forest from scripts/breast-cancer-trees.py), driven by autocannon.
// BENCH_QUICK=1: 2 s phases (harness check, figures not meaningful). Writes .artifacts/bench/catboost.json.
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { breastCancerTreeBundle, startNodeApp, treeBundleAvailable } from '@resnet/test-support'
import autocannon from 'autocannon'

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const OUT = fileURLToPath(new URL('../../../.artifacts/bench/', import.meta.url))
const SECONDS = process.env.BENCH_QUICK ? 2 : 15

if (!treeBundleAvailable) {
  console.log('catboost bench: skipped: needs apt-get install python3-sklearn python3-onnx')
  process.exit(0)
}
const bundle = await breastCancerTreeBundle()
const named = (row: readonly number[]) =>
  Object.fromEntries(bundle.featureNames.map((name, i) => [name, row[i]]))
const app = await startNodeApp(MAIN, { MODEL_URI: bundle.dir, LOG_LEVEL: 'warn' })
await app.waitReady()

/** One closed-loop phase: `connections` clients sending `rows` rows per request. */
async function phase(rows: number, connections: number) {
  const instances = Array.from({ length: rows }, (_, i) =>
    named(bundle.expected.rows[i % bundle.expected.rows.length]!)
  )
  const result = await autocannon({
    url: `${app.url}/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances }),
    connections,
    duration: SECONDS,
  })
  const ok = result['2xx']
  return {
    rowsPerRequest: rows,
    connections,
    requestsPerSec: Math.round(ok / SECONDS),
    rowsPerSec: Math.round((ok * rows) / SECONDS),
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  }
}

try {
  await phase(1, 4) // warm-up
  const report = {
    cpus: (await import('node:os')).availableParallelism(),
    seconds: SECONDS,
    phases: [await phase(1, 32), await phase(32, 16), await phase(256, 8)],
  }
  console.table(report.phases)
  mkdirSync(OUT, { recursive: true })
  writeFileSync(`${OUT}catboost.json`, `${JSON.stringify(report, null, 2)}\n`)
} finally {
  await app.stop()
}
