#!/usr/bin/env node
// `pnpm bench`: builds, runs every workspace's `bench` script one at a time (benchmarks must not
// share the two cores), then joins their Markdown sections into .artifacts/bench/REPORT.md.
// Each bench writes .artifacts/bench/<name>.md and <name>.json at the repository root.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureSystemNeeds } from './system-needs.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = path.join(root, '.artifacts', 'bench')
// a filtered run (`pnpm bench --filter=x`) keeps the other workspaces' sections
if (process.argv.length <= 2) rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
ensureSystemNeeds('pnpm bench') // the preprocessing bench compares with Pillow

const run = spawnSync(
  'pnpm',
  [
    'exec',
    'turbo',
    'run',
    'bench',
    '--concurrency=1',
    '--output-logs=full',
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, BENCH_OUT_DIR: out } }
)

const sections = readdirSync(out)
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((f) => readFileSync(path.join(out, f), 'utf8').trim())
const header = [
  '# Benchmark report',
  '',
  `${new Date().toISOString()} · ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()} · ` +
    `Node ${process.version} · ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
  '',
  'A shared, noisy machine: compare the ratios measured side by side in this run, not absolute numbers.',
]
writeFileSync(path.join(out, 'REPORT.md'), [...header, '', ...sections].join('\n\n') + '\n')
console.log(
  `\nreport: ${path.relative(root, path.join(out, 'REPORT.md'))} (${sections.length} sections)`
)
process.exit(run.status ?? 1)
