#!/usr/bin/env node
// `pnpm test`: runs every workspace's tests through turbo, then prints one summary line
// "N passed, N failed" from the vitest JSON reports (CI reads that line; vitest's own is per package).
// First it sets up what some suites need beyond Node and npm (scripts/system-needs.mjs).
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureSystemNeeds } from './system-needs.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const REPORT = 'test-results.json'

/** Workspace folders (apps/*, packages/*, tests/*, infra) that have a test script. */
function testedWorkspaces() {
  const dirs = ['apps', 'packages', 'tests'].flatMap((group) =>
    existsSync(path.join(root, group))
      ? readdirSync(path.join(root, group)).map((name) => path.join(group, name))
      : []
  )
  return [...dirs, 'infra'].filter((dir) => {
    const pkg = path.join(root, dir, 'package.json')
    return existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).scripts?.test
  })
}

ensureSystemNeeds()
const workspaces = testedWorkspaces()
for (const dir of workspaces) rmSync(path.join(root, dir, REPORT), { force: true })

const turbo = spawnSync(
  'pnpm',
  ['exec', 'turbo', 'run', 'test', '--continue', '--concurrency=1', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' }
)

let passed = 0
let failed = 0
let skipped = 0
for (const dir of workspaces) {
  const report = path.join(root, dir, REPORT)
  if (!existsSync(report)) {
    console.error(`no test report from ${dir}: counted as 1 failed`)
    failed += 1
    continue
  }
  const r = JSON.parse(readFileSync(report, 'utf8'))
  passed += r.numPassedTests
  failed += r.numFailedTests
  skipped += r.numPendingTests + r.numTodoTests
  // a suite that failed to load has no failed tests but is a failure
  failed += r.testResults.filter(
    (s) => s.status === 'failed' && s.assertionResults.length === 0
  ).length
}
const exitCode = turbo.status === 0 && failed === 0 && passed > 0 ? 0 : 1
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(exitCode)
