import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { BATCH_NODE_FLAGS, NODE_FLAGS } from './launch.js'

const file = (name: string): Promise<string> =>
  readFile(new URL(`../${name}`, import.meta.url), 'utf8')

describe('the launch flags', () => {
  it("are the Dockerfile's CMD", async () => {
    const cmd = /^CMD (\[.*\])$/m.exec(await file('Dockerfile'))?.[1]
    expect(JSON.parse(cmd ?? 'null')).toEqual(['node', ...NODE_FLAGS, 'dist/main.js'])
  })

  it('are the "start" script', async () => {
    const pkg = JSON.parse(await file('package.json')) as { scripts: { start: string } }
    expect(pkg.scripts.start).toBe(['node', ...NODE_FLAGS, 'dist/main.js'].join(' '))
  })

  it('are, with the batch ones, the "batch" script and the batch command infra deploys', async () => {
    const pkg = JSON.parse(await file('package.json')) as { scripts: { batch: string } }
    expect(pkg.scripts.batch).toMatch(
      new RegExp(`&& ${['node', ...BATCH_NODE_FLAGS, 'dist/batch.js'].join(' ')}$`)
    )
    // infra is a package apart (it does not import the app): its copy of the command must agree
    const task = await file('../../infra/lib/batch-task.ts')
    const command = /BATCH_COMMAND: readonly string\[\] = (\[[^\]]*\])/.exec(task)?.[1]
    expect(JSON.parse((command ?? 'null').replaceAll("'", '"').replace(/,\s*\]$/, ']'))).toEqual([
      'node',
      ...BATCH_NODE_FLAGS,
      'dist/batch.js',
    ])
  })
})
